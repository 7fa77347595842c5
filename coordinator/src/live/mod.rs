//! The live coordinator: the executor around the pure [`crate::core`].
//!
//! [`Coordinator::run`] is one loop that waits for the next event — a
//! client frame, a discovery message, a tapped message, an operation's
//! result, a child's exit, the core's next deadline — hands it to
//! [`Core::handle`] and performs the actions it returns. The loop itself
//! never waits on the broker or a child: every broker call and every stop
//! of a child runs in a task of its own, bounded by a deadline, and its
//! result comes back as an event; acks of discovery and tapped messages are
//! made by the tasks that receive them. Frames to a client are queued on
//! its connection, in the order the core decided them.
//!
//! # Layout
//! - this file — [`Coordinator`], the event loop.
//! - `executor.rs` — performing each [`Action`]; `calling.rs` — the
//!   participant calls a client asked for (`msgflo:call`), and the FBP
//!   messages forwarded to graph participants (with the data they send
//!   back for watched edges).
//! - `feeds.rs` — the tasks that receive from the broker (discovery, taps)
//!   and ack what they received.
//! - `observer.rs` — while the live view or `/metrics` is read: the
//!   participants' `health` and the inport queues' depths, every second.
//! - `control.rs` — [`Control`], a handle for what comes from outside
//!   (the tokens file read again).
//! - `replies.rs` — timing the answers to clients' commands, for
//!   `/metrics`.

mod calling;
mod control;
mod executor;
mod feeds;
mod observer;
mod replies;

pub use control::{Control, Stopped};

pub use crate::core::extension;
pub use crate::core::{Config, PendingNode};

use crate::bindings::Mode;
use crate::core::{Action, Core, Event as CoreEvent, OpError};
use crate::fbp::graph_edit::Graphs;
use crate::library::Library;
use crate::server::{ClientId, Event, Outbox};
use crate::snapshot::Snapshot;
use crate::spawn::{ChildExit, Children};
use crate::view::Seen;
use msgflo_transport::{Consumer, Transport};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The live coordinator; see the module docs.
pub struct Coordinator {
    core: Core,
    exec: executor::Executor,
    /// Results of operations, copies from taps, discovery: everything the
    /// executor's tasks report.
    reports: mpsc::Receiver<Report>,
    exits: mpsc::UnboundedReceiver<ChildExit>,
    /// How long answers to clients' commands took.
    replies: replies::Replies,
}

impl Coordinator {
    /// A coordinator on `transport`, holding `graphs` (the main graph
    /// first), starting participants with `children`.
    pub fn new(
        config: Config,
        transport: Arc<dyn Transport>,
        graphs: Graphs,
        library: Library,
        mut children: Children,
    ) -> Self {
        let mode = match transport.capabilities().broker_bindings {
            true => Mode::Queues,
            false => Mode::Participants,
        };
        let (report, reports) = mpsc::channel(4096);
        let exits = children.exits();
        Self {
            core: Core::new(config, mode, graphs, library),
            exec: executor::Executor::new(transport, children, mode, report),
            reports,
            exits,
            replies: replies::Replies::default(),
        }
    }

    /// A handle to hand the running coordinator new tokens with.
    pub fn control(&self) -> Control {
        Control {
            report: self.exec.reporter(),
        }
    }

    /// At start-up with a graph (`--graph`): start the library participants
    /// of its nodes, then the network.
    pub async fn start_main(&mut self) {
        let actions = self.core.start(now());
        self.perform(actions);
    }

