//! The memory transport: a broker inside this process with AMQP semantics, for
//! fast tests of participants and the coordinator without a real broker.
//!
//! Brokers are named: every connection to `memory://NAME` (`memory://` is
//! `default`) in this process reaches the same broker, which lives as long as
//! the process. Its topology is msgflo's on RabbitMQ:
//! - an outport is a fanout exchange; publishing to one with no bindings drops
//!   the message, publishing to one never declared is an error (AMQP's
//!   `NOT_FOUND`);
//! - an inport is a queue with a same-named exchange bound to it and a
//!   dead-letter queue `dead-<inport>`; sending to or consuming an inport never
//!   declared is an error too. As on the AMQP transport, an inport named
//!   `dead-…` gets no dead-letter queue of its own, and the discovery queue
//!   `fbp` is a plain queue, declared by the first send or consume;
//! - consumers of one queue take turns, each with at most `prefetch` unacked
//!   deliveries (0: no limit, as in AMQP); ack forgets a message, nack moves
//!   the same bytes to the dead-letter queue.
//!
//! When a connection goes away ([`Transport::close`], dropping the transport,
//! or [`kill_connection`]) its unacked messages go back to the front of their
//! queues, marked redelivered; settling a delivery from before does nothing.
//! After [`kill_connection`] the transport is reconnected at once: its
//! consumers keep their [`Consumer`](crate::Consumer) handles and
//! get the messages again. After `close` its consumers end (once they handed
//! out what was already in their channel) and every call fails with
//! [`TransportError::Closed`].
//!
//! # Layout
//! - this file — the registry of named brokers, [`connect`],
//!   [`kill_connection`].
//! - `state.rs` — the broker's state without locks or IO: exchanges,
//!   bindings, connections, routing a published message, dead-lettering;
//!   it owns the queues and hands them to `dispatch` (tests in
//!   `state_tests.rs`).
//! - `dispatch.rs` — queues' messages and their consumers: round-robin
//!   hand-out, prefetch, ack and nack, lost connections; it knows nothing of
//!   `state` (tests in `dispatch_tests.rs`).
//! - `broker.rs` — the state behind a mutex; hand-outs become
//!   [`Delivery`](crate::Delivery)s in a channel, with their acker.
//! - `connection.rs` — the [`Transport`] impl (tests in
//!   `connection_tests.rs`).

mod broker;
mod connection;
mod dispatch;
mod state;
#[cfg(test)]
mod testing;

use super::{BrokerUrl, ConnectOptions, Result, Transport, TransportError};
use broker::Broker;
use connection::MemoryTransport;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tracing::debug;

/// The brokers of this process, by name.
fn registry() -> &'static Mutex<HashMap<String, Arc<Broker>>> {
    static BROKERS: OnceLock<Mutex<HashMap<String, Arc<Broker>>>> = OnceLock::new();
    BROKERS.get_or_init(Mutex::default)
}

/// The broker named `name`, created on first use.
fn broker(name: &str) -> Arc<Broker> {
    let mut brokers = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let broker = brokers
        .entry(name.to_owned())
        .or_insert_with(|| Broker::new(name));
    Arc::clone(broker)
}

/// Connects to the memory broker named by `url` (its host).
pub async fn connect(url: BrokerUrl, options: ConnectOptions) -> Result<Arc<dyn Transport>> {
    let broker = broker(&url.host);
    Ok(Arc::new(MemoryTransport::open(
        url,
        broker,
        options.client_id,
    )))
}

/// Makes the memory broker `broker` drop the connections of `client_id`, as a
/// broker restart would (test hook). Their unacked messages are redelivered;
/// the transports reconnect at once and their consumers go on.
pub fn kill_connection(broker: &str, client_id: &str) -> Result<()> {
    let not_there = |reason: String| TransportError::Broker {
        operation: "kill connection",
        queue: format!("{broker}/{client_id}"),
        reason,
    };
    let found = {
        let brokers = registry().lock().unwrap_or_else(PoisonError::into_inner);
        brokers.get(broker).cloned()
    };
    let found = found.ok_or_else(|| not_there(format!("no memory broker named {broker:?}")))?;
    match found.with_state(|s| s.kill_client(client_id)) {
        0 => Err(not_there(format!(
            "no open connection with client id {client_id:?}"
        ))),
        n => {
            debug!(broker, client_id, connections = n, "killed connections");
            Ok(())
        }
    }
}
