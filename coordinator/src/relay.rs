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

/// Passes every message of `consumer` (a tap on an outport) on to `inport`,
/// byte for byte, acking it once the broker confirmed the copy; while
/// `active` is false, messages are acked and dropped. A copy that cannot be
/// sent is left unacked (the broker sends it again after a reconnect).
pub(crate) fn forward(
    transport: Arc<dyn Transport>,
    inport: QueueName,
    mut consumer: Consumer,
    active: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(delivery) = consumer.next().await {
            if !*active.borrow() {
                ack(delivery, "message of an edge no longer forwarded").await;
                continue;
            }
            let sent = tokio::time::timeout(
                ACK_WAIT,
                transport.send_to_inport(&inport, delivery.payload.clone()),
            )
            .await;
            match sent {
                Ok(Ok(())) => ack(delivery, "forwarded message").await,
                Ok(Err(error)) => {
                    tracing::warn!(%inport, %error, "forwarding failed; left unacked")
                }
                Err(_) => {
                    tracing::warn!(%inport, "forwarding took over {ACK_WAIT:?}; left unacked")
                }
            }
        }
    })
}
