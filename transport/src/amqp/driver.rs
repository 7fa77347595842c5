//! The driver: one task that owns the connection. It applies declarations
//! and records them, notices when the connection dies, reconnects with
//! back-off, declares the record again, and only then hands the new
//! [`Session`] to publishers and consumers through a `watch` of [`State`].
//! Operations that arrive while it is reconnecting wait in a queue.

use super::super::{BrokerUrl, Result, TransportError};
use super::connection::{Link, Session, Target};
use super::errors;
use super::state::{elapsed_ms, State};
use super::topology::{Declaration, Step, Topology};
use crate::backoff::Backoff;
use crate::brokers;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// Longest `close` waits for the driver to close the connection.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// A change to the broker's topology.
pub(super) enum Op {
    /// Perform these steps, in order, and remember those that declared
    /// something.
    Declare {
        /// What the caller does (`declare inport`, `bind`), for errors.
        operation: &'static str,
        /// The queue(s) involved, for errors.
        queue: String,
        /// What to do.
        steps: Vec<Step>,
    },
    /// Remove a binding, and forget it.
    Unbind {
        /// The queue(s) involved, for errors.
        queue: String,
        /// The binding.
        binding: Declaration,
    },
    /// Delete a queue, and forget it and its bindings.
    Delete {
        /// The queue.
        queue: String,
    },
}

impl Op {
    fn describe(&self) -> (&'static str, &str) {
        match self {
            Op::Declare {
                operation, queue, ..
            } => (operation, queue),
            Op::Unbind { queue, .. } => ("unbind", queue),
            Op::Delete { queue } => ("delete", queue),
        }
    }
}

type Reply = oneshot::Sender<Result<()>>;

enum Command {
    Apply(Op, Reply),
    Close(oneshot::Sender<()>),
}

/// Talks to the driver task.
pub(super) struct DriverHandle {
    commands: mpsc::Sender<Command>,
    state: watch::Receiver<State>,
    broker: BrokerUrl,
    /// Connections made again after one was lost (the driver counts).
    reconnects: Arc<AtomicU64>,
}

impl DriverHandle {
    /// How many times the connection was made again after it was lost.
    pub(super) fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// The connection state, for publishers and consumers.
    pub(super) fn state(&self) -> watch::Receiver<State> {
        self.state.clone()
    }

    /// Applies `op`, waiting up to `timeout` if the connection is down.
    pub(super) async fn apply(&self, op: Op, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        let deadline = started + timeout;
        let (operation, queue) = op.describe();
        let what = format!("{operation} {queue}");
        let gave_up = || TransportError::Disconnected {
            broker: self.broker.to_string(),
            what: what.clone(),
            waited_ms: elapsed_ms(started),
        };
        let (reply, answer) = oneshot::channel();
        let command = Command::Apply(op, reply);
        match tokio::time::timeout_at(deadline, self.commands.send(command)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(TransportError::Closed),
            Err(_) => return Err(gave_up()),
        }
        match tokio::time::timeout_at(deadline, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(TransportError::Closed),
            Err(_) => Err(gave_up()),
        }
    }

    /// Closes the control channel and the connection (reply code 200) and
    /// ends the driver.
    pub(super) async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Close(reply)).await.is_ok() {
            let _ = tokio::time::timeout(CLOSE_WAIT, done).await;
        }
    }
}

/// Starts the driver on an open connection to `targets[current]`; the
/// first of `targets` names the transport.
pub(super) fn spawn(
    targets: Vec<(BrokerUrl, Target)>,
    current: usize,
    link: Link,
    session: Session,
    max_backoff: Duration,
) -> DriverHandle {
    let session = Arc::new(session);
    let (state_tx, state) = watch::channel(State::Up(session.clone()));
    let (commands, receiver) = mpsc::channel(64);
    let broker = targets[0].0.clone();
    let reconnects = Arc::new(AtomicU64::new(0));
    let driver = Driver {
        reconnects: reconnects.clone(),
        targets,
        current,
        max_backoff,
        commands: receiver,
        state: state_tx,
        topology: Topology::default(),
        pending: VecDeque::new(),
        close_reply: None,
    };
    tokio::spawn(driver.run(link, session));
    DriverHandle {
        commands,
        state,
        broker,
        reconnects,
    }
}

struct Driver {
    /// The brokers to connect to (one, or the nodes of a cluster), and
    /// which of them the connection is to.
    targets: Vec<(BrokerUrl, Target)>,
    current: usize,
    max_backoff: Duration,
    commands: mpsc::Receiver<Command>,
    state: watch::Sender<State>,
    topology: Topology,
    pending: VecDeque<(Op, Reply)>,
    close_reply: Option<oneshot::Sender<()>>,
    /// Counts each connection made again (read by [`DriverHandle`]).
    reconnects: Arc<AtomicU64>,
}

/// How serving a live connection ended.
enum Served {
    Lost,
    Closed,
}

/// How applying an operation ended.
enum Applied {
    Done(Result<()>),
    Lost,
}

impl Driver {
    /// The broker connected to, or last connected to: for logs.
    fn broker(&self) -> &BrokerUrl {
        &self.targets[self.current].0
    }

