//! Applying a [`Link`] on the broker, and undoing it: queue bindings on AMQP,
//! `connectinport` / `disconnectinport` control messages on MQTT. Used by the
//! live coordinator and by `msgflo-setup`.

use crate::bindings::Link;
use bytes::Bytes;
use msgflo_participant::transport::Transport;
use msgflo_protocol::control::{self, Control, InportConnection, PortRef, QueueRef};
use msgflo_protocol::ids::QueueName;

/// Makes `link` happen: declares both ends and binds them, or tells the
/// participant to take the outport's messages. `graph` goes into control
/// messages.
pub async fn apply(transport: &dyn Transport, link: &Link, graph: &str) -> Result<(), String> {
    match link {
        Link::Bind { outport, inport } => {
            let declared = async {
                transport.declare_outport(outport).await?;
                transport.declare_inport(inport).await?;
                transport.bind(outport, inport).await
            };
            declared.await.map_err(|e| e.to_string())
        }
        Link::ConnectInport {
            participant,
            outport,
            port,
        } => send_control(transport, participant.as_str(), outport, port, graph, true).await,
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
