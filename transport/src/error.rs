//! [`TransportError`]: what can go wrong talking to a broker.

use msgflo_protocol::ids::QueueName;

/// A transport operation failed. Messages are one line and name the broker,
/// queue or operation involved; passwords are never included.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The broker URL cannot be used.
    #[error("bad broker URL {url}: {reason}")]
    BadUrl {
        /// The URL, password hidden.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The first connection to the broker failed.
    #[error("cannot connect to {broker}: {reason}")]
    Connect {
        /// The broker, password hidden.
        broker: String,
        /// Why.
        reason: String,
    },
    /// The connection is down and did not come back in time.
    #[error("disconnected from {broker}: {what} gave up after {waited_ms} ms")]
    Disconnected {
        /// The broker, password hidden.
        broker: String,
        /// The operation that waited.
        what: String,
        /// How long it waited.
        waited_ms: u64,
    },
    /// The broker refused an operation.
    #[error("{operation} {queue} failed: {reason}")]
    Broker {
        /// What we tried (`declare inport`, `publish to`, `bind`, ...).
        operation: &'static str,
        /// The queue, exchange or topic.
        queue: String,
        /// What the broker said.
        reason: String,
    },
    /// The broker did not confirm a published message.
    #[error("broker did not confirm the message to {queue}")]
    NotConfirmed {
        /// Where it was published.
        queue: String,
    },
    /// The transport was closed.
    #[error("transport is closed")]
    Closed,
}

impl TransportError {
    /// A delivery mode per binding, asked of a broker that has none.
    pub fn no_binding_delivery(outport: &QueueName, inport: &QueueName) -> Self {
        TransportError::Broker {
            operation: "set the delivery mode of",
            queue: format!("{outport} -> {inport}"),
            reason: "this broker keeps no delivery mode per binding: a message's is set when it is published".into(),
        }
    }

    /// `set_prefetch` of an inport this connection does not consume.
    pub fn not_consumed(inport: &QueueName) -> Self {
        TransportError::Broker {
            operation: "set the prefetch of",
            queue: inport.to_string(),
            reason: "this connection does not consume it".into(),
        }
    }

    /// Trying again later may succeed (the connection may come back).
    pub fn is_recoverable(&self) -> bool {
        matches!(
            self,
            TransportError::Disconnected { .. } | TransportError::NotConfirmed { .. }
        )
    }
}
