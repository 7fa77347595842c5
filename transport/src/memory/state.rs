//! The broker's state, with no lock and no IO: exchanges, queues, bindings and
//! connections, and where a published message goes. Handing messages to
//! consumers, acks and lost connections are in `dispatch.rs`.
//!
//! The names follow AMQP and msgflo's topology: an outport is a fanout
//! exchange; an inport is a queue with a same-named exchange bound to it, and
//! nacked messages go to its dead-letter exchange, which is bound to the queue
//! `dead-<inport>`.

use super::dispatch::{ConnId, ConsumerId, Consumers, Outlet};
use crate::Headers;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

/// Why the broker refused an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// No exchange (outport) of this name was declared.
    NoExchange(String),
    /// No queue (inport) of this name was declared.
    NoQueue(String),
    /// The connection asking was closed.
    ConnectionClosed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoExchange(name) => write!(f, "NOT_FOUND - no exchange {name:?}"),
            Refusal::NoQueue(name) => write!(f, "NOT_FOUND - no queue {name:?}"),
            Refusal::ConnectionClosed => f.write_str("the connection is closed"),
        }
    }
}

/// A message waiting in a queue.
#[derive(Debug, Clone)]
pub(super) struct Message {
    pub(super) payload: Bytes,
    pub(super) headers: Headers,
    /// It was handed out before and came back unacked.
    pub(super) redelivered: bool,
}

/// A queue: its messages, in order, and the consumers that may take one now.
pub(super) struct Queue {
    pub(super) name: Arc<str>,
    pub(super) messages: VecDeque<Message>,
    /// Consumers with room for another delivery, in round-robin order.
    pub(super) ready: VecDeque<ConsumerId>,
    /// Where nacked messages go (an exchange); none: they are dropped.
    dead_letter: Option<String>,
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
    next_conn: u64,
}

impl<O> Default for State<O> {
    fn default() -> Self {
        Self {
            exchanges: HashMap::new(),
            queues: HashMap::new(),
            consumers: Consumers::default(),
            connections: HashMap::new(),
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
        let queue = self.queues.entry(name.to_owned()).or_insert_with(|| Queue {
            name: Arc::from(name),
            messages: VecDeque::new(),
            ready: VecDeque::new(),
            dead_letter: None,
        });
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
    pub(super) fn unbind_everywhere(&mut self, queue: &str) {
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

    /// How many messages wait in `queue` (not counting unacked ones).
    #[cfg(test)]
    pub(super) fn waiting(&self, queue: &str) -> Option<usize> {
        self.queues.get(queue).map(|q| q.messages.len())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestOutlet;
    use super::*;

    fn state() -> State<TestOutlet> {
        State::default()
    }

    fn waiting(s: &State<TestOutlet>, queue: &str) -> Vec<Bytes> {
        let q = s.queues.get(queue).expect("queue exists");
        q.messages.iter().map(|m| m.payload.clone()).collect()
    }

    #[test]
    fn publish_copies_into_every_bound_queue_in_order() {
        let mut s = state();
        s.declare_exchange("out");
        s.declare_inport("a", "dead-a");
        s.declare_inport("b", "dead-b");
        s.bind("out", "a").unwrap();
        s.bind("out", "b").unwrap();
        s.bind("out", "b").unwrap();
        for p in ["1", "2"] {
            assert_eq!(s.publish("out", Bytes::from(p)).unwrap(), 2);
        }
        assert_eq!(waiting(&s, "a"), ["1", "2"]);
        assert_eq!(waiting(&s, "b"), ["1", "2"]);
    }

    #[test]
    fn copies_share_the_bytes() {
        let mut s = state();
        s.declare_exchange("out");
        s.declare_inport("a", "dead-a");
        s.bind("out", "a").unwrap();
        let payload = Bytes::from(vec![7u8; 64]);
        s.publish("out", payload.clone()).unwrap();
        assert_eq!(waiting(&s, "a")[0].as_ptr(), payload.as_ptr());
    }

    #[test]
    fn publish_without_bindings_drops_but_an_unknown_exchange_is_an_error() {
        let mut s = state();
        s.declare_exchange("out");
        assert_eq!(s.publish("out", Bytes::new()), Ok(0));
        assert_eq!(
            s.publish("nope", Bytes::new()),
            Err(Refusal::NoExchange("nope".into()))
        );
        assert_eq!(
            s.send("nope", Bytes::new()),
            Err(Refusal::NoQueue("nope".into()))
        );
    }

    #[test]
    fn an_inport_is_reachable_through_its_own_exchange_and_has_a_dead_letter_queue() {
        let mut s = state();
        s.declare_inport("in", "dead-in");
        s.publish("in", Bytes::from("via exchange")).unwrap();
        s.send("in", Bytes::from("direct")).unwrap();
        assert_eq!(waiting(&s, "in"), ["via exchange", "direct"]);
        s.dead_letter("in", Bytes::from("bad"), &Headers::new());
        assert_eq!(waiting(&s, "dead-in"), ["bad"]);
        // The dead-letter queue has no dead-letter exchange of its own.
        s.dead_letter("dead-in", Bytes::from("dropped"), &Headers::new());
        assert_eq!(waiting(&s, "dead-in"), ["bad"]);
    }

    #[test]
    fn declaring_again_keeps_messages_and_bindings() {
        let mut s = state();
        s.declare_exchange("out");
        s.declare_inport("in", "dead-in");
        s.bind("out", "in").unwrap();
        s.send("in", Bytes::from("kept")).unwrap();
        s.declare_exchange("out");
        s.declare_inport("in", "dead-in");
        s.publish("out", Bytes::from("bound")).unwrap();
        assert_eq!(waiting(&s, "in"), ["kept", "bound"]);
    }

    #[test]
    fn unbind_stops_copies_and_tolerates_a_missing_binding() {
        let mut s = state();
        s.declare_exchange("out");
        s.declare_inport("in", "dead-in");
        s.bind("out", "in").unwrap();
        s.unbind("out", "in").unwrap();
        s.unbind("out", "in").unwrap();
        assert_eq!(s.publish("out", Bytes::from("lost")), Ok(0));
        assert_eq!(s.waiting("in"), Some(0));
    }

    #[test]
    fn binding_needs_both_ends() {
        let mut s = state();
        s.declare_exchange("out");
        s.declare_inport("in", "dead-in");
        assert_eq!(
            s.bind("nope", "in"),
            Err(Refusal::NoExchange("nope".into()))
        );
        assert_eq!(s.bind("out", "nope"), Err(Refusal::NoQueue("nope".into())));
        assert_eq!(
            s.unbind("out", "nope"),
            Err(Refusal::NoQueue("nope".into()))
        );
        assert_eq!(
            Refusal::NoExchange("x".into()).to_string(),
            "NOT_FOUND - no exchange \"x\""
        );
    }

    #[test]
    fn connections_are_found_by_client_id() {
        let mut s = state();
        let a = s.open("a");
        let b = s.open("b");
        let a2 = s.open("a");
        assert_eq!(s.connections_of("a"), [a, a2]);
        assert_eq!(s.connections_of("b"), [b]);
        assert!(s.connections_of("c").is_empty());
    }
}
