//! Which discovery messages the registry takes: the limits that keep a
//! flood of announcements (a bug, a replayed backlog, fake participants)
//! from growing the coordinator's memory or its work without bound.
//!
//! - **Stale**: an announcement sent longer ago than the participant timeout
//!   says nothing about now (a backlog left in AMQP's durable `fbp` queue
//!   while no coordinator ran): ignored. Its age comes from the message's
//!   AMQP `timestamp` (msgflo-rs stamps every message); one without a
//!   timestamp (msgflo-nodejs, msgflo-python, MQTT 3.1.1) counts as new.
//! - **Full**: at most [`Limits::max_participants`] are known; an unknown
//!   participant announcing itself beyond that is not registered (known ones
//!   still say they are alive, and take a freed place once one expires).
//! - **Flood**: per role, new participants are taken at
//!   [`Limits::new_per_second`] on average, in bursts of up to
//!   [`Limits::burst`] (a fleet of workers starting at once); more are not
//!   registered. They are taken when they announce themselves again.
//!
//! Refusals are said once in the log and to clients when they start, then
//! counted and summed up every [`SUMMARY_EVERY`] while they go on: never a
//! line per message.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often refusals that go on are summed up.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);
/// Above this many per-role buckets, full ones (the same as none) go.
const BUCKETS_KEPT: usize = 1024;

/// The registry's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Most participants known at once (`--max-participants`).
    pub max_participants: usize,
    /// New participants taken per role and second, on average
    /// (`--discovery-rate`).
    pub new_per_second: f64,
    /// New participants of one role taken at once.
    pub burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_participants: 10_000,
            new_per_second: 100.0,
            burst: 1_000.0,
        }
    }
}

/// Why an announcement was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Sent longer ago than the participant timeout.
    Stale,
    /// The registry holds its most participants.
    Full,
    /// Its role announced new participants faster than the rate.
    Flood,
}

/// What the announcement of one participant is.
#[derive(Debug, Clone, Copy)]
pub struct Announcement<'a> {
    /// Its role.
    pub role: &'a str,
    /// Whether the registry knows its id already.
    pub known: bool,
    /// How long ago it was sent, where the message says.
    pub age: Option<Duration>,
}

/// Decides, and keeps count of the refusals.
#[derive(Debug)]
pub struct Admission {
    limits: Limits,
    timeout: Duration,
    buckets: HashMap<String, Bucket>,
    counted: Counts,
    summary_due: Option<Instant>,
}

/// Refusals since the last time they were said.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    stale: u64,
    full: u64,
    flood: u64,
}

/// A token bucket: one token per new participant.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Admission {
    /// Limits for a registry whose participants expire after `timeout`.
    pub fn new(limits: Limits, timeout: Duration) -> Self {
        Self {
            limits,
            timeout,
            buckets: HashMap::new(),
            counted: Counts::default(),
            summary_due: None,
        }
    }

    /// Whether to register `announcement`, with `registered` participants
    /// known now. On a refusal that starts an episode, also the line to say.
    pub fn judge(
        &mut self,
        announcement: Announcement<'_>,
        registered: usize,
        now: Instant,
    ) -> Result<(), (Refusal, Option<String>)> {
        let refusal = self.refusal(announcement, registered, now);
        let Some(refusal) = refusal else {
            return Ok(());
        };
        let first = self.summary_due.is_none();
        if first {
            self.summary_due = Some(now + SUMMARY_EVERY);
            return Err((refusal, Some(self.first_line(refusal, announcement))));
        }
        match refusal {
            Refusal::Stale => self.counted.stale += 1,
            Refusal::Full => self.counted.full += 1,
            Refusal::Flood => self.counted.flood += 1,
        }
        Err((refusal, None))
    }

    fn refusal(
        &mut self,
        announcement: Announcement<'_>,
        registered: usize,
        now: Instant,
    ) -> Option<Refusal> {
        if announcement.age.is_some_and(|age| age > self.timeout) {
            return Some(Refusal::Stale);
        }
        if announcement.known {
            return None;
        }
        if registered >= self.limits.max_participants {
            return Some(Refusal::Full);
        }
        if !self.take_token(announcement.role, now) {
            return Some(Refusal::Flood);
        }
        None
    }

    fn take_token(&mut self, role: &str, now: Instant) -> bool {
        let Limits {
            new_per_second,
            burst,
            ..
        } = self.limits;
        if self.buckets.len() > BUCKETS_KEPT {
            self.buckets
                .retain(|_, b| b.refilled(now, new_per_second, burst) < burst);
        }
        let bucket = self.buckets.entry(role.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        bucket.tokens = bucket.refilled(now, new_per_second, burst);
        bucket.at = now;
        if bucket.tokens < 1.0 {
            return false;
        }
        bucket.tokens -= 1.0;
        true
    }

    fn first_line(&self, refusal: Refusal, announcement: Announcement<'_>) -> String {
        let role = announcement.role;
        match refusal {
            Refusal::Stale => format!(
                "discovery messages older than the participant timeout ({:?}) ignored, the \
                 first of role {role} sent {:?} ago: a backlog from before this coordinator ran",
                self.timeout,
                announcement.age.unwrap_or_default()
            ),
            Refusal::Full => format!(
                "participant of role {role} not registered: the coordinator knows {} \
                 participants, its limit (--max-participants); more are refused until some expire",
                self.limits.max_participants
            ),
            Refusal::Flood => format!(
                "participant of role {role} not registered: the role announced new participants \
                 faster than {}/s (--discovery-rate); they are taken when they announce \
                 themselves again",
                self.limits.new_per_second
            ),
        }
    }

    /// When the refusals counted since the last line are due to be summed up.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.summary_due
    }

    /// At the deadline: the sum of the refusals since the last line, if any
    /// (then the next is due in [`SUMMARY_EVERY`]; without any, the episode
    /// is over and the next refusal is said at once).
    pub fn summary(&mut self, now: Instant) -> Option<String> {
        let due = self.summary_due?;
        if now < due {
            return None;
        }
        let counts = std::mem::take(&mut self.counted);
        if counts == Counts::default() {
            self.summary_due = None;
            return None;
        }
        self.summary_due = Some(now + SUMMARY_EVERY);
        let parts: Vec<String> = [
            (counts.stale, "older than the participant timeout"),
            (counts.full, "over --max-participants"),
            (counts.flood, "over --discovery-rate"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect();
        Some(format!(
            "discovery messages not registered in the last {SUMMARY_EVERY:?}: {}",
            parts.join(", ")
        ))
    }
}

impl Bucket {
    fn refilled(&self, now: Instant, rate: f64, burst: f64) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * rate).min(burst)
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
