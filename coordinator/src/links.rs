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
    let mut answers = transport
        .consume(&answers, 10)
        .await
        .map_err(|e| e.to_string())?;
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
