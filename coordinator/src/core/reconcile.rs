//! Keeping what is applied on the broker equal to what is wanted: one
//! [`Reconciler`] per kind of thing (links, taps). Pure: it is told what is
//! wanted and what became of each operation, and answers with the
//! operations to start.
//!
//! - A wanted item that is neither applied nor in flight is applied; an
//!   applied item no longer wanted is undone. One operation per item at a
//!   time: an item whose operation is in flight waits for its result, then
//!   the next call decides again.
//! - A failed operation is retried with back-off (0.5 s, doubling, at most
//!   30 s) while its item is still wanted (or still applied, for an undo).
//! - [`Reconciler::forget_applied`] (after a broker reconnect) makes every
//!   applied item wanted-but-not-applied again, so the record is replayed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// First retry delay after a failure.
const FIRST_RETRY: Duration = Duration::from_millis(500);
/// Longest retry delay.
const LAST_RETRY: Duration = Duration::from_secs(30);

/// Identifies one operation, so that its result finds it.
pub type OpId = u64;

/// Make an item be, or stop being.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Apply it.
    Apply,
    /// Undo it.
    Undo,
}

/// An operation to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op<K> {
    /// Its id, to report its result with.
    pub id: OpId,
    /// What to do.
    pub direction: Direction,
    /// To which item.
    pub item: K,
}

#[derive(Debug, Clone)]
struct Failure {
    attempts: u32,
    retry_at: Instant,
}

/// What is applied, in flight and failed, for one kind of item.
#[derive(Debug, Clone)]
pub struct Reconciler<K: Ord + Clone> {
    applied: BTreeSet<K>,
    in_flight: BTreeMap<K, (OpId, Direction)>,
    failed: BTreeMap<K, Failure>,
}

impl<K: Ord + Clone> Default for Reconciler<K> {
    fn default() -> Self {
        Self {
            applied: BTreeSet::new(),
            in_flight: BTreeMap::new(),
            failed: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> Reconciler<K> {
    /// The operations that bring what is applied towards `wanted`, taking
    /// ids from `next_id`.
    pub fn plan(&mut self, wanted: &BTreeSet<K>, now: Instant, next_id: &mut OpId) -> Vec<Op<K>> {
        // Failures of items that need nothing any more are forgotten.
        let applied = &self.applied;
        self.failed
            .retain(|item, _| wanted.contains(item) != applied.contains(item));
        let mut ops = Vec::new();
        let mut start = |item: &K, direction, in_flight: &mut BTreeMap<K, (OpId, Direction)>| {
            *next_id += 1;
            in_flight.insert(item.clone(), (*next_id, direction));
            ops.push(Op {
                id: *next_id,
                direction,
                item: item.clone(),
            });
        };
        let due = |item: &K| self.failed.get(item).is_none_or(|f| f.retry_at <= now);
        for item in wanted.difference(&self.applied) {
            if !self.in_flight.contains_key(item) && due(item) {
                start(item, Direction::Apply, &mut self.in_flight);
            }
        }
        let gone: Vec<K> = self.applied.difference(wanted).cloned().collect();
        for item in &gone {
            if !self.in_flight.contains_key(item) && due(item) {
                start(item, Direction::Undo, &mut self.in_flight);
            }
        }
        ops
    }

    /// Operation `id` finished (`ok`: it did what it was for); `None` if it
    /// was not one of ours. Returns the item and direction.
    pub fn done(&mut self, id: OpId, ok: bool, now: Instant) -> Option<(K, Direction)> {
        let item = self
            .in_flight
            .iter()
            .find(|(_, (op, _))| *op == id)
            .map(|(item, _)| item.clone())?;
        let (_, direction) = self.in_flight.remove(&item)?;
        if ok {
            self.failed.remove(&item);
            match direction {
                Direction::Apply => self.applied.insert(item.clone()),
                Direction::Undo => self.applied.remove(&item),
            };
        } else {
            let attempts = self.failed.get(&item).map_or(0, |f| f.attempts) + 1;
            let delay = FIRST_RETRY
                .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1)))
                .min(LAST_RETRY);
            self.failed.insert(
                item.clone(),
                Failure {
                    attempts,
                    retry_at: now + delay,
                },
            );
        }
        Some((item, direction))
    }

    /// When the next retry is due, if one waits.
    pub fn next_retry(&self) -> Option<Instant> {
        self.failed.values().map(|f| f.retry_at).min()
    }

