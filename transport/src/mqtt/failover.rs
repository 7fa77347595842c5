//! Failing over between MQTT brokers ([`Brokers`](super::super::Brokers)
//! with several URLs): after a lost connection, each reconnection attempt
//! goes to the next broker of the list — rumqttc connects with the options
//! its event loop holds, so they are swapped before the attempt — and only
//! a round in which every broker failed is followed by a back-off pause.
//!
//! A broker's sessions stay on that broker: what was queued for this
//! client on the broker it left waits there until it comes back (with
//! persistence), and subscriptions are made again on the new one (the
//! driver re-subscribes on every connection).

use super::super::brokers;
use super::super::BrokerUrl;
use tracing::warn;

/// The brokers one client may connect to, each with its client options
/// (`O`: rumqttc's MQTT 3.1.1 or MQTT 5 options).
pub(super) struct Failover<O> {
    brokers: Vec<(BrokerUrl, O)>,
    /// The broker connected to, or last connected to.
    current: usize,
    /// The broker tried last.
    trying: usize,
    /// Attempts since the connection was lost.
    attempts: u32,
}

impl<O: Clone> Failover<O> {
    /// `brokers[current]` is connected.
    pub(super) fn new(brokers: Vec<(BrokerUrl, O)>, current: usize) -> Self {
        Self {
            brokers,
            current,
            trying: current,
            attempts: 0,
        }
    }

    /// The connection is lost, or an attempt failed: points `options` (the
    /// event loop's) at the broker to try next. True when every broker
    /// failed once since the last pause (time to back off).
    pub(super) fn next(&mut self, options: &mut O) -> bool {
        let count = self.brokers.len();
        if count == 1 {
            return true;
        }
        self.attempts += 1;
        let pause = self.attempts > 1 && brokers::round_done(self.attempts - 1, count);
        self.trying = brokers::nth_after(self.current, self.attempts, count);
        *options = self.brokers[self.trying].1.clone();
        pause
    }

    /// The broker tried last accepted the connection.
    pub(super) fn connected(&mut self) {
        if self.trying != self.current {
            warn!(
                from = %self.brokers[self.current].0,
                to = %self.brokers[self.trying].0,
                "failed over to another broker"
            );
        }
        self.current = self.trying;
        self.attempts = 0;
    }
}
