//! Starting and stopping participant processes, by role.
//!
//! Each participant runs as `sh -c COMMAND` (the library's command line) with
//! `MSGFLO_BROKER` set, stdin from `/dev/null`, in a process group of its own,
//! with the directory of the coordinator's executable first on its `PATH`
//! ([`ChildOptions::bin_dir`]): `msgflo-participant`, built or installed next to
//! `msgflo`, is found without a path and without installing it. It
//! counts as started at its first line on stdout ([`Started`]). Its stdout and stderr
//! lines, terminal codes taken out, go to the log (stdout at debug, stderr at info, with
//! the role), optionally to the coordinator's own stdout/stderr (msgflo's `--forward`,
//! as [`crate::forward`] writes them), and to an optional [`ChildEvent`] channel (for
//! `network:output`). Children log in the coordinator's format
//! ([`ChildOptions::log_format`], passed on as `MSGFLO_LOG_FORMAT`).
//!
//! # No orphans
//! - [`Children::stop`] sends SIGTERM to the whole group, waits up to the stop bound
//!   (default 5 s), then SIGKILLs the group; the child is always reaped, and whatever
//!   is left in its group is SIGKILLed afterwards.
//! - If the coordinator dies without stopping them (SIGKILL, panic): on Linux the
//!   participant's supervising shell gets SIGHUP from the kernel (`PR_SET_PDEATHSIG`)
//!   and passes SIGTERM to its group, then SIGKILL after the bound. The supervisor is a
//!   few lines of `sh` around the command, because the kernel signal reaches one process
//!   only and `sh -c` does not always `exec` the participant. As a consequence the
//!   participant runs as a background job of that shell and starts with SIGINT and
//!   SIGQUIT ignored (it never shares the terminal's group anyway).
//! - The death signal follows the *thread* that spawned: call [`Children::spawn`] from
//!   an async task or `block_on`, never from `spawn_blocking` (its threads retire).
//! - Dropping [`Children`] SIGKILLs every group still running.
//! - Unless asked otherwise: with [`ChildOptions::may_outlive`] and
//!   [`Children::release`] children are left running (`msgflo-setup
//!   --participants` without `--forever`, as msgflo does).
//!
//! # Differences from msgflo
//! msgflo (`setup.startProcess`) runs the command split on spaces unless `--shell` is
//! given, SIGTERMs only the direct child and waits for it without a bound, and leaves
//! grandchildren and, when it is killed, all children running.
//!
//! # Layout
//! - this file — [`Children`]: spawning, stopping, exits, process groups.
//! - `spawn/lines.rs` — one child's stdout or stderr, line by line: to the
//!   log, the coordinator's own output (`--forward`) and the events channel.

mod lines;

use lines::{take, Lines};
use msgflo_cli::logging::{LogFormat, LOG_FORMAT_ENV};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// How long [`Children::stop`] waits after SIGTERM before SIGKILL.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait, after a child exits, for the rest of its output.
const DRAIN: Duration = Duration::from_millis(200);

/// The supervising shell: `$1` is the participant's command. The shell that
/// runs the command catches SIGTERM (so only the participant acts on it, and
/// no `Terminated` line follows its clean exit); the participant itself gets
/// SIGTERM's default action back.
const SUPERVISOR: &str = r#"trap 'kill -TERM 0; sleep @BOUND@; kill -KILL 0' HUP
trap : TERM
sh -c 'trap : TERM; eval "$1"' msgflo-participant "$1" &
pid=$!
while :; do
  wait "$pid"; status=$?
  kill -0 "$pid" 2>/dev/null || exit "$status"
done"#;

/// How [`Children`] treats its processes.
#[derive(Debug, Clone)]
pub struct ChildOptions {
    /// SIGTERM -> SIGKILL bound, for [`Children::stop`] and the supervisor.
    pub stop_timeout: Duration,
    /// Copy children's stdout lines to the coordinator's stdout as `[role] line`.
    pub forward_stdout: bool,
    /// Copy children's stderr lines to the coordinator's stderr as `[role] line`.
    pub forward_stderr: bool,
    /// Where to send output lines and exits. Lines are dropped when it is full.
    pub events: Option<mpsc::Sender<ChildEvent>>,
    /// Children may outlive this process: no parent-death signal, so that
    /// after [`Children::release`] they keep running when it exits.
    pub may_outlive: bool,
    /// Directory put first on the children's `PATH`; by default the directory
    /// of the running executable (`target/debug` next to `msgflo`).
    pub bin_dir: Option<PathBuf>,
    /// How children log, and how their forwarded stderr lines are written.
    pub log_format: LogFormat,
}

