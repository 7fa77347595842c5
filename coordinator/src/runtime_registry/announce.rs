//! [`announce`]: the task that keeps a coordinator registered. It performs
//! what [`Schedule`] decides, one request at a time, and logs: one WARN
//! line per failed request (never fatal), INFO when registered, DEBUG per
//! ping. It needs nothing at shutdown: the registry lists the runtime as
//! offline once its pings stop.

use super::client::{Registered, RegistryClient};
use super::error::RegistryError;
use super::schedule::{Action, Outcome, Schedule};
use super::wire::{Registration, User};
use std::future::Future;
use tracing::{debug, info, warn};

/// The requests the task makes; [`RegistryClient`] in the program, a fake
/// in the tests.
pub trait Registry: Send + Sync {
    /// Where it is, for the log.
    fn name(&self) -> String;
    /// `GET /user`.
    fn user(&self) -> impl Future<Output = Result<User, RegistryError>> + Send;
    /// `PUT /runtimes/:id`.
    fn register(
        &self,
        runtime: &Registration,
    ) -> impl Future<Output = Result<Registered, RegistryError>> + Send;
    /// `POST /runtimes/:id`.
    fn ping(&self, id: &str) -> impl Future<Output = Result<(), RegistryError>> + Send;
}

impl Registry for RegistryClient {
    fn name(&self) -> String {
        self.base().to_string()
    }

    fn user(&self) -> impl Future<Output = Result<User, RegistryError>> + Send {
        RegistryClient::user(self)
    }

    fn register(
        &self,
        runtime: &Registration,
    ) -> impl Future<Output = Result<Registered, RegistryError>> + Send {
        RegistryClient::register(self, runtime)
    }

    fn ping(&self, id: &str) -> impl Future<Output = Result<(), RegistryError>> + Send {
        RegistryClient::ping(self, id)
    }
}

/// Registers `runtime` (its `user` replaced by the schedule's) and pings,
/// as `schedule` says, forever: run it as a task.
pub async fn announce<R: Registry>(registry: R, mut runtime: Registration, mut schedule: Schedule) {
    let name = registry.name();
    let id = runtime.id.clone();
    let mut next = schedule.start();
    loop {
        tokio::time::sleep(next.after).await;
        let outcome = match next.action {
            Action::AskUser => match registry.user().await {
                Ok(user) => {
                    debug!(registry = %name, user = %user.id, "the token's user");
                    Outcome::User(user.id)
                }
                Err(error) => {
                    warn!(registry = %name, %error, "cannot learn the token's user");
                    Outcome::UserFailed
                }
            },
            Action::Register { user } => {
                runtime.user = user;
                match registry.register(&runtime).await {
                    Ok(how) => {
                        let how = match how {
                            Registered::New => "registered",
                            Registered::Updated => "registered again",
                        };
                        info!(registry = %name, runtime = %id, address = %runtime.address, "{how} with the runtime registry");
                        Outcome::Registered
                    }
                    Err(error) => {
                        warn!(registry = %name, runtime = %id, %error, "registering failed");
                        Outcome::RegisterFailed {
                            refused: error.is_refused(),
                        }
                    }
                }
            }
            Action::Ping => match registry.ping(&id).await {
                Ok(()) => {
                    debug!(registry = %name, runtime = %id, "pinged");
                    Outcome::Pinged
                }
                Err(error) if error.is_not_found() => {
                    info!(registry = %name, runtime = %id, "the registry forgot this runtime; registering again");
                    Outcome::PingNotFound
                }
                Err(error) => {
                    warn!(registry = %name, runtime = %id, %error, "ping failed");
                    Outcome::PingFailed
                }
            },
        };
        next = schedule.on(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio::time::Instant;

    /// Answers from a script (then successes), recording each call and when.
    #[derive(Clone, Default)]
    struct Fake {
        calls: Arc<Mutex<Vec<(Duration, String)>>>,
        answers: Arc<Mutex<VecDeque<Option<u16>>>>,
        start: Option<Instant>,
    }

    impl Fake {
        fn new(script: &[Option<u16>]) -> Self {
            Self {
                answers: Arc::new(Mutex::new(script.iter().copied().collect())),
                start: Some(Instant::now()),
                ..Self::default()
            }
        }

        /// Records `call`; the scripted status (`None` or an empty script:
        /// success).
        fn answer(&self, call: String) -> Result<(), RegistryError> {
            let at = self.start.map_or(Duration::ZERO, |s| s.elapsed());
            self.calls.lock().expect("calls").push((at, call));
            match self.answers.lock().expect("answers").pop_front().flatten() {
                None => Ok(()),
                Some(status) => Err(RegistryError::Status {
                    method: "X",
                    url: "http://fake/".into(),
                    status,
                    message: "scripted".into(),
                }),
            }
        }

        fn calls(&self) -> Vec<(u64, String)> {
            let calls = self.calls.lock().expect("calls");
            calls
                .iter()
                .map(|(at, call)| (at.as_millis() as u64, call.clone()))
                .collect()
        }
    }

    impl Registry for Fake {
        fn name(&self) -> String {
            "fake".into()
        }
        async fn user(&self) -> Result<User, RegistryError> {
            self.answer("user".into()).map(|()| User {
                id: "u-from-token".into(),
                name: None,
            })
        }
        async fn register(&self, runtime: &Registration) -> Result<Registered, RegistryError> {
            self.answer(format!("register {}", runtime.user))
                .map(|()| Registered::New)
        }
        async fn ping(&self, id: &str) -> Result<(), RegistryError> {
            self.answer(format!("ping {id}"))
        }
    }

    fn runtime() -> Registration {
        Registration {
            id: "rt".into(),
            user: String::new(),
            address: "ws://h:1".into(),
            protocol: "websocket".into(),
            kind: "msgflo".into(),
            label: "l".into(),
            description: None,
            secret: None,
        }
    }

    /// Lets the paused clock run to `ms` after the start.
    async fn run_until(ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_then_it_pings_each_interval_and_registers_again_after_a_404() {
        // user; register 503, 503, ok; ping ok; ping 404; register ok; ping.
        let fake = Fake::new(&[None, Some(503), Some(503), None, None, Some(404)]);
        let schedule = Schedule::new(None, Duration::from_secs(10));
        let task = tokio::spawn(announce(fake.clone(), runtime(), schedule));
        run_until(30_500).await;
        task.abort();
        let calls = fake.calls();
        let expected: Vec<(u64, String)> = [
            (0, "user"),
            (0, "register u-from-token"),
            (100, "register u-from-token"),
            (300, "register u-from-token"),
            (10_300, "ping rt"),
            (20_300, "ping rt"),
            (20_300, "register u-from-token"),
            (30_300, "ping rt"),
        ]
        .into_iter()
        .map(|(at, call)| (at, call.to_owned()))
        .collect();
        assert_eq!(calls, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn a_configured_user_is_registered_without_asking() {
        let fake = Fake::new(&[]);
        let schedule = Schedule::new(Some("u-9".into()), Duration::from_secs(300));
        let task = tokio::spawn(announce(fake.clone(), runtime(), schedule));
        run_until(1).await;
        task.abort();
        assert_eq!(fake.calls(), [(0, "register u-9".to_owned())]);
    }
}
