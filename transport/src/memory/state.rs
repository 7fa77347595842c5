//! The broker's state, with no lock and no IO: exchanges, queues, bindings and
//! connections, and where a published message goes; nacked messages are
//! dead-lettered here. Queues, their messages and their consumers (hand-out,
//! acks, what a lost connection gives back) are in `dispatch.rs`: the
//! operations on consumers below pick the queues and pass them on.
//!
//! The names follow AMQP and msgflo's topology: an outport is a fanout
//! exchange; an inport is a queue with a same-named exchange bound to it, and
//! nacked messages go to its dead-letter exchange, which is bound to the queue
//! `dead-<inport>`.

use super::dispatch::{
    ConnId, ConsumerId, Consumers, Message, Outlet, Queue, Settle, Settled, Tag,
};
use crate::Headers;
use bytes::Bytes;
use std::collections::HashMap;
use std::fmt;

/// Why the broker refused an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// No exchange (outport) of this name was declared.
    NoExchange(String),
    /// No queue (inport) of this name was declared.
    NoQueue(String),
    /// The connection asking was closed.
    ConnectionClosed,
    /// The connection asking does not consume this queue.
    NotConsumed(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoExchange(name) => write!(f, "NOT_FOUND - no exchange {name:?}"),
            Refusal::NoQueue(name) => write!(f, "NOT_FOUND - no queue {name:?}"),
            Refusal::ConnectionClosed => f.write_str("the connection is closed"),
            Refusal::NotConsumed(name) => write!(f, "this connection does not consume {name:?}"),
        }
    }
}

/// A fanout exchange: the queues it copies every message into.
#[derive(Default)]
struct Exchange {
    queues: Vec<String>,
}

/// Everything one broker knows.
pub(super) struct State<O> {
    exchanges: HashMap<String, Exchange>,
    pub(super) queues: HashMap<String, Queue>,
    pub(super) consumers: Consumers<O>,
    /// Open connections and their client ids.
    pub(super) connections: HashMap<ConnId, String>,
    /// Open connections dropped and reopened ([`State::kill_client`]), how
    /// often each.
    reconnects: HashMap<ConnId, u64>,
    next_conn: u64,
}

impl<O> Default for State<O> {
    fn default() -> Self {
        Self {
            exchanges: HashMap::new(),
            queues: HashMap::new(),
            consumers: Consumers::default(),
            connections: HashMap::new(),
            reconnects: HashMap::new(),
            next_conn: 0,
        }
    }
}

impl<O: Outlet> State<O> {
    /// Opens a connection for `client_id`.
    pub(super) fn open(&mut self, client_id: &str) -> ConnId {
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.connections.insert(conn, client_id.to_owned());
        conn
    }

    /// The open connections of `client_id`.
    pub(super) fn connections_of(&self, client_id: &str) -> Vec<ConnId> {
        let mut conns: Vec<ConnId> = self
            .connections
            .iter()
            .filter(|(_, id)| id.as_str() == client_id)
            .map(|(conn, _)| *conn)
            .collect();
        conns.sort_unstable();
        conns
    }

    /// Whether exchange `name` was declared.
    pub(super) fn has_exchange(&self, name: &str) -> bool {
        self.exchanges.contains_key(name)
    }

    /// Declares a fanout exchange (idempotent).
    pub(super) fn declare_exchange(&mut self, name: &str) {
        self.exchanges.entry(name.to_owned()).or_default();
    }

    /// Declares a queue (idempotent; a dead-letter exchange given later is
    /// taken, one given earlier is kept).
    pub(super) fn declare_queue(&mut self, name: &str, dead_letter: Option<&str>) {
        let queue = self
            .queues
            .entry(name.to_owned())
            .or_insert_with(|| Queue::new(name));
        if queue.dead_letter.is_none() {
            queue.dead_letter = dead_letter.map(str::to_owned);
        }
    }

    /// Declares an inport as msgflo does on AMQP: the queue, a same-named
    /// exchange bound to it, and the dead-letter exchange and queue `dead`.
    pub(super) fn declare_inport(&mut self, queue: &str, dead: &str) {
        self.declare_dead_letter(dead);
        self.declare_exchange(queue);
        self.declare_queue(queue, Some(dead));
        self.bind_declared(queue, queue);
    }

