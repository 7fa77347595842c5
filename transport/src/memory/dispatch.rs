//! Queues' messages and their consumers, with no lock and no IO: [`Message`]
//! and [`Queue`], round-robin hand-out with a prefetch limit, ack and nack,
//! and what a lost connection does to its unacked messages. Handing a message
//! over goes through an [`Outlet`], so the state machine is tested without
//! channels. Nothing here knows exchanges, bindings or connections: the
//! broker's state (`state.rs`) owns the queues and passes in the ones an
//! operation needs, and dead-letters what a nack gives back.
//!
//! Each queue keeps a ring of the consumers that have room (`Queue::ready`),
//! so handing out a message costs O(1). A consumer leaves the ring when its
//! prefetch is used up or its outlet is full, and comes back when one of its
//! deliveries is settled or dropped.

use crate::Headers;
use bytes::Bytes;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

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
    ready: VecDeque<ConsumerId>,
    /// Where nacked messages go (an exchange); none: they are dropped.
    pub(super) dead_letter: Option<String>,
}

impl Queue {
    /// An empty queue with no consumers and no dead-letter exchange.
    pub(super) fn new(name: &str) -> Self {
        Self {
            name: Arc::from(name),
            messages: VecDeque::new(),
            ready: VecDeque::new(),
            dead_letter: None,
        }
    }
}

/// A connection to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct ConnId(pub(super) u64);

/// A consumer of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct ConsumerId(u64);

/// One delivery of a message; never reused, so a tag from a lost connection
/// matches nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Tag(u64);

/// A message handed to a consumer.
#[derive(Debug, Clone)]
pub(super) struct Handout {
    pub(super) consumer: ConsumerId,
    pub(super) tag: Tag,
    pub(super) payload: Bytes,
    pub(super) headers: Headers,
    pub(super) redelivered: bool,
}

/// What an outlet did with a hand-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Offer {
    /// The consumer has it.
    Taken,
    /// No room now; try again once one of its deliveries is settled or dropped.
    Full,
    /// The consumer is gone for good.
    Gone,
}

/// Where a consumer's deliveries go (a channel, in the transport).
pub(super) trait Outlet {
    /// Hands `handout` over without waiting.
    fn offer(&mut self, handout: Handout) -> Offer;
}

/// How a delivery ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Settle {
    /// Handled: forget it.
    Ack,
    /// Rejected: dead-letter it.
    Nack,
    /// Dropped without either: it stays unacked until its connection goes.
    Release,
}

/// What settling a delivery did.
#[derive(Debug)]
pub(super) enum Settled {
    /// The tag was no longer unacked (its connection was lost): nothing.
    Stale,
    /// Acked and forgotten, or released and still unacked.
    Done,
    /// Nacked and forgotten: the caller dead-letters it from `queue`.
    Rejected {
        queue: Arc<str>,
        payload: Bytes,
        headers: Headers,
    },
}

struct Consumer<O> {
    queue: Arc<str>,
    conn: ConnId,
    outlet: O,
    prefetch: usize,
    in_flight: usize,
    /// It is in its queue's ready ring.
    ready: bool,
}

struct Unacked {
    consumer: ConsumerId,
    conn: ConnId,
    queue: Arc<str>,
    payload: Bytes,
    headers: Headers,
}

/// All consumers of one broker and their unacked deliveries.
pub(super) struct Consumers<O> {
    by_id: HashMap<ConsumerId, Consumer<O>>,
    unacked: HashMap<Tag, Unacked>,
    next_consumer: u64,
    next_tag: u64,
    /// Outlets of removed consumers: dropped by the caller once it let go of
    /// the state (dropping a channel may drop deliveries, which call back).
    pub(super) removed: Vec<O>,
}

impl<O> Default for Consumers<O> {
    fn default() -> Self {
        Self {
            by_id: HashMap::new(),
            unacked: HashMap::new(),
            next_consumer: 0,
            next_tag: 0,
            removed: Vec::new(),
        }
    }
}

