//! Applying a [`Link`] on the broker, and undoing it: queue bindings on AMQP,
//! `connectinport` / `disconnectinport` control messages on MQTT. Used by the
//! live coordinator and by `msgflo-setup`.

use crate::bindings::Link;
use bytes::Bytes;
use msgflo_protocol::control::{self, Control, InportConnection, PortRef, QueueRef};
use msgflo_protocol::ids::QueueName;
use msgflo_transport::Transport;
use std::time::Duration;

/// Makes `link` happen: binds the ends ([`Transport::bind`] declares an
/// end only if it is missing, so a queue or exchange a participant declared
/// its own way — msgflo-python's are not durable — is left as it is), or
/// tells the participant to take the outport's messages. `graph` goes into
/// control messages.
pub async fn apply(transport: &dyn Transport, link: &Link, graph: &str) -> Result<(), String> {
    match link {
        Link::Bind { outport, inport } => transport
            .bind(outport, inport)
            .await
            .map_err(|e| e.to_string()),
        Link::ConnectInport {
            participant,
            outport,
            port,
        } => send_control(transport, participant.as_str(), outport, port, graph, true).await,
        Link::Forward { .. } => Err(FORWARDING.to_owned()),
    }
}

/// Why [`apply`] and [`undo`] do not forward: a running coordinator does.
const FORWARDING: &str = "forwarding is done by the running coordinator, not by a one-off link";

/// [`apply`], and for a control message also waits up to `wait` for the
/// participant's answer on its `.fbp.<id>.send` queue, so that once this
/// returns the participant takes the outport's messages (MQTT keeps none for
/// a topic nobody subscribes to yet). `Ok(false)`: no answer in time (a
/// participant that takes no control messages, such as msgflo-python's).
///
/// The answers are read through a tap that is ended before this returns,
/// and what it still held is acked: a participant answers every later
/// `connectinport` too (the coordinator says them again when a participant
/// announces itself again), and on MQTT an answer left unacked in a
/// subscription nobody reads would hold back the acks of every message
/// after it on the connection — the broker's in-flight window fills and
/// the connection receives nothing more (discovery, forwarded edges).
pub async fn apply_confirmed(
    transport: &dyn Transport,
    link: &Link,
    graph: &str,
    wait: Duration,
) -> Result<bool, String> {
    let Link::ConnectInport { participant, .. } = link else {
        return apply(transport, link, graph).await.map(|()| true);
    };
    let answers =
        QueueName::new(control::send_queue(participant.as_str())).map_err(|e| e.to_string())?;
    let tap = transport.tap(&answers).await.map_err(|e| e.to_string())?;
    let mut consumer = tap.consumer;
    let answered = confirm(transport, link, graph, wait, &mut consumer).await;
    match transport.untap(&answers, &tap.queue).await {
        // The consumer yields what it held, then ends.
        Ok(()) => {
            let deadline = tokio::time::Instant::now() + SETTLE;
            while let Ok(Some(held)) = tokio::time::timeout_at(deadline, consumer.next()).await {
                let _ = held.ack().await;
            }
        }
        Err(error) => tracing::debug!(%answers, %error, "ending the tap of answers failed"),
    }
    answered
}

/// How long the answers a finished [`apply_confirmed`] still held may take
/// to be acked.
const SETTLE: Duration = Duration::from_secs(5);

/// Applies `link` and waits up to `wait` for a `connectinport` answer (or
/// an error) on `answers`; every answer read is acked.
async fn confirm(
    transport: &dyn Transport,
    link: &Link,
    graph: &str,
    wait: Duration,
    answers: &mut msgflo_transport::Consumer,
) -> Result<bool, String> {
    apply(transport, link, graph).await?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let Ok(Some(answer)) = tokio::time::timeout_at(deadline, answers.next()).await else {
            return Ok(false);
        };
        let body: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap_or_default();
        let _ = answer.ack().await;
        match body["command"].as_str() {
            Some("connectinport") => return Ok(true),
            Some("error") => {
                let reason = body["payload"]["message"]
                    .as_str()
                    .unwrap_or("no reason given");
                return Err(format!("the participant refused connectinport: {reason}"));
            }
            _ => {}
        }
    }
}

/// Undoes [`apply`].
pub async fn undo(transport: &dyn Transport, link: &Link, graph: &str) -> Result<(), String> {
    match link {
        Link::Bind { outport, inport } => transport
            .unbind(outport, inport)
            .await
            .map_err(|e| e.to_string()),
        Link::ConnectInport {
            participant,
            outport,
            port,
        } => send_control(transport, participant.as_str(), outport, port, graph, false).await,
        Link::Forward { .. } => Err(FORWARDING.to_owned()),
    }
}

/// Sends `connectinport` (or `disconnectinport`) to a participant's control
/// queue.
async fn send_control(
    transport: &dyn Transport,
    participant: &str,
    outport: &QueueName,
    port: &str,
    graph: &str,
    connect: bool,
) -> Result<(), String> {
    let connection = InportConnection {
        src: QueueRef {
            queue: outport.to_string(),
            options: None,
        },
        tgt: PortRef {
            port: port.to_owned(),
            index: None,
        },
        metadata: None,
        graph: Some(graph.to_owned()),
    };
    let message = if connect {
        Control::ConnectInport(connection)
    } else {
        Control::DisconnectInport(connection)
    };
    let queue = QueueName::new(control::receive_queue(participant)).map_err(|e| e.to_string())?;
    transport
        .send_to_inport(&queue, Bytes::from(message.encode()))
        .await
        .map_err(|e| e.to_string())
}