    /// Declares a dead-letter queue: the queue and a same-named exchange bound
    /// to it, but no dead-letter exchange of its own.
    pub(super) fn declare_dead_letter(&mut self, name: &str) {
        self.declare_exchange(name);
        self.declare_queue(name, None);
        self.bind_declared(name, name);
    }

    /// Makes `exchange` copy its messages into `queue` (idempotent).
    pub(super) fn bind(&mut self, exchange: &str, queue: &str) -> Result<(), Refusal> {
        self.check(exchange, queue)?;
        self.bind_declared(exchange, queue);
        Ok(())
    }

    fn bind_declared(&mut self, exchange: &str, queue: &str) {
        if let Some(ex) = self.exchanges.get_mut(exchange) {
            if !ex.queues.iter().any(|q| q == queue) {
                ex.queues.push(queue.to_owned());
            }
        }
    }

    /// Removes a binding; one that does not exist is no error.
    pub(super) fn unbind(&mut self, exchange: &str, queue: &str) -> Result<(), Refusal> {
        self.check(exchange, queue)?;
        if let Some(ex) = self.exchanges.get_mut(exchange) {
            ex.queues.retain(|q| q != queue);
        }
        Ok(())
    }

    /// Removes every binding into `queue`.
    fn unbind_everywhere(&mut self, queue: &str) {
        for exchange in self.exchanges.values_mut() {
            exchange.queues.retain(|q| q != queue);
        }
    }

    fn check(&self, exchange: &str, queue: &str) -> Result<(), Refusal> {
        if !self.exchanges.contains_key(exchange) {
            return Err(Refusal::NoExchange(exchange.to_owned()));
        }
        if !self.queues.contains_key(queue) {
            return Err(Refusal::NoQueue(queue.to_owned()));
        }
        Ok(())
    }

    /// [`State::publish_with`] without headers.
    #[cfg(test)]
    pub(super) fn publish(&mut self, exchange: &str, payload: Bytes) -> Result<usize, Refusal> {
        self.publish_with(exchange, payload, &Headers::new())
    }