impl<O: Outlet> Consumers<O> {
    /// How many consumers `queue` has.
    pub(super) fn of_queue(&self, queue: &str) -> usize {
        self.by_id.values().filter(|c| &*c.queue == queue).count()
    }

    /// Hands out the messages of `queue` while it has some and a consumer has
    /// room, round-robin.
    pub(super) fn dispatch(&mut self, queue: &mut Queue) {
        while !queue.messages.is_empty() {
            let Some(id) = queue.ready.pop_front() else {
                break;
            };
            let Some(consumer) = self.by_id.get_mut(&id) else {
                continue; // removed since it was ready
            };
            consumer.ready = false;
            if consumer.in_flight >= consumer.prefetch {
                continue;
            }
            let Some(message) = queue.messages.pop_front() else {
                break;
            };
            self.next_tag += 1;
            let tag = Tag(self.next_tag);
            let handout = Handout {
                consumer: id,
                tag,
                payload: message.payload.clone(),
                headers: message.headers.clone(),
                redelivered: message.redelivered,
            };
            match consumer.outlet.offer(handout) {
                Offer::Taken => {
                    consumer.in_flight += 1;
                    if consumer.in_flight < consumer.prefetch {
                        consumer.ready = true;
                        queue.ready.push_back(id);
                    }
                    let unacked = Unacked {
                        consumer: id,
                        conn: consumer.conn,
                        queue: Arc::clone(&queue.name),
                        payload: message.payload,
                        headers: message.headers,
                    };
                    self.unacked.insert(tag, unacked);
                }
                Offer::Full => queue.messages.push_front(message),
                Offer::Gone => {
                    queue.messages.push_front(message);
                    self.remove(id);
                }
            }
        }
    }

    /// Starts a consumer of `queue` on `conn` with at most `prefetch` (at
    /// least 1) unacked deliveries, and hands it what it can.
    pub(super) fn consume(
        &mut self,
        conn: ConnId,
        queue: &mut Queue,
        prefetch: usize,
        outlet: O,
    ) -> ConsumerId {
        self.next_consumer += 1;
        let id = ConsumerId(self.next_consumer);
        let consumer = Consumer {
            queue: Arc::clone(&queue.name),
            conn,
            outlet,
            prefetch: prefetch.max(1),
            in_flight: 0,
            ready: false,
        };
        self.by_id.insert(id, consumer);
        self.make_ready(id, queue);
        self.dispatch(queue);
        id
    }

    /// Consumers of `queue` on `conn` take up to `prefetch` (at least 1)
    /// from now on, and get what they now have room for; how many there
    /// are.
    pub(super) fn set_prefetch(
        &mut self,
        conn: ConnId,
        queue: &mut Queue,
        prefetch: usize,
    ) -> usize {
        let mine: Vec<ConsumerId> = self
            .by_id
            .iter()
            .filter(|(_, c)| c.conn == conn && c.queue == queue.name)
            .map(|(id, _)| *id)
            .collect();
        for id in &mine {
            if let Some(c) = self.by_id.get_mut(id) {
                c.prefetch = prefetch.max(1);
            }
            self.make_ready(*id, queue);
        }
        self.dispatch(queue);
        mine.len()
    }

    /// Settles delivery `tag`; a nacked message is given back to be
    /// dead-lettered. Call [`Consumers::resume`] afterwards.
    pub(super) fn settle(&mut self, tag: Tag, how: Settle) -> Settled {
        if how == Settle::Release {
            if self.unacked.contains_key(&tag) {
                return Settled::Done;
            }
            return Settled::Stale;
        }
        let Some(u) = self.unacked.remove(&tag) else {
            return Settled::Stale;
        };
        if let Some(c) = self.by_id.get_mut(&u.consumer) {
            c.in_flight = c.in_flight.saturating_sub(1);
        }
        if how == Settle::Nack {
            return Settled::Rejected {
                queue: u.queue,
                payload: u.payload,
                headers: u.headers,
            };
        }
        Settled::Done
    }