impl ChildOptions {
    /// Sets the forwarding from msgflo's `--forward` value: a comma-separated
    /// list of `stdout` and `stderr` (empty: none).
    pub fn forward(&mut self, streams: &str) -> Result<(), UnknownStream> {
        for stream in streams.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match stream {
                "stdout" => self.forward_stdout = true,
                "stderr" => self.forward_stderr = true,
                other => {
                    return Err(UnknownStream {
                        stream: other.to_owned(),
                    })
                }
            }
        }
        Ok(())
    }
}

/// A `--forward` value naming a stream other than `stdout` and `stderr`
/// ([`ChildOptions::forward`]); msgflo and msgflo-setup print its text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--forward: unknown stream {stream:?} (stdout, stderr)")]
pub struct UnknownStream {
    /// The name given.
    pub stream: String,
}

impl Default for ChildOptions {
    fn default() -> Self {
        ChildOptions {
            stop_timeout: DEFAULT_STOP_TIMEOUT,
            forward_stdout: false,
            forward_stderr: false,
            events: None,
            may_outlive: false,
            bin_dir: own_dir(),
            log_format: LogFormat::default(),
        }
    }
}

/// One of a child's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Something a child did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildEvent {
    /// It wrote a line (without the newline; invalid UTF-8 replaced).
    Line {
        /// Its role.
        role: String,
        /// Which stream.
        stream: Stream,
        /// The text.
        line: String,
    },
    /// It exited (after [`Children::stop`] or on its own).
    Exited {
        /// Its role.
        role: String,
        /// How.
        status: ExitStatus,
    },
}

/// A child exited ([`Children::exits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildExit {
    /// Its role.
    pub role: String,
    /// How.
    pub status: ExitStatus,
    /// Whether it was being stopped ([`Children::stop`] and friends), as
    /// opposed to exiting on its own.
    pub stopped: bool,
}

/// A participant process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// A process for this role is still running.
    #[error("participant {role} is already running")]
    AlreadyRunning {
        /// The role.
        role: String,
    },
    /// The shell could not be started.
    #[error("cannot start participant {role}: {source}")]
    Io {
        /// The role.
        role: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A participant did not get as far as its first stdout line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// It exited first (a missing command exits with 127).
    #[error("participant {role} exited before it started: {status}")]
    Exited {
        /// The role.
        role: String,
        /// How.
        status: ExitStatus,
    },
    /// Its supervision ended without an answer (the runtime is shutting down).
    #[error("participant {role}: start abandoned")]
    Abandoned {
        /// The role.
        role: String,
    },
}

/// Resolves when a spawned participant counts as started.
#[derive(Debug)]
pub struct Started {
    role: String,
    rx: oneshot::Receiver<Result<String, ExitStatus>>,
}

impl Started {
    /// Waits for the first stdout line (returned) or the exit before it.
    pub async fn wait(self) -> Result<String, StartError> {
        match self.rx.await {
            Ok(Ok(line)) => Ok(line),
            Ok(Err(status)) => Err(StartError::Exited {
                role: self.role,
                status,
            }),
            Err(_) => Err(StartError::Abandoned { role: self.role }),
        }
    }
}

/// One running (or just exited) child.
#[derive(Debug)]
struct Child {
    /// Its pid, which is also its process group id.
    pgid: i32,
    exit: watch::Receiver<Option<ExitStatus>>,
    stopping: Arc<AtomicBool>,
}

impl Child {
    fn running(&self) -> bool {
        self.exit.borrow().is_none()
    }
}

/// The participant processes the coordinator started, by role.
#[derive(Debug)]
pub struct Children {
    broker: String,
    options: ChildOptions,
    children: std::collections::BTreeMap<String, Child>,
    /// Told of every child that exits ([`Children::exits`]).
    exits: Option<mpsc::UnboundedSender<ChildExit>>,
}