    /// Serves until `shutdown` completes: client events from `events`,
    /// discovery from `discovery`. Stops every child process before
    /// returning.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        discovery: Consumer,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut shutdown = std::pin::pin!(shutdown);
        let feed = feeds::discovery(discovery, self.exec.reporter());
        loop {
            let deadline = self.core.next_deadline();
            // A client's command, timed until the core answers it.
            let mut asked = None;
            // Biased: a client's frames go before broker reports and the
            // timer, so a frame already here is never judged late (a data
            // packet held for the `endgroup` right behind it, `HOLD`).
            let event = tokio::select! {
                biased;
                () = &mut shutdown => break,
                event = events.recv() => match event {
                    Some(Event::Connected(id, outbox)) => self.connected(id, outbox),
                    Some(Event::Disconnected(id)) => {
                        self.exec.forget_client(id);
                        CoreEvent::Disconnected(id)
                    }
                    Some(Event::Frame(id, text, arrived)) => {
                        asked = Some(replies::Asked::new(id, &text, arrived));
                        CoreEvent::Frame(id, text)
                    }
                    Some(Event::Scrape { shown, reply }) => {
                        let _ = reply.send(self.scrape(shown.as_deref()));
                        continue;
                    }
                    Some(Event::View { shown, reply }) => {
                        let _ = reply.send(self.view(shown.as_deref()));
                        continue;
                    }
                    None => break,
                },
                report = self.reports.recv() => match report {
                    Some(Report::Core(event)) => event,
                    Some(Report::TapMade { op, queue, made }) => match made {
                        Ok(tapping) => {
                            self.exec.keep_tap(queue, tapping);
                            CoreEvent::Done { op, result: Ok(()) }
                        }
                        Err(error) => CoreEvent::Done { op, result: Err(error) },
                    },
                    Some(Report::Untapped { op, queue, tapping, result }) => {
                        if let Some(tapping) = tapping {
                            self.exec.keep_tap(queue, tapping);
                        }
                        match op {
                            Some(op) => CoreEvent::Done { op, result },
                            None => continue,
                        }
                    }
                    None => break,
                },
                Some(exit) = self.exits.recv() => CoreEvent::ChildExited {
                    role: exit.role,
                    status: Some(exit.status),
                    stopped: exit.stopped,
                },
                () = sleep_until(deadline) => CoreEvent::Tick,
            };
            let actions = self.core.handle(event, now());
            let burst = actions.len() >= BURST;
            let answering = asked.filter(|asked| asked.answered_by(&actions));
            self.perform(actions);
            if let Some(asked) = answering {
                self.replies.answered(asked);
            }
            if burst {
                give_back_freed_memory();
            }
            if feed.is_finished() {
                tracing::error!("the discovery consumer ended");
                break;
            }
        }
        feed.abort();
        self.exec.shut_down().await;
    }

    /// `/metrics`: the core's numbers, the broker connection's state and
    /// the observer's numbers of the graph's edges.
    fn scrape(&self, shown: Option<&str>) -> Option<Snapshot> {
        let snapshot = self.core.metrics(shown)?;
        let seen = self.view(shown).unwrap_or_default();
        Some(Snapshot {
            broker_connected: self.exec.broker_connected(),
            broker_reconnects: self.exec.broker_reconnects(),
            fbp_reply_seconds: self.replies.snapshot(),
            ..snapshot.with(&seen)
        })
    }

    /// What the live view shows: the core's topology with the observer's
    /// numbers.
    fn view(&self, shown: Option<&str>) -> Option<Seen> {
        let at = now();
        let topology = self.core.view(shown, at)?;
        let numbers = self.exec.numbers(&topology, at);
        Some(Seen { topology, numbers })
    }

    fn connected(&mut self, id: ClientId, outbox: Outbox) -> CoreEvent {
        self.exec.add_client(id, outbox);
        CoreEvent::Connected(id)
    }

    /// Performs `actions`; a client found gone meanwhile is told to the
    /// core at once, and what that calls for performed too.
    fn perform(&mut self, actions: Vec<Action>) {
        let mut pending = actions;
        while !pending.is_empty() {
            let gone = self.exec.perform(pending);
            pending = Vec::new();
            for client in gone {
                let more = self.core.handle(CoreEvent::Disconnected(client), now());
                pending.extend(more);
            }
        }
    }
}

/// The time now, on tokio's clock (which tests can pause and advance).
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Completes at `at`; never without it.
async fn sleep_until(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

/// The outboxes of the connected clients.
type Outboxes = HashMap<ClientId, Outbox>;

/// Actions from one event that count as a burst (a `component:list` of
/// thousands of participants): afterwards, memory freed is given back.
const BURST: usize = 1_000;

/// Gives the heap's free memory back to the system: glibc keeps what a
/// burst of frames freed, so the coordinator's resident size would stay at
/// its high-water mark (measured at 10,000 participants: BENCHMARKS.md).
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; no pointer is
    // touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What the executor's tasks report to the loop.
pub(super) enum Report {
    /// An event for the core.
    Core(CoreEvent),
    /// A tap was made (or not): the loop keeps it, then tells the core.
    TapMade {
        /// The operation.
        op: crate::core::reconcile::OpId,
        /// The watched queue.
        queue: msgflo_protocol::ids::QueueName,
        /// The tap, or why not.
        made: Result<executor::Tapping, OpError>,
    },
    /// A tap was ended (or not: then the loop keeps it for the core to
    /// retry).
    Untapped {
        /// The operation (`None`: a duplicate tap the executor ended).
        op: Option<crate::core::reconcile::OpId>,
        /// The watched queue.
        queue: msgflo_protocol::ids::QueueName,
        /// The tap, back when ending it failed.
        tapping: Option<executor::Tapping>,
        /// Whether it ended.
        result: Result<(), OpError>,
    },
}