    /// Copies `payload` into every queue bound to `exchange` (none: it is
    /// dropped) and hands out what it can; returns the number of copies.
    pub(super) fn publish_with(
        &mut self,
        exchange: &str,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<usize, Refusal> {
        let State {
            exchanges,
            queues,
            consumers,
            ..
        } = self;
        let Some(ex) = exchanges.get(exchange) else {
            return Err(Refusal::NoExchange(exchange.to_owned()));
        };
        let mut copies = 0;
        for name in &ex.queues {
            if let Some(queue) = queues.get_mut(name) {
                queue.messages.push_back(Message {
                    payload: payload.clone(),
                    headers: headers.clone(),
                    redelivered: false,
                });
                consumers.dispatch(queue);
                copies += 1;
            }
        }
        Ok(copies)
    }

    /// [`State::send_with`] without headers.
    #[cfg(test)]
    pub(super) fn send(&mut self, queue: &str, payload: Bytes) -> Result<(), Refusal> {
        self.send_with(queue, payload, Headers::new())
    }

    /// Puts `payload` straight into `queue` and hands out what it can.
    pub(super) fn send_with(
        &mut self,
        queue: &str,
        payload: Bytes,
        headers: Headers,
    ) -> Result<(), Refusal> {
        let Some(q) = self.queues.get_mut(queue) else {
            return Err(Refusal::NoQueue(queue.to_owned()));
        };
        q.messages.push_back(Message {
            payload,
            headers,
            redelivered: false,
        });
        self.consumers.dispatch(q);
        Ok(())
    }

    /// Sends a rejected message of `queue` to its dead-letter exchange; like
    /// AMQP, drops it when there is none.
    pub(super) fn dead_letter(&mut self, queue: &str, payload: Bytes, headers: &Headers) {
        let target = self.queues.get(queue).and_then(|q| q.dead_letter.clone());
        if let Some(exchange) = target {
            // A dead-letter exchange that is gone drops the message, as in AMQP.
            let _ = self.publish_with(&exchange, payload, headers);
        }
    }

    /// Starts a consumer of `queue` on `conn` with at most `prefetch` (at
    /// least 1) unacked deliveries.
    pub(super) fn consume(
        &mut self,
        conn: ConnId,
        queue: &str,
        prefetch: usize,
        outlet: O,
    ) -> Result<ConsumerId, Refusal> {
        if !self.connections.contains_key(&conn) {
            return Err(Refusal::ConnectionClosed);
        }
        let Some(q) = self.queues.get_mut(queue) else {
            return Err(Refusal::NoQueue(queue.to_owned()));
        };
        Ok(self.consumers.consume(conn, q, prefetch, outlet))
    }

    /// Consumers of `queue` on `conn` take up to `prefetch` from now on.
    pub(super) fn set_prefetch(
        &mut self,
        conn: ConnId,
        queue: &str,
        prefetch: usize,
    ) -> Result<(), Refusal> {
        let Some(q) = self.queues.get_mut(queue) else {
            return Err(Refusal::NoQueue(queue.to_owned()));
        };
        match self.consumers.set_prefetch(conn, q, prefetch) {
            0 => Err(Refusal::NotConsumed(queue.to_owned())),
            _ => Ok(()),
        }
    }

    /// Settles delivery `tag` of `consumer` (a nack dead-letters it), then
    /// lets that consumer take more. Returns false when the tag is no longer
    /// unacked (its connection was lost): then nothing but the nudge happens.
    pub(super) fn settle(&mut self, tag: Tag, consumer: ConsumerId, how: Settle) -> bool {
        let live = match self.consumers.settle(tag, how) {
            Settled::Stale => false,
            Settled::Done => true,
            Settled::Rejected {
                queue,
                payload,
                headers,
            } => {
                self.dead_letter(&queue, payload, &headers);
                true
            }
        };
        self.consumers.resume(consumer, &mut self.queues);
        live
    }

    /// A connection went away: its unacked messages go back to the front of
    /// their queues, in their order, marked redelivered. With `reopen` it
    /// comes straight back with its consumers (a reconnection); without, it
    /// is closed and its consumers end.
    pub(super) fn drop_connection(&mut self, conn: ConnId, reopen: bool) {
        if !reopen {
            self.connections.remove(&conn);
            self.reconnects.remove(&conn);
        }
        self.consumers
            .drop_connection(conn, reopen, &mut self.queues);
    }

    /// Drops and reopens every connection of `client_id`, as a broker that
    /// closed them and saw them reconnect; returns how many there were.
    pub(super) fn kill_client(&mut self, client_id: &str) -> usize {
        let conns = self.connections_of(client_id);
        for conn in &conns {
            self.drop_connection(*conn, true);
            *self.reconnects.entry(*conn).or_default() += 1;
        }
        conns.len()
    }

    /// How often `conn` was dropped and reopened.
    pub(super) fn reconnects(&self, conn: ConnId) -> u64 {
        self.reconnects.get(&conn).copied().unwrap_or(0)
    }

    /// Deletes `queue` as AMQP's `queue.delete` does: its messages, its
    /// bindings and its consumers go (their outlets end up in
    /// [`Consumers::removed`]); deliveries still unacked are forgotten.
    /// Deleting a queue that does not exist is no error.
    pub(super) fn delete_queue(&mut self, queue: &str) {
        if self.queues.remove(queue).is_none() {
            return;
        }
        self.unbind_everywhere(queue);
        self.consumers.delete_queue(queue);
    }

    /// Unacked deliveries of all consumers.
    #[cfg(test)]
    pub(super) fn unacked(&self) -> usize {
        self.consumers.unacked()
    }

    /// How many messages wait in `queue` (not counting unacked ones).
    #[cfg(test)]
    pub(super) fn waiting(&self, queue: &str) -> Option<usize> {
        self.queues.get(queue).map(|q| q.messages.len())
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
