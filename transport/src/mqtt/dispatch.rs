//! Handing received messages to consumers: turns between the consumers of an
//! inport, the prefetch window, and messages that cannot be handed out yet.
//!
//! MQTT has no per-subscription prefetch: the broker sends a client as many
//! unacked QoS 1 messages as its in-flight limit allows (over MQTT 5 the
//! session's receive maximum; over 3.1.1 the broker's own, Mosquitto's
//! `max_inflight_messages`, 20 by default), across all subscriptions. So each
//! consumer gets at most `window` (its prefetch) unacked deliveries; messages
//! beyond that wait here, unacked. Messages whose topic no consumed inport
//! takes yet also wait (a resumed session sends its old messages right after
//! connecting, before `consume` is called again). Everything waiting is
//! unacked at the broker, so the broker's in-flight limit bounds it. Brokers
//! can send more (Mosquitto 2.0 sometimes sends a resumed session its whole
//! queue at once after a takeover), so a cap bounds memory: messages beyond
//! it are left unacked, and once the waiting ones drained to half the cap
//! [`Dispatch::needs_resync`] asks the driver to reconnect, so that the broker
//! sends the skipped ones again.
//!
//! QoS 0 messages (a transient binding's, `routes.rs`) are outside the
//! broker's in-flight limit and are never sent again: a fast transient edge
//! into a slow consumer could fill the cap. So they may only take half of it:
//! past that they are dropped (the broker's own choice for a QoS 0 message it
//! cannot deliver), said once per episode in the log, and the other half
//! stays for QoS 1 messages.
//!
//! A lost connection starts a new generation: what waits here is dropped (the
//! broker sends unacked messages again) and windows start empty.

use super::super::Delivery;
use super::wire::Message;
use msgflo_protocol::ids::QueueName;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;
use tokio::sync::mpsc::{error::TrySendError, Sender};
use tracing::warn;

/// Most messages held back at once (backlogs and unrouted together).
const MAX_HELD: usize = 100_000;

/// Who a delivery is for: what its acker needs to know.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target<'a> {
    pub inport: &'a QueueName,
    pub consumer: u64,
    pub generation: u64,
}