    /// Lets `consumer` take more (after one of its deliveries was settled or
    /// dropped): back in its queue's ready ring if it has room, then hands
    /// out what that queue can.
    pub(super) fn resume(&mut self, consumer: ConsumerId, queues: &mut HashMap<String, Queue>) {
        if let Some(name) = self.queue_of(consumer) {
            if let Some(q) = queues.get_mut(&*name) {
                self.make_ready(consumer, q);
                self.dispatch(q);
            }
        }
    }

    /// Connection `conn` went away: its unacked messages go back to the front
    /// of their `queues`, in their order, marked redelivered. With `reopen`
    /// its consumers stay (a reconnection); without, they end.
    pub(super) fn drop_connection(
        &mut self,
        conn: ConnId,
        reopen: bool,
        queues: &mut HashMap<String, Queue>,
    ) {
        let mut tags: Vec<Tag> = self
            .unacked
            .iter()
            .filter(|(_, u)| u.conn == conn)
            .map(|(tag, _)| *tag)
            .collect();
        tags.sort_unstable();
        let mut touched = BTreeSet::new();
        for tag in tags.into_iter().rev() {
            let Some(u) = self.unacked.remove(&tag) else {
                continue;
            };
            if let Some(c) = self.by_id.get_mut(&u.consumer) {
                c.in_flight = c.in_flight.saturating_sub(1);
            }
            if let Some(q) = queues.get_mut(&*u.queue) {
                q.messages.push_front(Message {
                    payload: u.payload,
                    headers: u.headers,
                    redelivered: true,
                });
            }
            touched.insert(u.queue);
        }
        let mut own: Vec<(ConsumerId, Arc<str>)> = self
            .by_id
            .iter()
            .filter(|(_, c)| c.conn == conn)
            .map(|(id, c)| (*id, Arc::clone(&c.queue)))
            .collect();
        own.sort_unstable();
        for (id, name) in own {
            if !reopen {
                self.remove(id);
            } else if let Some(q) = queues.get_mut(&*name) {
                self.make_ready(id, q);
                touched.insert(name);
            }
        }
        for name in touched {
            if let Some(q) = queues.get_mut(&*name) {
                self.dispatch(q);
            }
        }
    }

    /// Queue `queue` was deleted: its consumers go (their outlets end up in
    /// [`Consumers::removed`]) and its unacked deliveries are forgotten.
    pub(super) fn delete_queue(&mut self, queue: &str) {
        self.unacked.retain(|_, u| &*u.queue != queue);
        let mut gone: Vec<ConsumerId> = self
            .by_id
            .iter()
            .filter(|(_, c)| &*c.queue == queue)
            .map(|(id, _)| *id)
            .collect();
        gone.sort_unstable();
        for id in gone {
            self.remove(id);
        }
    }

    /// Unacked deliveries of all consumers.
    #[cfg(test)]
    pub(super) fn unacked(&self) -> usize {
        self.unacked.len()
    }

    /// Puts consumer `id` of `queue` in the ready ring if it has room.
    fn make_ready(&mut self, id: ConsumerId, queue: &mut Queue) {
        if let Some(c) = self.by_id.get_mut(&id) {
            if !c.ready && c.in_flight < c.prefetch {
                c.ready = true;
                queue.ready.push_back(id);
            }
        }
    }

    fn remove(&mut self, id: ConsumerId) {
        if let Some(c) = self.by_id.remove(&id) {
            self.removed.push(c.outlet);
        }
    }

    fn queue_of(&self, id: ConsumerId) -> Option<Arc<str>> {
        self.by_id.get(&id).map(|c| Arc::clone(&c.queue))
    }
}

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod tests;
