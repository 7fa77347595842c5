//! Supervision of the participant processes started for graph nodes: when
//! to start one again after it exited on its own, and when to give up.
//! Pure: told of starts, exits and stops on purpose, with the time; asked
//! which restarts are due.
//!
//! - A participant that exits on its own is started again after a back-off:
//!   [`FIRST_RESTART`], doubling with each exit, at most [`LAST_RESTART`].
//!   A run that lasted [`STABLE_RUN`] or longer starts the back-off afresh.
//! - [`FAIL_AFTER_EXITS`] exits within [`FAIL_WINDOW`]: the role is failed
//!   and not started again, until its node is removed (or the graph
//!   replaced) and added again.
//! - A participant the coordinator stops on purpose (its node removed, the
//!   coordinator shutting down) is forgotten here ([`Supervisor::forget`]);
//!   its exit is never a reason to start it again. (`network:stop` stops no
//!   participant: they are services, see `network.rs`.)

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// The pause before the first restart.
pub const FIRST_RESTART: Duration = Duration::from_secs(1);
/// The longest pause before a restart.
pub const LAST_RESTART: Duration = Duration::from_secs(30);
/// A run at least this long starts the back-off afresh.
pub const STABLE_RUN: Duration = Duration::from_secs(60);
/// This many exits within [`FAIL_WINDOW`] make a role failed.
pub const FAIL_AFTER_EXITS: usize = 5;
/// The window [`FAIL_AFTER_EXITS`] counts exits in.
pub const FAIL_WINDOW: Duration = Duration::from_secs(180);

/// What became of a role after its participant exited on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It is started again at `at`, after `delay`; it will be restart
    /// number `restart`.
    Restart {
        /// The pause.
        delay: Duration,
        /// When.
        at: Instant,
        /// Which restart this is (1 for the first).
        restart: u32,
    },
    /// It exited too often: it is not started again.
    Failed {
        /// The exits within [`FAIL_WINDOW`].
        exits: usize,
    },
    /// The role was not started here (or was stopped on purpose).
    Unknown,
}

/// Where a supervised role is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Its participant runs (or is starting).
    Running,
    /// Its participant exited; it is started again at the instant.
    Waiting(Instant),
    /// It exited too often and is not started again.
    Failed,
}

/// One supervised role.
#[derive(Debug, Clone)]
struct Role {
    /// The shell command that starts it.
    command: String,
    /// When its current (or last) run started.
    since: Instant,
    /// Exits on its own since the back-off last started afresh.
    streak: u32,
    /// How often it was started again, in all.
    restarts: u32,
    /// Its recent exits, oldest first, within [`FAIL_WINDOW`].
    exits: VecDeque<Instant>,
    state: State,
}

/// The roles whose participants this coordinator started; see the module docs.
#[derive(Debug, Default)]
pub struct Supervisor {
    roles: BTreeMap<String, Role>,
}

/// A supervised role as clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// How often its participant was started again.
    pub restarts: u32,
    /// Where it is.
    pub state: State,
}

impl Supervisor {
    /// `role`'s participant was started with `command` at `now` (first
    /// start: its supervision starts afresh).
    pub fn started(&mut self, role: &str, command: &str, now: Instant) {
        self.roles.insert(
            role.to_owned(),
            Role {
                command: command.to_owned(),
                since: now,
                streak: 0,
                restarts: 0,
                exits: VecDeque::new(),
                state: State::Running,
            },
        );
    }

    /// `role`'s participant exited on its own at `now`: when it starts again,
    /// or that it does not.
    pub fn exited(&mut self, role: &str, now: Instant) -> Verdict {
        let Some(r) = self.roles.get_mut(role) else {
            return Verdict::Unknown;
        };
        if r.state != State::Running {
            return Verdict::Unknown;
        }
        if now.saturating_duration_since(r.since) >= STABLE_RUN {
            r.streak = 0;
        }
        r.exits.push_back(now);
        while r
            .exits
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > FAIL_WINDOW)
        {
            r.exits.pop_front();
        }
        if r.exits.len() >= FAIL_AFTER_EXITS {
            r.state = State::Failed;
            return Verdict::Failed {
                exits: r.exits.len(),
            };
        }
        let delay = back_off(r.streak);
        r.streak = r.streak.saturating_add(1);
        let at = now + delay;
        r.state = State::Waiting(at);
        Verdict::Restart {
            delay,
            at,
            restart: r.restarts.saturating_add(1),
        }
    }

    /// The roles whose restart is due at `now`, with their commands; each
    /// counts as started again at `now`.
    pub fn due(&mut self, now: Instant) -> Vec<(String, String, u32)> {
        let mut due = Vec::new();
        for (role, r) in &mut self.roles {
            if matches!(r.state, State::Waiting(at) if at <= now) {
                r.state = State::Running;
                r.since = now;
                r.restarts = r.restarts.saturating_add(1);
                due.push((role.clone(), r.command.clone(), r.restarts));
            }
        }
        due
    }

    /// The next restart due, if any.
    pub fn next_due(&self) -> Option<Instant> {
        self.roles
            .values()
            .filter_map(|r| match r.state {
                State::Waiting(at) => Some(at),
                _ => None,
            })
            .min()
    }

    /// `role` is stopped on purpose: it is no longer supervised.
    pub fn forget(&mut self, role: &str) {
        self.roles.remove(role);
    }

    /// `role`'s restarts and state, if it is supervised.
    pub fn status(&self, role: &str) -> Option<Status> {
        self.roles.get(role).map(|r| Status {
            restarts: r.restarts,
            state: r.state.clone(),
        })
    }

    /// Every supervised role that was started again or is not running.
    pub fn troubled(&self) -> impl Iterator<Item = (&str, Status)> {
        self.roles
            .iter()
            .filter(|(_, r)| r.restarts > 0 || r.state != State::Running)
            .map(|(role, r)| {
                let status = Status {
                    restarts: r.restarts,
                    state: r.state.clone(),
                };
                (role.as_str(), status)
            })
    }
}

/// The pause after `streak` earlier exits in a row.
fn back_off(streak: u32) -> Duration {
    let factor = 1u32.checked_shl(streak.min(16)).unwrap_or(u32::MAX);
    FIRST_RESTART.saturating_mul(factor).min(LAST_RESTART)
}

#[cfg(test)]
#[path = "supervise_tests.rs"]
mod tests;
