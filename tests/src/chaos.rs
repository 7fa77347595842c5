//! Counting what comes out of a fault scenario, and saying it in one line
//! that `scripts/chaos` gathers into RELIABILITY.md's table:
//! `CHAOS {"scenario": ..., "broker": ..., "sent": N, "lost": N,
//! "duplicates": N, "recovery_ms": N, "loss_allowed": false}` on stderr
//! (seen with `--nocapture`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Numbered messages seen at a sink, around one fault.
#[derive(Debug)]
pub struct Tally {
    seen: BTreeSet<u64>,
    duplicates: u64,
    fault_at: Option<Instant>,
    last_new: Option<Instant>,
    longest_pause: Duration,
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

impl Tally {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self {
            seen: BTreeSet::new(),
            duplicates: 0,
            fault_at: None,
            last_new: None,
            longest_pause: Duration::ZERO,
        }
    }

    /// Counts message `n`; true when it is the first copy.
    pub fn count(&mut self, n: u64) -> bool {
        if !self.seen.insert(n) {
            self.duplicates += 1;
            return false;
        }
        let now = Instant::now();
        if let Some(fault) = self.fault_at {
            let since = self.last_new.filter(|last| *last > fault).unwrap_or(fault);
            self.longest_pause = self.longest_pause.max(now - since);
        }
        self.last_new = Some(now);
        true
    }

    /// The fault happens now (recovery counts from here, afresh).
    pub fn fault(&mut self) {
        self.fault_at = Some(Instant::now());
        self.longest_pause = Duration::ZERO;
    }

    /// The broker is back (after a restart): recovery is counted from now,
    /// as the time output takes to resume once it could.
    pub fn back(&mut self) {
        self.fault_at = Some(Instant::now());
        self.longest_pause = Duration::ZERO;
    }

    /// Whether the fault happened.
    pub fn faulted(&self) -> bool {
        self.fault_at.is_some()
    }

    /// Distinct messages seen.
    pub fn distinct(&self) -> usize {
        self.seen.len()
    }

    /// The highest number seen.
    pub fn highest(&self) -> Option<u64> {
        self.seen.last().copied()
    }

    /// Copies seen more than once.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Of `0..sent`, how many were never seen.
    pub fn lost(&self, sent: u64) -> u64 {
        (0..sent).filter(|n| !self.seen.contains(n)).count() as u64
    }

    /// The longest wait for a new message after the fault, or after the
    /// broker was [`back`](Self::back) (from then to the first, and
    /// between two): how long the flow took to recover.
    pub fn recovery(&self) -> Duration {
        self.longest_pause
    }

    /// Prints the scenario's `CHAOS` line.
    pub fn report(&self, scenario: &str, broker: &str, sent: u64) {
        report(&self.outcome(scenario, broker, sent));
    }

    /// [`report`](Self::report) for a scenario whose promise allows loss
    /// (transient messages across a broker restart): `scripts/chaos` does
    /// not fail on it.
    pub fn report_allowing_loss(&self, scenario: &str, broker: &str, sent: u64) {
        report(&Outcome {
            loss_allowed: true,
            ..self.outcome(scenario, broker, sent)
        });
    }

    fn outcome<'a>(&self, scenario: &'a str, broker: &'a str, sent: u64) -> Outcome<'a> {
        Outcome {
            scenario,
            broker,
            sent,
            lost: self.lost(sent),
            duplicates: self.duplicates,
            recovery: Some(self.recovery()),
            loss_allowed: false,
        }
    }
}

/// What one run of a scenario came to.
#[derive(Debug)]
pub struct Outcome<'a> {
    /// What was done, in a few words.
    pub scenario: &'a str,
    /// Which broker (`AMQP`, `MQTT`, ...).
    pub broker: &'a str,
    /// Messages sent.
    pub sent: u64,
    /// Of those, never seen.
    pub lost: u64,
    /// Copies seen more than once.
    pub duplicates: u64,
    /// How long the flow took to come back, where measured.
    pub recovery: Option<Duration>,
    /// The scenario's promise allows loss (`scripts/chaos` does not fail).
    pub loss_allowed: bool,
}

/// Prints `outcome`'s `CHAOS` line.
pub fn report(outcome: &Outcome) {
    let line = serde_json::json!({
        "scenario": outcome.scenario,
        "broker": outcome.broker,
        "sent": outcome.sent,
        "lost": outcome.lost,
        "duplicates": outcome.duplicates,
        "recovery_ms": outcome
            .recovery
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        "loss_allowed": outcome.loss_allowed,
    });
    eprintln!("CHAOS {line}");
}

/// `AMQP` or `MQTT`, for a broker URL (or list).
pub fn broker_kind(url: &str) -> &'static str {
    if url.starts_with("mqtt") {
        "MQTT"
    } else {
        "AMQP"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_first_copies_duplicates_and_losses() {
        let mut tally = Tally::new();
        assert!(tally.count(0));
        assert!(tally.count(2));
        assert!(!tally.count(0));
        assert_eq!(tally.distinct(), 2);
        assert_eq!(tally.duplicates(), 1);
        assert_eq!(tally.lost(4), 2);
        assert_eq!(tally.recovery(), Duration::ZERO);
        tally.fault();
        std::thread::sleep(Duration::from_millis(20));
        assert!(tally.count(1));
        assert!(tally.recovery() >= Duration::from_millis(20));
    }
}
