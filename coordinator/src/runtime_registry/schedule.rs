//! [`Schedule`]: what the announcing task does next, decided purely from
//! what the last request gave. Ask the registry who the token's user is
//! (when none is configured), register, then ping every interval; failures
//! are retried with back-off, a ping answered 404 (the registry forgot the
//! runtime) registers again.

use msgflo_transport::backoff::Backoff;
use std::time::Duration;

/// The longest pause between retries of a failed register (or user
/// look-up); shorter when the ping interval is.
pub const MAX_RETRY: Duration = Duration::from_secs(60);

/// A request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `GET /user`, for the user id to register under.
    AskUser,
    /// `PUT /runtimes/:id` under this user.
    Register {
        /// The user id.
        user: String,
    },
    /// `POST /runtimes/:id`.
    Ping,
}

/// The next request and how long to wait before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Next {
    /// What to do.
    pub action: Action,
    /// When: this long from now.
    pub after: Duration,
}

/// What a request gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `GET /user` named the user.
    User(String),
    /// `GET /user` failed.
    UserFailed,
    /// The registration was taken.
    Registered,
    /// The registration failed; `refused` when the registry said 401/403.
    RegisterFailed {
        /// Refused for the token or the user, rather than unreachable.
        refused: bool,
    },
    /// The ping was taken.
    Pinged,
    /// The ping was answered 404: the registry does not know the runtime.
    PingNotFound,
    /// The ping failed otherwise (unreachable, 5xx, ...).
    PingFailed,
}

/// The announcing task's state: the user, the interval, the back-off.
#[derive(Debug, Clone)]
pub struct Schedule {
    user: Option<String>,
    /// Whether `user` came from `GET /user` (and may be asked again).
    asked: bool,
    interval: Duration,
    backoff: Backoff,
}

impl Schedule {
    /// Pings every `interval`, registering under `user` (asked of the
    /// registry when `None`).
    pub fn new(user: Option<String>, interval: Duration) -> Self {
        Self {
            asked: user.is_none(),
            user,
            interval,
            backoff: Backoff::new(MAX_RETRY.min(interval)),
        }
    }

    /// The first request, right away.
    pub fn start(&self) -> Next {
        self.now_register_or_ask()
    }

    /// The user registered under, once known.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// What to do after `outcome`.
    pub fn on(&mut self, outcome: Outcome) -> Next {
        match outcome {
            Outcome::User(user) => {
                self.user = Some(user);
                self.backoff.reset();
                self.now_register_or_ask()
            }
            Outcome::UserFailed => self.retry(Action::AskUser),
            Outcome::Registered => {
                self.backoff.reset();
                self.ping_later()
            }
            Outcome::RegisterFailed { refused } => {
                if refused && self.asked {
                    // The token may now belong to a user with another id
                    // (a registry set up again): ask again.
                    self.user = None;
                }
                let action = self.register_or_ask();
                self.retry(action)
            }
            Outcome::Pinged | Outcome::PingFailed => self.ping_later(),
            Outcome::PingNotFound => {
                self.backoff.reset();
                self.now_register_or_ask()
            }
        }
    }

    fn register_or_ask(&self) -> Action {
        match &self.user {
            Some(user) => Action::Register { user: user.clone() },
            None => Action::AskUser,
        }
    }

    fn now_register_or_ask(&self) -> Next {
        Next {
            action: self.register_or_ask(),
            after: Duration::ZERO,
        }
    }

    fn retry(&mut self, action: Action) -> Next {
        Next {
            action,
            after: self.backoff.next_delay(),
        }
    }

    fn ping_later(&self) -> Next {
        Next {
            action: Action::Ping,
            after: self.interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_secs(300);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn register(user: &str) -> Action {
        Action::Register { user: user.into() }
    }

    #[test]
    fn without_a_user_it_asks_then_registers_then_pings_every_interval() {
        let mut s = Schedule::new(None, INTERVAL);
        assert_eq!(s.start().action, Action::AskUser);
        let next = s.on(Outcome::User("u-1".into()));
        assert_eq!((next.action, next.after), (register("u-1"), Duration::ZERO));
        let next = s.on(Outcome::Registered);
        assert_eq!((next.action, next.after), (Action::Ping, INTERVAL));
        assert_eq!(s.on(Outcome::Pinged).after, INTERVAL);
        assert_eq!(s.on(Outcome::PingFailed), s.on(Outcome::Pinged));
    }

    #[test]
    fn failed_registers_back_off_and_a_success_starts_the_back_off_over() {
        let mut s = Schedule::new(Some("u".into()), INTERVAL);
        assert_eq!(s.start().action, register("u"));
        let failed = Outcome::RegisterFailed { refused: false };
        let pauses: Vec<_> = (0..4).map(|_| s.on(failed.clone()).after).collect();
        assert_eq!(pauses, [ms(100), ms(200), ms(400), ms(800)]);
        s.on(Outcome::Registered);
        assert_eq!(s.on(failed).after, ms(100));
    }

    #[test]
    fn the_back_off_never_exceeds_a_short_interval() {
        let mut s = Schedule::new(Some("u".into()), ms(500));
        let failed = Outcome::RegisterFailed { refused: false };
        let last = (0..10).map(|_| s.on(failed.clone()).after).last();
        assert_eq!(last, Some(ms(500)));
    }

    #[test]
    fn a_ping_answered_404_registers_again_at_once() {
        let mut s = Schedule::new(Some("u".into()), INTERVAL);
        s.on(Outcome::Registered);
        let next = s.on(Outcome::PingNotFound);
        assert_eq!((next.action, next.after), (register("u"), Duration::ZERO));
    }

    #[test]
    fn a_refused_register_asks_for_the_user_again_only_if_it_was_asked() {
        let mut asked = Schedule::new(None, INTERVAL);
        asked.on(Outcome::User("old".into()));
        let next = asked.on(Outcome::RegisterFailed { refused: true });
        assert_eq!((next.action, next.after), (Action::AskUser, ms(100)));
        assert_eq!(asked.user(), None);

        let mut configured = Schedule::new(Some("u".into()), INTERVAL);
        let next = configured.on(Outcome::RegisterFailed { refused: true });
        assert_eq!(next.action, register("u"));
    }

    #[test]
    fn a_failed_user_look_up_is_retried_with_back_off() {
        let mut s = Schedule::new(None, INTERVAL);
        assert_eq!(s.on(Outcome::UserFailed).after, ms(100));
        let next = s.on(Outcome::UserFailed);
        assert_eq!((next.action, next.after), (Action::AskUser, ms(200)));
    }
}
