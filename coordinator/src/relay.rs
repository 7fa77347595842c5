//! Forwarding: an edge carried by the coordinator (or by `msgflo-setup
//! --forever`) rather than by the broker or the target participant. Used on
//! MQTT for participants that take no `connectinport` (msgflo-nodejs' and
//! msgflo-python's): every message of the source outport is passed on to
//! the target inport byte for byte, as msgflo's own forwarding does.

use msgflo_protocol::ids::QueueName;
use msgflo_transport::{Consumer, Delivery, Transport};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long an ack, or the send of one forwarded copy, may take before it
/// is given up (an unacked message comes back after a reconnect at worst).
pub(crate) const ACK_WAIT: Duration = Duration::from_secs(5);

/// Acks `delivery` within [`ACK_WAIT`]; a failure is logged (`what` names
/// the message) and otherwise ignored.
pub(crate) async fn ack(delivery: Delivery, what: &str) {
    match tokio::time::timeout(ACK_WAIT, delivery.ack()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%error, "ack of a {what} failed"),
        Err(_) => tracing::debug!("ack of a {what} took over {ACK_WAIT:?}; given up"),
    }
}

/// Taps `outport` and [`forward`]s its messages to `inport` (switched by
/// `active`): the forward's task, once the tap is in place.
pub(crate) async fn start(
    transport: Arc<dyn Transport>,
    outport: &QueueName,
    inport: QueueName,
    active: tokio::sync::watch::Receiver<bool>,
) -> Result<JoinHandle<()>, msgflo_transport::TransportError> {
    let tap = transport.tap(outport).await?;
    Ok(forward(transport, inport, tap.consumer, active))
}

/// Passes every message of `consumer` (a tap on an outport) on to `inport`,
/// byte for byte and in order, acking it once the broker confirmed the
/// copy; while `active` is false, messages are acked and dropped. A copy
/// that cannot be sent (the broker refused, or did not confirm within
/// [`ACK_WAIT`]) is sent again after a pause (100 ms, doubling up to 5 s)
/// until it is, or the edge is switched off: a message left unacked would
/// come back only after a reconnection, so the edge would lose it until
/// then. At least once: a copy whose confirm was late may arrive twice.
pub(crate) fn forward(
    transport: Arc<dyn Transport>,
    inport: QueueName,
    mut consumer: Consumer,
    active: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(delivery) = consumer.next().await {
            let mut pause = Duration::from_millis(100);
            loop {
                if !*active.borrow() {
                    ack(delivery, "message of an edge no longer forwarded").await;
                    break;
                }
                let sent = tokio::time::timeout(
                    ACK_WAIT,
                    transport.send_to_inport(&inport, delivery.payload.clone()),
                )
                .await;
                match sent {
                    Ok(Ok(())) => {
                        ack(delivery, "forwarded message").await;
                        break;
                    }
                    Ok(Err(error)) => {
                        tracing::warn!(%inport, %error, "forwarding failed; sending again in {pause:?}")
                    }
                    Err(_) => tracing::warn!(
                        %inport,
                        "forwarding took over {ACK_WAIT:?}; sending again in {pause:?}"
                    ),
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use msgflo_transport::ConnectOptions;

    fn q(name: &str) -> QueueName {
        QueueName::new(name).expect("queue name")
    }

    /// A copy the broker refuses (its inport does not exist yet) is sent
    /// again until it is taken, in order, nothing lost.
    #[tokio::test(start_paused = true)]
    async fn a_refused_copy_is_sent_again_until_it_is_taken() {
        let broker = format!("memory://relay-{}", uuid::Uuid::new_v4().simple());
        let options = ConnectOptions {
            client_id: "relay".into(),
            ..ConnectOptions::default()
        };
        let t = msgflo_transport::connect(&broker, options)
            .await
            .expect("memory broker");
        let (outport, inport) = (q("a.OUT"), q("b.IN"));
        t.declare_outport(&outport).await.expect("outport");
        let tap = t.tap(&outport).await.expect("tap");
        let (_on, active) = tokio::sync::watch::channel(true);
        let relay = forward(t.clone(), inport.clone(), tap.consumer, active);
        for n in 0..3 {
            t.publish(&outport, Bytes::from(format!("{n}")))
                .await
                .expect("publish");
        }
        // Refused for a while: b.IN does not exist.
        tokio::time::sleep(Duration::from_secs(3)).await;
        t.declare_inport(&inport).await.expect("inport");
        let mut consumer = t.consume(&inport, 10).await.expect("consume");
        let mut got = Vec::new();
        for _ in 0..3 {
            let delivery = tokio::time::timeout(Duration::from_secs(30), consumer.next())
                .await
                .expect("forwarded in time")
                .expect("a delivery");
            got.push(String::from_utf8_lossy(&delivery.payload).into_owned());
            delivery.ack().await.expect("ack");
        }
        assert_eq!(got, ["0", "1", "2"]);
        relay.abort();
    }
}
