//! PUBACKs in the order the messages came: MQTT 3.1.1 requires it
//! (4.6.0-2), and some brokers (rumqttd) drop a client that acks out of order.
//! Consumers finish messages in any order (several inports, prefetch windows,
//! nacks that wait for a dead-letter publish), so a finished message's PUBACK
//! waits here until every message received before it is finished too.
//! A message never finished (a delivery dropped without ack or nack) holds
//! back every later PUBACK, and once the broker's in-flight window is full
//! the connection receives nothing more: [`AckOrder::held_back`] says so.
//!
//! Pure bookkeeping per connection: a lost connection starts afresh (the
//! broker sends the unacked messages again).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The oldest unfinished message, when finished ones wait behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HeldBack {
    /// Its sequence number on this connection (to say it once).
    pub seq: u64,
    /// Its packet id.
    pub pkid: u16,
    /// How long ago it came.
    pub waited: Duration,
    /// Finished messages whose PUBACKs wait for it.
    pub behind: usize,
}

/// QoS 1 messages of this connection, oldest first, not acked yet.
#[derive(Debug, Default)]
pub(super) struct AckOrder {
    /// Sequence number of the front of `pending`.
    head: u64,
    /// Packet id, whether it is finished, and when it came, in the order
    /// received.
    pending: VecDeque<(u16, bool, Instant)>,
    /// Packet id -> its sequence number.
    seq: HashMap<u16, u64>,
}

impl AckOrder {
    /// A QoS 1 message `pkid` came. A packet id that is still pending (the
    /// broker sent it again) keeps its first place.
    pub fn received(&mut self, pkid: u16) {
        self.received_at(pkid, Instant::now());
    }

    /// [`AckOrder::received`] at `now`.
    pub fn received_at(&mut self, pkid: u16, now: Instant) {
        if pkid == 0 || self.seq.contains_key(&pkid) {
            return;
        }
        let seq = self.head + self.pending.len() as u64;
        self.seq.insert(pkid, seq);
        self.pending.push_back((pkid, false, now));
    }

    /// The oldest message, if it came at least `longer_than` before `now`,
    /// is not finished, and finished ones wait behind it.
    pub fn held_back(&self, now: Instant, longer_than: Duration) -> Option<HeldBack> {
        let &(pkid, finished, at) = self.pending.front()?;
        let waited = now.saturating_duration_since(at);
        let behind = self.pending.iter().filter(|(_, done, _)| *done).count();
        (!finished && waited >= longer_than && behind > 0).then_some(HeldBack {
            seq: self.head,
            pkid,
            waited,
            behind,
        })
    }

    /// Message `pkid` is finished; returns the packet ids to PUBACK now, in
    /// order (none while an older message is unfinished). An unknown packet
    /// id (from before a reconnection) is ignored.
    pub fn finished(&mut self, pkid: u16) -> Vec<u16> {
        let Some(&seq) = self.seq.get(&pkid) else {
            return Vec::new();
        };
        let Some(slot) = usize::try_from(seq - self.head)
            .ok()
            .and_then(|i| self.pending.get_mut(i))
        else {
            return Vec::new();
        };
        slot.1 = true;
        let mut ready = Vec::new();
        while let Some(&(front, true, _)) = self.pending.front() {
            self.pending.pop_front();
            self.seq.remove(&front);
            self.head += 1;
            ready.push(front);
        }
        ready
    }

    /// Messages received and not acked yet.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The connection is gone: nothing of it can be acked any more.
    pub fn clear(&mut self) {
        self.head += self.pending.len() as u64;
        self.pending.clear();
        self.seq.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_wait_for_every_older_message() {
        let mut order = AckOrder::default();
        for pkid in [5, 6, 7, 8] {
            order.received(pkid);
        }
        assert!(order.finished(7).is_empty());
        assert!(order.finished(6).is_empty());
        assert_eq!(order.finished(5), [5, 6, 7]);
        assert_eq!(order.finished(8), [8]);
        assert_eq!(order.pending(), 0);
    }

    #[test]
    fn an_unfinished_message_holding_back_finished_ones_is_told() {
        let (mut order, t0) = (AckOrder::default(), Instant::now());
        let wait = Duration::from_secs(30);
        order.received_at(1, t0);
        order.received_at(2, t0 + Duration::from_secs(1));
        assert_eq!(order.held_back(t0 + wait, wait), None, "nothing waits");
        assert!(order.finished(2).is_empty());
        assert_eq!(order.held_back(t0 + wait / 2, wait), None, "not long");
        assert_eq!(
            order.held_back(t0 + wait, wait),
            Some(HeldBack {
                seq: 0,
                pkid: 1,
                waited: wait,
                behind: 1
            })
        );
        assert_eq!(order.finished(1), [1, 2]);
        assert_eq!(order.held_back(t0 + wait * 2, wait), None);
    }

    #[test]
    fn packet_ids_are_reused_after_their_ack() {
        let mut order = AckOrder::default();
        order.received(1);
        order.received(2);
        assert_eq!(order.finished(1), [1]);
        order.received(1);
        assert!(order.finished(1).is_empty(), "waits for 2");
        assert_eq!(order.finished(2), [2, 1]);
    }

    #[test]
    fn resent_unknown_and_qos0_packet_ids_change_nothing() {
        let mut order = AckOrder::default();
        order.received(3);
        order.received(3);
        order.received(0);
        assert_eq!(order.pending(), 1);
        assert!(order.finished(9).is_empty());
        assert!(order.finished(0).is_empty());
        assert_eq!(order.finished(3), [3]);
    }

    #[test]
    fn a_lost_connection_forgets_everything() {
        let mut order = AckOrder::default();
        order.received(1);
        order.received(2);
        order.clear();
        assert!(order.finished(1).is_empty());
        order.received(2);
        assert_eq!(order.finished(2), [2]);
    }
}
