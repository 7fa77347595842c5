//! Applying a [`Link`] on the broker, and undoing it: queue bindings on AMQP,
//! `connectinport` / `disconnectinport` control messages on MQTT,
//! `setoutportdelivery` / `setinportdelivery` (and their `unset…`) for an
//! outport's or an edge's delivery mode. Used by the live coordinator and
//! by `msgflo-setup`. Failures are [`LinkError`]s.

use crate::bindings::Link;
use bytes::Bytes;
use msgflo_protocol::control::{
    self, Control, InportConnection, InportDelivery, OutportDelivery, PortRef, QueueRef,
};
use msgflo_protocol::ids::QueueName;
use msgflo_transport::{Transport, TransportError};
use std::time::Duration;

/// Why a link could not be made or undone.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The broker refused, or could not be reached (the transport's error
    /// names the operation and the queue).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A participant id that makes no control queue name.
    #[error("participant {participant}: no control queue: {reason}")]
    ControlQueue {
        /// The participant.
        participant: String,
        /// Why the name is not a queue name.
        reason: String,
    },
    /// The participant answered `connectinport` with an error.
    #[error("the participant {participant} refused connectinport: {reason}")]
    Refused {
        /// The participant.
        participant: String,
        /// What it said.
        reason: String,
    },
    /// A forward is kept by the running coordinator, not made once.
    #[error("forwarding is done by the running coordinator, not by a one-off link")]
    Forwarding,
}

/// A participant's control queue (`receive` or `send`) as a queue name.
fn control_queue(participant: &str, name: String) -> Result<QueueName, LinkError> {
    QueueName::new(name).map_err(|e| LinkError::ControlQueue {
        participant: participant.to_owned(),
        reason: e.to_string(),
    })
}

/// Makes `link` happen: binds the ends ([`Transport::bind`] declares an
/// end only if it is missing, so a queue or exchange a participant declared
/// its own way — msgflo-python's are not durable — is left as it is), or
/// tells the participant to take the outport's messages. `graph` goes into
/// control messages.
pub async fn apply(transport: &dyn Transport, link: &Link, graph: &str) -> Result<(), LinkError> {
    match link {
        Link::Bind { outport, inport } => Ok(transport.bind(outport, inport).await?),
        Link::ConnectInport {
            participant,
            outport,
            port,
        } => send_control(transport, participant.as_str(), outport, port, graph, true).await,
        Link::Forward { .. } => Err(LinkError::Forwarding),
        Link::OutportDelivery { .. } | Link::InportDelivery { .. } => {
            send_delivery(transport, link, graph, true).await
        }
    }
}

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
) -> Result<bool, LinkError> {
    let Link::ConnectInport { participant, .. } = link else {
        return apply(transport, link, graph).await.map(|()| true);
    };
    let participant = participant.as_str();
    let answers = control_queue(participant, control::send_queue(participant))?;
    let tap = transport.tap(&answers).await?;
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
) -> Result<bool, LinkError> {
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
                let participant = match link {
                    Link::ConnectInport { participant, .. } => participant.to_string(),
                    _ => String::new(),
                };
                return Err(LinkError::Refused {
                    participant,
                    reason: reason.to_owned(),
                });
            }
            _ => {}
        }
    }
}

/// Undoes [`apply`].
pub async fn undo(transport: &dyn Transport, link: &Link, graph: &str) -> Result<(), LinkError> {
    match link {
        Link::Bind { outport, inport } => Ok(transport.unbind(outport, inport).await?),
        Link::ConnectInport {
            participant,
            outport,
            port,
        } => send_control(transport, participant.as_str(), outport, port, graph, false).await,
        Link::Forward { .. } => Err(LinkError::Forwarding),
        Link::OutportDelivery { .. } | Link::InportDelivery { .. } => {
            send_delivery(transport, link, graph, false).await
        }
    }
}

/// Sends `set…delivery` (or `unset…delivery`) for a delivery link to its
/// participant's control queue, if it has one: a participant that takes no
/// control messages (msgflo-nodejs' on AMQP) declares none, and sending
/// would leave a queue behind that nobody reads; it keeps its own mode.
async fn send_delivery(
    transport: &dyn Transport,
    link: &Link,
    graph: &str,
    set: bool,
) -> Result<(), LinkError> {
    let graph = Some(graph.to_owned());
    let port_ref = |port: &str| PortRef {
        port: port.to_owned(),
        index: None,
    };
    let (participant, mode, message) = match link {
        Link::OutportDelivery {
            participant,
            port,
            mode,
        } => {
            let request = OutportDelivery {
                src: port_ref(port),
                delivery: mode.to_string(),
                graph,
            };
            let message = match set {
                true => Control::SetOutportDelivery(request),
                false => Control::UnsetOutportDelivery(request),
            };
            (participant, mode, message)
        }
        Link::InportDelivery {
            participant,
            outport,
            port,
            mode,
        } => {
            let request = InportDelivery {
                src: QueueRef {
                    queue: outport.to_string(),
                    options: None,
                },
                tgt: port_ref(port),
                delivery: mode.to_string(),
                graph,
            };
            let message = match set {
                true => Control::SetInportDelivery(request),
                false => Control::UnsetInportDelivery(request),
            };
            (participant, mode, message)
        }
        _ => return Ok(()),
    };
    let participant = participant.as_str();
    let queue = control_queue(participant, control::receive_queue(participant))?;
    if !transport.inport_exists(&queue).await? {
        tracing::info!(
            participant,
            %mode,
            "the participant takes no control messages: it keeps its own delivery mode"
        );
        return Ok(());
    }
    tell(transport, &queue, &message).await
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
) -> Result<(), LinkError> {
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
    let queue = control_queue(participant, control::receive_queue(participant))?;
    tell(transport, &queue, &message).await
}

/// Puts `message` into a participant's control queue `queue`.
async fn tell(
    transport: &dyn Transport,
    queue: &QueueName,
    message: &Control,
) -> Result<(), LinkError> {
    Ok(transport
        .send_to_inport(queue, Bytes::from(message.encode()))
        .await?)
}
