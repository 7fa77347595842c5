//! [`MemoryTransport`]: one connection to an in-process [`Broker`], as a
//! [`Transport`]. Every call is one short step of the broker's state machine;
//! nothing here waits, so "confirmed" means "in the queue".

use super::broker::{Broker, ChannelOutlet};
use super::dispatch::ConnId;
use super::state::{Refusal, State};
use crate::{
    dead_letter_queue, discovery_queue, is_discovery, BrokerUrl, Consumer, Headers, QueueDepth,
    Result, Transport, TransportError, TAP_PREFIX,
};
use async_trait::async_trait;
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tracing::debug;

/// What [`dead_letter_queue`] puts before an inport's name: a queue named so
/// is a dead-letter queue and gets no dead-letter queue of its own.
const DEAD_PREFIX: &str = msgflo_protocol::queues::DEAD_LETTER_PREFIX;

/// The channel capacity standing in for "no limit" (prefetch 0, as in AMQP).
const NO_PREFETCH_LIMIT: usize = 1 << 16;

/// The unacked deliveries a consumer with `prefetch` may hold (0: no limit).
fn limit(prefetch: u16) -> usize {
    match prefetch {
        0 => NO_PREFETCH_LIMIT,
        n => usize::from(n),
    }
}

/// A connection to a memory broker. Dropping it closes it.
pub(super) struct MemoryTransport {
    url: BrokerUrl,
    broker: Arc<Broker>,
    client_id: String,
    conn: ConnId,
    closed: AtomicBool,
}

impl MemoryTransport {
    /// Opens a connection to `broker` for `client_id`.
    pub(super) fn open(url: BrokerUrl, broker: Arc<Broker>, client_id: String) -> Self {
        let conn = broker.with_state(|s| s.open(&client_id));
        debug!(broker = %broker.name(), %client_id, "connected to memory broker");
        Self {
            url,
            broker,
            client_id,
            conn,
            closed: AtomicBool::new(false),
        }
    }

    /// Runs one step of the broker for `operation` on `queue`, unless this
    /// connection is closed; a refusal becomes the error naming both.
    fn step<R>(
        &self,
        operation: &'static str,
        queue: &QueueName,
        f: impl FnOnce(&mut State<ChannelOutlet>) -> Result<R, Refusal>,
    ) -> Result<R> {
        if self.closed.load(Ordering::Acquire) {
            return Err(TransportError::Closed);
        }
        self.broker.with_state(f).map_err(|why| match why {
            Refusal::ConnectionClosed => TransportError::Closed,
            why => TransportError::Broker {
                operation,
                queue: queue.to_string(),
                reason: format!("{why} on {}", self.url),
            },
        })
    }

    /// Closes the connection once; later calls do nothing.
    fn shut(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.broker
                .with_state(|s| s.drop_connection(self.conn, false));
            debug!(broker = %self.broker.name(), client_id = %self.client_id, "closed");
        }
    }
}

#[async_trait]
impl Transport for MemoryTransport {
    fn broker(&self) -> &BrokerUrl {
        &self.url
    }

    fn capabilities(&self) -> crate::Capabilities {
        crate::Capabilities::QUEUES
    }

    fn is_connected(&self) -> bool {
        !self.closed.load(Ordering::Acquire)
    }

    fn reconnects(&self) -> u64 {
        self.broker.with_state(|s| s.reconnects(self.conn))
    }

    async fn declare_inport(&self, queue: &QueueName) -> Result<()> {
        self.step("declare inport", queue, |s| {
            declare_inport(s, queue);
            Ok(())
        })?;
        debug!(broker = %self.broker.name(), %queue, "declared inport");
        Ok(())
    }

    async fn declare_outport(&self, queue: &QueueName) -> Result<()> {
        self.step("declare outport", queue, |s| {
            s.declare_exchange(queue.as_str());
            Ok(())
        })?;
        debug!(broker = %self.broker.name(), %queue, "declared outport");
        Ok(())
    }

    async fn publish(&self, outport: &QueueName, payload: Bytes) -> Result<()> {
        self.publish_with(outport, payload, &Headers::new()).await
    }

