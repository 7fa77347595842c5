//! Packet-id bookkeeping: which of our requests a PUBACK, SUBACK or UNSUBACK
//! answers. Pure.
//!
//! rumqttc's `AsyncClient` queues a request without telling its packet id. The
//! event loop takes requests in order and reports each as it goes out
//! (`Outgoing::Publish(pkid)`, `Outgoing::Subscribe(pkid)`, ...), then the
//! broker's ack names the same pkid. So per kind of request: requests handed
//! to the client wait in a FIFO; the next "went out as pkid" event pairs the
//! oldest one with its pkid; the ack for that pkid completes it. Packet ids
//! are reused once acked, which is fine: an id is only in `inflight` between
//! going out and its ack.
//!
//! After a lost connection the driver takes every unconfirmed request back
//! ([`Confirms::drain`]) and sends it again as a new request (new pkid), so
//! rumqttc's own resending never has to be matched.

use std::collections::{HashMap, VecDeque};

/// Requests of one kind between "handed to the client" and "acked".
#[derive(Debug)]
pub(super) struct Confirms<T> {
    /// Handed to the client, no pkid seen yet; oldest first.
    queued: VecDeque<(u64, T)>,
    /// Went out with this pkid, not acked yet.
    inflight: HashMap<u16, (u64, T)>,
}

impl<T> Default for Confirms<T> {
    fn default() -> Self {
        Self {
            queued: VecDeque::new(),
            inflight: HashMap::new(),
        }
    }
}

/// An outgoing pkid came with no request waiting for one.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Untracked(pub u16);

impl<T> Confirms<T> {
    /// `item` (number `seq` in request order) was handed to the client.
    pub fn sent(&mut self, seq: u64, item: T) {
        self.queued.push_back((seq, item));
    }

    /// The oldest queued request went out as `pkid`. Returns a request that
    /// still held that pkid (the broker never acked it; send it again).
    pub fn went_out(&mut self, pkid: u16) -> Result<Option<(u64, T)>, Untracked> {
        let item = self.queued.pop_front().ok_or(Untracked(pkid))?;
        Ok(self.inflight.insert(pkid, item))
    }

    /// The broker acked `pkid`: the request it answers, if we know it.
    pub fn acked(&mut self, pkid: u16) -> Option<T> {
        self.inflight.remove(&pkid).map(|(_, item)| item)
    }

    /// Takes every unconfirmed request, in request order.
    pub fn drain(&mut self) -> Vec<(u64, T)> {
        let mut all: Vec<_> = self.inflight.drain().map(|(_, item)| item).collect();
        all.extend(self.queued.drain(..));
        all.sort_by_key(|(seq, _)| *seq);
        all
    }

    /// Requests not confirmed yet.
    pub fn len(&self) -> usize {
        self.queued.len() + self.inflight.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_complete_requests_in_the_order_they_went_out() {
        let mut c = Confirms::default();
        for (seq, name) in ["a", "b", "c"].into_iter().enumerate() {
            c.sent(seq as u64, name);
        }
        assert_eq!(c.went_out(7), Ok(None));
        assert_eq!(c.went_out(8), Ok(None));
        assert_eq!(c.acked(8), Some("b"));
        assert_eq!(c.acked(7), Some("a"));
        assert_eq!(c.acked(7), None, "acked twice");
        assert_eq!(c.went_out(1), Ok(None));
        assert_eq!(c.acked(1), Some("c"));
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn packet_ids_are_reused_after_their_ack() {
        let mut c = Confirms::default();
        c.sent(0, "a");
        c.sent(1, "b");
        c.went_out(1).unwrap();
        assert_eq!(c.acked(1), Some("a"));
        assert_eq!(c.went_out(1), Ok(None));
        assert_eq!(c.acked(1), Some("b"));
    }

    #[test]
    fn a_reused_pkid_gives_back_the_request_that_held_it() {
        let mut c = Confirms::default();
        c.sent(0, "a");
        c.sent(1, "b");
        c.went_out(3).unwrap();
        assert_eq!(c.went_out(3), Ok(Some((0, "a"))));
        assert_eq!(c.acked(3), Some("b"));
    }

    #[test]
    fn an_outgoing_pkid_without_a_request_is_reported() {
        let mut c = Confirms::<&str>::default();
        assert_eq!(c.went_out(5), Err(Untracked(5)));
        assert_eq!(c.acked(5), None, "an ack for an unknown pkid is ignored");
    }

    #[test]
    fn drain_returns_everything_unconfirmed_in_request_order() {
        let mut c = Confirms::default();
        for seq in 0..5 {
            c.sent(seq, seq);
        }
        c.went_out(9).unwrap(); // 0
        c.went_out(2).unwrap(); // 1
        c.went_out(4).unwrap(); // 2
        c.acked(2);
        let again: Vec<_> = c.drain().into_iter().map(|(_, item)| item).collect();
        assert_eq!(again, [0, 2, 3, 4]);
        assert_eq!(c.len(), 0);
        assert_eq!(c.acked(9), None, "old pkids are forgotten");
    }
}