    /// The items applied now.
    pub fn applied(&self) -> &BTreeSet<K> {
        &self.applied
    }

    /// Whether every item of `wanted` is applied (none in flight, none
    /// failed, none missing).
    pub fn holds(&self, wanted: &BTreeSet<K>) -> bool {
        wanted.is_subset(&self.applied)
    }

    /// The items of `wanted` that are not applied, with how often they
    /// failed.
    pub fn missing<'a>(&'a self, wanted: &'a BTreeSet<K>) -> impl Iterator<Item = (&'a K, u32)> {
        wanted
            .difference(&self.applied)
            .map(|item| (item, self.failed.get(item).map_or(0, |f| f.attempts)))
    }

    /// Everything applied is to be applied again (the broker forgot it, as
    /// after a reconnect); operations in flight are left to finish.
    pub fn forget_applied(&mut self) {
        self.applied.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&'static str]) -> BTreeSet<&'static str> {
        items.iter().copied().collect()
    }

    #[test]
    fn wanted_items_are_applied_once_and_unwanted_ones_undone() {
        let (mut r, mut id, now) = (Reconciler::default(), 0, Instant::now());
        let ops = r.plan(&set(&["a", "b"]), now, &mut id);
        assert_eq!(ops.len(), 2);
        assert!(ops.iter().all(|op| op.direction == Direction::Apply));
        assert!(
            r.plan(&set(&["a", "b"]), now, &mut id).is_empty(),
            "in flight"
        );
        for op in ops {
            r.done(op.id, true, now);
        }
        assert!(r.holds(&set(&["a", "b"])));
        let ops = r.plan(&set(&["b"]), now, &mut id);
        assert_eq!(
            ops,
            vec![Op {
                id: 3,
                direction: Direction::Undo,
                item: "a"
            }]
        );
        r.done(3, true, now);
        assert_eq!(r.applied(), &set(&["b"]));
    }

    #[test]
    fn a_failure_is_retried_with_growing_back_off_while_still_wanted() {
        let (mut r, mut id, t0) = (Reconciler::default(), 0, Instant::now());
        let op = r.plan(&set(&["a"]), t0, &mut id).remove(0);
        r.done(op.id, false, t0);
        assert_eq!(r.next_retry(), Some(t0 + FIRST_RETRY));
        assert!(r.plan(&set(&["a"]), t0, &mut id).is_empty(), "not due yet");
        let t1 = t0 + FIRST_RETRY;
        let op = r.plan(&set(&["a"]), t1, &mut id).remove(0);
        r.done(op.id, false, t1);
        assert_eq!(r.next_retry(), Some(t1 + FIRST_RETRY * 2));
        assert_eq!(r.missing(&set(&["a"])).collect::<Vec<_>>(), [(&"a", 2)]);
        // No longer wanted: the failure is forgotten, nothing retried.
        assert!(r.plan(&set(&[]), t1, &mut id).is_empty());
        assert_eq!(r.next_retry(), None);
    }

    #[test]
    fn back_off_stops_growing_at_its_longest() {
        let (mut r, mut id, mut now) = (Reconciler::default(), 0, Instant::now());
        for _ in 0..20 {
            now = r.next_retry().unwrap_or(now);
            let op = r.plan(&set(&["a"]), now, &mut id).remove(0);
            r.done(op.id, false, now);
        }
        assert_eq!(r.next_retry(), Some(now + LAST_RETRY));
    }

    #[test]
    fn an_item_unwanted_while_in_flight_is_undone_after_it_lands() {
        let (mut r, mut id, now) = (Reconciler::default(), 0, Instant::now());
        let op = r.plan(&set(&["a"]), now, &mut id).remove(0);
        assert!(
            r.plan(&set(&[]), now, &mut id).is_empty(),
            "waits for the apply"
        );
        r.done(op.id, true, now);
        let undo = r.plan(&set(&[]), now, &mut id).remove(0);
        assert_eq!(undo.direction, Direction::Undo);
        assert_eq!(r.done(99, true, now), None, "an unknown id");
    }

    #[test]
    fn after_the_broker_forgot_everything_is_applied_again() {
        let (mut r, mut id, now) = (Reconciler::default(), 0, Instant::now());
        for op in r.plan(&set(&["a", "b"]), now, &mut id) {
            r.done(op.id, true, now);
        }
        r.forget_applied();
        let again = r.plan(&set(&["a", "b"]), now, &mut id);
        assert_eq!(again.len(), 2);
    }
}