impl Children {
    /// Children that get `MSGFLO_BROKER=broker`, with the default options.
    pub fn new(broker: String) -> Self {
        Children::with_options(broker, ChildOptions::default())
    }

    /// Children with explicit options.
    pub fn with_options(broker: String, options: ChildOptions) -> Self {
        Children {
            broker,
            options,
            children: Default::default(),
            exits: None,
        }
    }

    /// From now on, every child that exits (stopped or on its own) is told
    /// here; the listener logs an exit on its own (here it is a debug line).
    pub fn exits(&mut self) -> mpsc::UnboundedReceiver<ChildExit> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.exits = Some(tx);
        rx
    }

    /// Starts `command` with `sh -c` for `role` and returns at once; the participant
    /// is pending until discovery. Must run inside a tokio runtime.
    pub fn spawn(&mut self, role: &str, command: &str) -> Result<Started, SpawnError> {
        if self.children.get(role).is_some_and(Child::running) {
            return Err(SpawnError::AlreadyRunning { role: role.into() });
        }
        let io = |source| SpawnError::Io {
            role: role.into(),
            source,
        };
        let bound = self.options.stop_timeout.as_secs_f64().ceil().max(1.0);
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c")
            .arg(SUPERVISOR.replace("@BOUND@", &format!("{bound}")))
            .arg("msgflo-participant")
            .arg(command)
            .env("MSGFLO_BROKER", &self.broker)
            .env(LOG_FORMAT_ENV, self.options.log_format.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        #[cfg(target_os = "linux")]
        if !self.options.may_outlive {
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: the closure only makes async-signal-safe calls (prctl, getppid).
            unsafe {
                cmd.pre_exec(move || {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGHUP) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    if libc::getppid() != parent {
                        return Err(std::io::Error::other("the coordinator has exited"));
                    }
                    Ok(())
                });
            }
        }
        if let Some(path) = self.options.bin_dir.as_deref().and_then(path_with) {
            cmd.env("PATH", path);
        }
        let mut child = cmd.spawn().map_err(io)?;
        let pid = child
            .id()
            .ok_or_else(|| io(std::io::Error::other("no pid")))?;
        let pgid = i32::try_from(pid).map_err(|e| io(std::io::Error::other(e)))?;
        tracing::debug!(role, pid, command, "participant process started");

        let (started_tx, rx) = oneshot::channel();
        let started_tx = Arc::new(Mutex::new(Some(started_tx)));
        let (exit_tx, exit) = watch::channel(None);
        let stopping = Arc::new(AtomicBool::new(false));
        let out = child.stdout.take().map(|pipe| {
            let lines = Lines::new(
                role,
                Stream::Stdout,
                &self.options,
                Some(started_tx.clone()),
            );
            tokio::spawn(lines.run(pipe))
        });
        let err = child.stderr.take().map(|pipe| {
            let lines = Lines::new(role, Stream::Stderr, &self.options, None);
            tokio::spawn(lines.run(pipe))
        });
        let role_owned = role.to_owned();
        let events = self.options.events.clone();
        let exits = self.exits.clone();
        let stopping_flag = stopping.clone();
        tokio::spawn(async move {
            let status = match child.wait().await {
                Ok(status) => status,
                Err(error) => {
                    tracing::warn!(role = %role_owned, %error, "cannot wait for participant");
                    std::os::unix::process::ExitStatusExt::from_raw(255 << 8)
                }
            };
            // Let the pipes reach EOF unless a leftover process still holds them.
            for task in [out, err].into_iter().flatten() {
                let _ = tokio::time::timeout(DRAIN, task).await;
            }
            if let Some(tx) = take(&started_tx) {
                let _ = tx.send(Err(status));
            }
            if stopping_flag.load(Ordering::SeqCst) {
                tracing::debug!(role = %role_owned, %status, "participant stopped");
            } else if exits.is_some() {
                // Whoever listens says what follows (the coordinator: a restart).
                tracing::debug!(role = %role_owned, %status, "participant exited");
            } else {
                tracing::warn!(role = %role_owned, %status, "participant exited");
            }
            let _ = exit_tx.send(Some(status));
            if let Some(exits) = exits {
                let _ = exits.send(ChildExit {
                    role: role_owned.clone(),
                    status,
                    stopped: stopping_flag.load(Ordering::SeqCst),
                });
            }
            if let Some(events) = events {
                let _ = events
                    .send(ChildEvent::Exited {
                        role: role_owned,
                        status,
                    })
                    .await;
            }
        });
        let entry = Child {
            pgid,
            exit,
            stopping,
        };
        self.children.insert(role.to_owned(), entry);
        Ok(Started {
            role: role.to_owned(),
            rx,
        })
    }

    /// Stops the child of `role`: SIGTERM to its group, SIGKILL after the bound,
    /// reaped. `false` if there was no child for `role`.
    pub async fn stop(&mut self, role: &str) -> bool {
        let Some(child) = self.children.remove(role) else {
            return false;
        };
        let running = terminate(&child);
        finish(role, child, running, self.options.stop_timeout).await;
        true
    }

    /// [`Children::stop`] as a future that does not hold `self`: the child
    /// of `role` is SIGTERMed now, the rest (waiting, SIGKILL after the
    /// bound, reaping) happens when the future is run. `None` if there was
    /// no child for `role`.
    pub fn stopping(&mut self, role: &str) -> Option<impl std::future::Future<Output = ()> + Send> {
        let child = self.children.remove(role)?;
        let running = terminate(&child);
        let (role, bound) = (role.to_owned(), self.options.stop_timeout);
        Some(async move { finish(&role, child, running, bound).await })
    }

    /// Stops every child (SIGTERM to all first, so they shut down together).
    pub async fn stop_all(&mut self) {
        let children = std::mem::take(&mut self.children);
        let bound = self.options.stop_timeout;
        let waits = children.into_iter().map(|(role, child)| {
            let running = terminate(&child);
            async move { finish(&role, child, running, bound).await }
        });
        futures_util::future::join_all(waits).await;
    }

    /// Lets go of every child without stopping it: nothing kills them when
    /// `self` is dropped. Only children spawned with
    /// [`ChildOptions::may_outlive`] also survive this process's exit; their
    /// output goes nowhere once it has exited.
    pub fn release(mut self) {
        self.children.clear();
    }

    /// The roles with a running child, sorted.
    pub fn roles(&self) -> Vec<String> {
        self.children
            .iter()
            .filter(|(_, c)| c.running())
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// The pid of the running child of `role` (its supervising shell, which leads the
    /// process group).
    pub fn pid(&self, role: &str) -> Option<u32> {
        let child = self.children.get(role).filter(|c| c.running())?;
        u32::try_from(child.pgid).ok()
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in self.children.values().filter(|c| c.running()) {
            signal_group(child.pgid, libc::SIGKILL);
        }
    }
}