    async fn run(mut self, link: Link, session: Arc<Session>) {
        let mut current = Some((link, session));
        loop {
            let (mut link, session) = match current.take() {
                Some(up) => up,
                None => match self.reconnect().await {
                    Some(up) => up,
                    None => break,
                },
            };
            match self.serve(&mut link).await {
                Served::Lost => {
                    warn!(broker = %self.broker(), "connection lost; reconnecting");
                    self.state.send_replace(State::Connecting);
                }
                Served::Closed => {
                    self.state.send_replace(State::Closed);
                    link.close(Some(&session)).await;
                    break;
                }
            }
        }
        self.state.send_replace(State::Closed);
        for (_, reply) in self.pending.drain(..) {
            let _ = reply.send(Err(TransportError::Closed));
        }
        if let Some(reply) = self.close_reply.take() {
            let _ = reply.send(());
        }
        debug!(broker = %self.broker(), "connection closed");
    }

    /// Applies queued and incoming operations until the connection is lost or
    /// the transport closes.
    async fn serve(&mut self, link: &mut Link) -> Served {
        loop {
            while let Some((op, reply)) = self.pending.pop_front() {
                if reply.is_closed() {
                    continue; // the caller gave up: do not do it behind its back
                }
                match self.apply(link, &op).await {
                    Applied::Done(result) => {
                        let _ = reply.send(result);
                    }
                    Applied::Lost => {
                        self.pending.push_front((op, reply));
                        return Served::Lost;
                    }
                }
            }
            let wake = tokio::select! {
                command = self.commands.recv() => Some(command),
                () = link.lost() => None,
            };
            match wake {
                None => return Served::Lost,
                Some(Some(Command::Apply(op, reply))) => self.pending.push_back((op, reply)),
                Some(Some(Command::Close(reply))) => {
                    self.close_reply = Some(reply);
                    return Served::Closed;
                }
                Some(None) => return Served::Closed,
            }
        }
    }

    async fn apply(&mut self, link: &mut Link, op: &Op) -> Applied {
        let (operation, queue) = op.describe();
        let outcome = match op {
            Op::Declare { steps, .. } => {
                let mut outcome = Ok(());
                for step in steps {
                    match link.perform(step).await {
                        Ok(true) => self.topology.record(step.clone()),
                        Ok(false) => {}
                        Err(error) => {
                            outcome = Err(error);
                            break;
                        }
                    }
                }
                outcome
            }
            Op::Unbind { binding, .. } => {
                self.topology.forget(binding);
                match binding {
                    Declaration::Binding { queue, exchange } => link.unbind(queue, exchange).await,
                    _ => Ok(()),
                }
            }
            Op::Delete { queue } => {
                self.topology.forget_queue(queue);
                link.delete_queue(queue).await
            }
        };
        match outcome {
            Ok(()) => Applied::Done(Ok(())),
            Err(_) if !link.alive() => Applied::Lost,
            Err(error) => Applied::Done(Err(errors::broker(operation, queue, &error))),
        }
    }

    /// Connects again, with back-off, forever (or until closed); declares
    /// the record again and publishes the new session.
    async fn reconnect(&mut self) -> Option<(Link, Arc<Session>)> {
        let mut backoff = Backoff::new(self.max_backoff);
        let down_since = Instant::now();
        let mut attempts: u32 = 0;
        let lost = self.current;
        loop {
            attempts += 1;
            let index = brokers::nth_after(lost, attempts, self.targets.len());
            let (url, target) = self.targets[index].clone();
            match self.accepting(async move { target.open().await }).await? {
                Ok((mut link, session)) => match self.replay(&mut link).await {
                    Ok(()) => {
                        let down_ms = down_since.elapsed().as_millis();
                        if index != self.current {
                            warn!(from = %self.broker(), to = %url, "failed over to another broker");
                        }
                        self.current = index;
                        let reconnects = self.reconnects.fetch_add(1, Ordering::Relaxed) + 1;
                        info!(broker = %url, attempts, down_ms, reconnects, "reconnected");
                        let session = Arc::new(session);
                        self.state.send_replace(State::Up(session.clone()));
                        return Some((link, session));
                    }
                    Err(error) => {
                        debug!(broker = %self.broker(), %error, "connection lost again while declaring")
                    }
                },
                Err(error) => {
                    let reason = errors::reason(&error);
                    if attempts == 1 {
                        warn!(broker = %url, %reason, "cannot reconnect yet; retrying with back-off");
                    } else {
                        debug!(broker = %url, %reason, attempts, "reconnection attempt failed");
                    }
                }
            }
            if brokers::round_done(attempts, self.targets.len()) {
                let pause = backoff.next_delay();
                self.accepting(tokio::time::sleep(pause)).await?;
            }
        }
    }

    /// Does everything recorded again on a fresh connection (an end declared
    /// for a binding only if it is missing again). A step the broker now
    /// refuses (a binding to a peer's queue that went away with the
    /// connection, say) is logged and skipped; a lost connection stops it.
    async fn replay(&mut self, link: &mut Link) -> lapin::Result<()> {
        for step in self.topology.replay() {
            if let Err(error) = link.perform(step).await {
                if !link.alive() {
                    return Err(error);
                }
                let reason = errors::reason(&error);
                warn!(broker = %self.broker(), ?step, %reason, "doing again after reconnecting failed");
            }
        }
        Ok(())
    }

    /// Runs `work` while queueing incoming operations; `None` if the
    /// transport is closed meanwhile.
    async fn accepting<F: Future>(&mut self, work: F) -> Option<F::Output> {
        let mut work = pin!(work);
        loop {
            tokio::select! {
                output = &mut work => return Some(output),
                command = self.commands.recv() => match command {
                    Some(Command::Apply(op, reply)) => self.pending.push_back((op, reply)),
                    Some(Command::Close(reply)) => {
                        self.close_reply = Some(reply);
                        return None;
                    }
                    None => return None,
                },
            }
        }
    }
}