/// Builds a delivery (with its acker) for a message; `None` when the
/// transport is going away.
pub(super) trait MakeDelivery: FnMut(&Message, Target<'_>) -> Option<Delivery> {}
impl<F: FnMut(&Message, Target<'_>) -> Option<Delivery>> MakeDelivery for F {}

/// The consumers of this process and the messages waiting for them.
#[derive(Debug)]
pub(super) struct Dispatch {
    generation: u64,
    next_id: u64,
    inports: HashMap<QueueName, Inport>,
    /// Consumer id -> its inport.
    owners: HashMap<u64, QueueName>,
    /// Messages whose topic no consumed inport takes (yet), oldest first, with
    /// when they arrived.
    unrouted: VecDeque<(Instant, Message)>,
    held: usize,
    cap: usize,
    /// Messages were skipped at the cap in this generation.
    overflowed: bool,
    /// QoS 0 messages dropped at half the cap since one was last taken.
    dropping: u64,
}

impl Default for Dispatch {
    fn default() -> Self {
        Self::with_cap(MAX_HELD)
    }
}

#[derive(Debug, Default)]
struct Inport {
    consumers: Consumers,
    backlog: VecDeque<Message>,
}

/// The consumers of one inport, taking turns.
#[derive(Debug, Default)]
struct Consumers {
    all: Vec<Local>,
    turn: usize,
}

#[derive(Debug)]
struct Local {
    id: u64,
    deliveries: Sender<Delivery>,
    window: usize,
    unacked: usize,
}

impl Dispatch {
    /// Holds at most `cap` messages back.
    pub fn with_cap(cap: usize) -> Self {
        Self {
            generation: 0,
            next_id: 0,
            inports: HashMap::new(),
            owners: HashMap::new(),
            unrouted: VecDeque::new(),
            held: 0,
            cap,
            overflowed: false,
            dropping: 0,
        }
    }

    /// Messages held back.
    pub fn held(&self) -> usize {
        self.held
    }

    /// A new consumer of `inport` with at most `window` unacked deliveries;
    /// returns its id. Call [`Dispatch::pump`] after.
    pub fn add_consumer(
        &mut self,
        inport: &QueueName,
        window: usize,
        deliveries: Sender<Delivery>,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.owners.insert(id, inport.clone());
        self.inports
            .entry(inport.clone())
            .or_default()
            .consumers
            .all
            .push(Local {
                id,
                deliveries,
                window: window.max(1),
                unacked: 0,
            });
        id
    }

    /// Every consumer of `inport` has at most `window` unacked deliveries
    /// from now on; `false` when none consumes it. Call [`Dispatch::pump`]
    /// after.
    pub fn set_window(&mut self, inport: &QueueName, window: usize) -> bool {
        let Some(state) = self.inports.get_mut(inport) else {
            return false;
        };
        for local in &mut state.consumers.all {
            local.window = window.max(1);
        }
        !state.consumers.all.is_empty()
    }

    /// A message for `inport` (`None`: no inport takes its topic yet).
    pub fn incoming(
        &mut self,
        inport: Option<&QueueName>,
        publish: Message,
        make: &mut impl MakeDelivery,
    ) {
        if publish.pkid == 0 && self.held >= self.cap / 2 {
            // QoS 0: nothing would send it again; dropped, not left unacked.
            if self.dropping == 0 {
                warn!(
                    held = self.held,
                    topic = %publish.topic,
                    "a transient (QoS 0) binding sends more than the consumers take; dropping its messages until they caught up"
                );
            }
            self.dropping += 1;
            return;
        }
        if publish.pkid == 0 && self.dropping > 0 {
            tracing::info!(
                dropped = self.dropping,
                "transient (QoS 0) messages flow again"
            );
            self.dropping = 0;
        }
        if self.held >= self.cap {
            // Left unacked: the broker sends it again after a reconnect.
            if !self.overflowed {
                warn!(
                    held = self.held,
                    topic = %publish.topic,
                    "the broker sends more than the consumers take; leaving the excess unacked until they caught up, then reconnecting to get it again"
                );
            }
            self.overflowed = true;
            return;
        }
        self.held += 1;
        match inport {
            None => self.unrouted.push_back((Instant::now(), publish)),
            Some(inport) => {
                self.inports
                    .entry(inport.clone())
                    .or_default()
                    .backlog
                    .push_back(publish);
                self.pump(inport, make);
            }
        }
    }

    /// Ends every consumer of `inport` (each yields what it was handed,
    /// then ends) and returns the messages that waited for them, to be
    /// acked and dropped. Acks of deliveries handed out before still count.
    pub fn remove_inport(&mut self, inport: &QueueName) -> VecDeque<Message> {
        let Some(state) = self.inports.remove(inport) else {
            return VecDeque::new();
        };
        self.held -= state.backlog.len();
        state.backlog
    }

    /// Takes the messages no inport took, to route them again.
    pub fn take_unrouted(&mut self) -> VecDeque<Message> {
        self.held -= self.unrouted.len();
        std::mem::take(&mut self.unrouted)
            .into_iter()
            .map(|(_, publish)| publish)
            .collect()
    }

    /// Takes the messages that arrived before `arrived_before` and still no
    /// inport takes: left over from subscriptions of an earlier run of a kept
    /// session. Unacked, each would hold one of the broker's in-flight slots
    /// for this client forever.
    pub fn expire_unrouted(&mut self, arrived_before: Instant) -> Vec<Message> {
        let mut expired = Vec::new();
        while self
            .unrouted
            .front()
            .is_some_and(|(arrived, _)| *arrived < arrived_before)
        {
            if let Some((_, publish)) = self.unrouted.pop_front() {
                expired.push(publish);
            }
        }
        self.held -= expired.len();
        expired
    }

    /// Consumer `consumer` acked a delivery of `generation`. Returns its
    /// inport (to pump) and whether the ack counts (same generation).
    pub fn acked(&mut self, consumer: u64, generation: u64) -> Option<(QueueName, bool)> {
        let inport = self.owners.get(&consumer)?.clone();
        let current = generation == self.generation;
        let local = self
            .inports
            .get_mut(&inport)
            .and_then(|i| i.consumers.all.iter_mut().find(|c| c.id == consumer));
        if let Some(local) = local.filter(|_| current) {
            local.unacked = local.unacked.saturating_sub(1);
        }
        Some((inport, current))
    }

    /// Hands waiting messages of `inport` to its consumers while their
    /// windows have room.
    pub fn pump(&mut self, inport: &QueueName, make: &mut impl MakeDelivery) {
        let generation = self.generation;
        let Some(state) = self.inports.get_mut(inport) else {
            return;
        };
        while let Some(publish) = state.backlog.front() {
            if !state.consumers.offer(publish, inport, generation, make) {
                break;
            }
            state.backlog.pop_front();
            self.held -= 1;
        }
    }

    /// Messages were skipped at the cap and the consumers caught up: time to
    /// reconnect so the broker sends the skipped ones again.
    pub fn needs_resync(&self) -> bool {
        self.overflowed && self.held <= self.cap / 2
    }

    /// The current connection generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The connection was lost: forget what waits (it comes again) and start
    /// every window empty.
    pub fn new_generation(&mut self) {
        self.generation += 1;
        // Acks of ended consumers' deliveries no longer count.
        let live: std::collections::HashSet<u64> = self
            .inports
            .values()
            .flat_map(|i| i.consumers.all.iter().map(|c| c.id))
            .collect();
        self.owners.retain(|id, _| live.contains(id));
        self.unrouted.clear();
        for state in self.inports.values_mut() {
            state.backlog.clear();
            for local in &mut state.consumers.all {
                local.unacked = 0;
            }
        }
        self.held = 0;
        self.overflowed = false;
    }
}

impl Consumers {
    /// Gives `publish` to the next consumer with room; false if none has.
    fn offer(
        &mut self,
        publish: &Message,
        inport: &QueueName,
        generation: u64,
        make: &mut impl MakeDelivery,
    ) -> bool {
        let mut tried = 0;
        while tried < self.all.len() {
            let k = self.turn % self.all.len();
            self.turn = self.turn.wrapping_add(1);
            let local = &mut self.all[k];
            if local.unacked >= local.window {
                tried += 1;
                continue;
            }
            let target = Target {
                inport,
                consumer: local.id,
                generation,
            };
            let Some(delivery) = make(publish, target) else {
                return false;
            };
            match local.deliveries.try_send(delivery) {
                Ok(()) => {
                    local.unacked += 1;
                    return true;
                }
                // Still holding deliveries of an older generation.
                Err(TrySendError::Full(_)) => tried += 1,
                // The consumer was dropped.
                Err(TrySendError::Closed(_)) => {
                    self.all.remove(k);
                }
            }
        }
        false
    }
}

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod tests;