/// The directory of the running executable, if it can be known.
fn own_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.parent().map(Path::to_path_buf)
}

/// `$PATH` with `dir` first; `None` if `dir` cannot be on a `PATH` (it holds a
/// `:`).
fn path_with(dir: &Path) -> Option<OsString> {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&rest));
    std::env::join_paths(dirs).ok()
}

/// SIGTERMs the child's group if it is running; says whether it was.
fn terminate(child: &Child) -> bool {
    child.stopping.store(true, Ordering::SeqCst);
    let running = child.running();
    if running {
        signal_group(child.pgid, libc::SIGTERM);
    }
    running
}

/// Waits for the exit up to `bound`, then SIGKILLs; sweeps the group afterwards, unless
/// the child had exited before (its group id may be someone else's by now).
async fn finish(role: &str, mut child: Child, was_running: bool, bound: Duration) {
    if !was_running {
        return;
    }
    let exited = |s: &Option<ExitStatus>| s.is_some();
    if tokio::time::timeout(bound, child.exit.wait_for(exited))
        .await
        .is_err()
    {
        tracing::warn!(role, ?bound, "participant ignored SIGTERM; killing it");
        signal_group(child.pgid, libc::SIGKILL);
        let _ = child.exit.wait_for(exited).await;
    }
    // Anything the participant left behind in its group.
    signal_group(child.pgid, libc::SIGKILL);
}

/// Sends `signal` to process group `pgid`; `false` if it has no processes left.
fn signal_group(pgid: i32, signal: libc::c_int) -> bool {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

#[cfg(test)]
#[path = "spawn_tests.rs"]
mod tests;
