//! The core's error types: [`OpError`], why an operation the executor
//! performed for the core failed, and [`PacketError`], why a client's
//! packet is refused.

use crate::bindings::PortError;
use crate::links::LinkError;
use msgflo_protocol::messages::PacketEvent;
use msgflo_transport::TransportError;
use serde_json::Value;
use std::time::Duration;

/// Why an operation failed: a link, unlink, tap or untap the executor
/// ([`crate::live`]) performed for an [`super::Action`], reported back in
/// [`super::Event::Done`]. The core logs it and tries again later.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Making or undoing a link failed ([`crate::links`]).
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The broker refused a tap, its ending or a forward, or could not be
    /// reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The operation took longer than it may (the executor's deadline).
    #[error("no answer within {within:?}")]
    NoAnswer {
        /// How long it was given.
        within: Duration,
    },
}

/// Why a client's `runtime:packet` is refused (`packets.rs`); its text is
/// the `runtime:error` the client is answered with.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    /// The packet names a graph the runtime does not have.
    #[error("Requested graph not found: {graph:?}")]
    NoGraph {
        /// The graph named.
        graph: String,
    },
    /// The graph exports no such inport.
    #[error("the graph has no inport {port:?}")]
    NoInport {
        /// The port named.
        port: String,
    },
    /// A `begingroup` / `endgroup` whose payload is no group name.
    #[error(
        "a {} payload is the group's name, a string or null; got {got}",
        event_name(.event)
    )]
    GroupName {
        /// `begingroup` or `endgroup`.
        event: PacketEvent,
        /// The payload.
        got: Value,
    },
    /// The exported inport's node has no queue.
    #[error(transparent)]
    Queue(#[from] PortError),
    /// The data could not be written as JSON.
    #[error(transparent)]
    Payload(#[from] serde_json::Error),
}

/// A packet event as the protocol names it.
fn event_name(event: &PacketEvent) -> &'static str {
    match event {
        PacketEvent::Connect => "connect",
        PacketEvent::Begingroup => "begingroup",
        PacketEvent::Data => "data",
        PacketEvent::Endgroup => "endgroup",
        PacketEvent::Disconnect => "disconnect",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_out_of_time_says_how_long_it_had() {
        let late = OpError::NoAnswer {
            within: Duration::from_secs(15),
        };
        assert_eq!(late.to_string(), "no answer within 15s");
    }
}
