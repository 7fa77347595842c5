//! Publishes that reached nobody: what the publisher does when an MQTT 5
//! broker answers a QoS 1 publish with PUBACK reason 16, "no matching
//! subscribers". Pure; the publisher (`publisher.rs`) keeps the clock.
//!
//! Why it matters: Mosquitto 2.0 restores a persistent session and the
//! messages queued for it after a restart, but not its *shared*
//! subscriptions (they are not written to its persistence file). Every
//! inport is a share group, so after a restart an inport's topic has no
//! subscriber until its participant has reconnected and subscribed again,
//! and a message published in that window goes nowhere — while the
//! publisher, which reconnected first, is told it was delivered (MQTT 3.1.1
//! cannot say otherwise).
//!
//! The rule: a publish to a topic that had a subscriber (an earlier publish
//! to it matched), answered "no matching subscribers" less than [`GRACE`]
//! after this connection came back from a lost one, is held and sent again
//! every [`RETRY`] until it matches — the subscribers are on their way back.
//! Any other publish that matches nobody is dropped, as MQTT always does: an
//! outport no one listens to, a dead-letter topic without a watcher, a tap
//! that ended. So holding never stalls a publisher for longer than
//! [`GRACE`] after a reconnection, and never when nothing went wrong.

use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long after a reconnection a publish to a topic that had subscribers
/// is held until they come back (participants reconnect within their
/// back-off, 1 s by default).
pub(super) const GRACE: Duration = Duration::from_secs(10);
/// How often a held publish is sent again.
pub(super) const RETRY: Duration = Duration::from_millis(100);
/// Topics remembered as having had subscribers; past this, new topics are
/// not remembered (their publishes are not held after a restart).
const MAX_TOPICS: usize = 100_000;

/// What to do with a publish that matched no subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Send it again at this instant.
    RetryAt(Instant),
    /// Nobody is expected: the publish is done (MQTT drops it).
    Drop,
}

/// Which topics had subscribers, and when the connection came back.
#[derive(Debug, Default)]
pub(super) struct Unmatched {
    matched: HashSet<String>,
    reconnected: Option<Instant>,
}

impl Unmatched {
    /// The connection came back after a lost one.
    pub fn reconnected(&mut self, now: Instant) {
        self.reconnected = Some(now);
    }

    /// A publish to `topic` reached a subscriber.
    pub fn matched(&mut self, topic: &str) {
        if self.matched.len() < MAX_TOPICS && !self.matched.contains(topic) {
            self.matched.insert(topic.to_owned());
        }
    }

    /// A publish to `topic` reached nobody.
    pub fn unmatched(&mut self, topic: &str, now: Instant) -> Verdict {
        let in_grace = self
            .reconnected
            .is_some_and(|at| now.saturating_duration_since(at) < GRACE);
        if in_grace && self.matched.contains(topic) {
            Verdict::RetryAt(now + RETRY)
        } else {
            // Nobody came back in time (or nobody was ever there): its
            // next publish is not held until a subscriber shows again.
            self.matched.remove(topic);
            Verdict::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_that_had_subscribers_is_held_for_the_grace_after_a_reconnection() {
        let t0 = Instant::now();
        let mut u = Unmatched::default();
        u.matched("r.IN");
        u.reconnected(t0);
        let soon = t0 + Duration::from_secs(1);
        assert_eq!(u.unmatched("r.IN", soon), Verdict::RetryAt(soon + RETRY));
        assert_eq!(
            u.unmatched("r.IN", t0 + GRACE),
            Verdict::Drop,
            "the grace is over"
        );
        assert_eq!(
            u.unmatched("r.IN", soon),
            Verdict::Drop,
            "after a drop, not held until it matches again"
        );
        u.matched("r.IN");
        assert_eq!(u.unmatched("r.IN", soon), Verdict::RetryAt(soon + RETRY));
    }

    #[test]
    fn topics_nobody_subscribed_and_publishes_without_a_reconnection_are_dropped() {
        let t0 = Instant::now();
        let mut u = Unmatched::default();
        u.matched("r.IN");
        assert_eq!(
            u.unmatched("r.IN", t0),
            Verdict::Drop,
            "the first connection: nothing was lost, nobody is coming back"
        );
        u.matched("r.IN");
        u.reconnected(t0);
        assert_eq!(u.unmatched("r.OUT", t0), Verdict::Drop, "never matched");
    }
}