    async fn publish_with(
        &self,
        outport: &QueueName,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<()> {
        let _copies = self.step("publish to", outport, |s| {
            s.publish_with(outport.as_str(), payload, headers)
        })?;
        Ok(())
    }

    async fn send_to_inport(&self, inport: &QueueName, payload: Bytes) -> Result<()> {
        self.send_to_inport_with(inport, payload, &Headers::new())
            .await
    }

    async fn send_to_inport_with(
        &self,
        inport: &QueueName,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<()> {
        self.step("send to", inport, |s| {
            declare_implicit(s, inport);
            s.send_with(inport.as_str(), payload, headers.clone())
        })
    }

    async fn consume(&self, inport: &QueueName, prefetch: u16) -> Result<Consumer> {
        let limit = limit(prefetch);
        // The prefetch limits it (`set_prefetch` may raise it).
        let (tx, rx) = mpsc::channel(NO_PREFETCH_LIMIT);
        let outlet = self.broker.outlet(tx);
        self.step("consume", inport, |s| {
            declare_implicit(s, inport);
            s.consume(self.conn, inport.as_str(), limit, outlet)
        })?;
        debug!(broker = %self.broker.name(), %inport, prefetch, "consuming");
        Ok(Consumer::new(inport.clone(), rx))
    }

    async fn set_prefetch(&self, inport: &QueueName, prefetch: u16) -> Result<()> {
        let limit = limit(prefetch);
        self.step("set the prefetch of", inport, |s| {
            s.set_prefetch(self.conn, inport.as_str(), limit)
        })
    }

    async fn inport_exists(&self, inport: &QueueName) -> Result<bool> {
        self.step("look for", inport, |s| {
            Ok(s.queues.contains_key(inport.as_str()))
        })
    }

    async fn inport_depths(&self, inports: &[QueueName]) -> Result<Vec<Option<QueueDepth>>> {
        let first = inports.first().cloned().unwrap_or_else(discovery_queue);
        self.step("count the messages of", &first, |s| {
            Ok(inports
                .iter()
                .map(|q| {
                    s.queues.get(q.as_str()).map(|queue| QueueDepth {
                        messages: queue.messages.len() as u64,
                        consumers: s.consumers.of_queue(q.as_str()) as u64,
                    })
                })
                .collect())
        })
    }

    /// Declares each end only if it is missing, then binds (as on AMQP).
    async fn bind(&self, outport: &QueueName, inport: &QueueName) -> Result<()> {
        self.step("bind", outport, |s| {
            if !s.has_exchange(outport.as_str()) {
                s.declare_exchange(outport.as_str());
            }
            if !s.queues.contains_key(inport.as_str()) {
                declare_inport(s, inport);
            }
            s.bind(outport.as_str(), inport.as_str())
        })?;
        debug!(broker = %self.broker.name(), %outport, %inport, "bound");
        Ok(())
    }

    async fn unbind(&self, outport: &QueueName, inport: &QueueName) -> Result<()> {
        self.step("unbind", outport, |s| {
            s.unbind(outport.as_str(), inport.as_str())
        })?;
        debug!(broker = %self.broker.name(), %outport, %inport, "unbound");
        Ok(())
    }

    async fn untap(&self, outport: &QueueName, tap: &QueueName) -> Result<()> {
        self.step("untap", tap, |s| {
            s.delete_queue(tap.as_str());
            Ok(())
        })?;
        debug!(broker = %self.broker.name(), %outport, %tap, "untapped");
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        self.shut();
        Ok(())
    }
}

/// Declares inport `queue` with its shape: the discovery queue plain, a
/// dead-letter queue without one of its own, any other with its exchange
/// and dead-letter queue.
fn declare_inport(s: &mut State<ChannelOutlet>, queue: &QueueName) {
    match queue.as_str() {
        name if is_discovery(name) => s.declare_queue(name, None),
        name if name.starts_with(DEAD_PREFIX) => s.declare_dead_letter(name),
        // A tap's private queue has no dead letters (as on AMQP).
        name if name.starts_with(TAP_PREFIX) => s.declare_queue(name, None),
        name => s.declare_inport(name, dead_letter_queue(queue).as_str()),
    }
}

/// Sending to or consuming the discovery queue declares it first, as a plain
/// queue (as the AMQP transport and msgflo-nodejs do), so a participant can
/// announce itself before any coordinator is there.
fn declare_implicit(s: &mut State<ChannelOutlet>, queue: &QueueName) {
    if is_discovery(queue.as_str()) {
        s.declare_queue(queue.as_str(), None);
    }
}

impl Drop for MemoryTransport {
    fn drop(&mut self) {
        self.shut();
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
