//! The coordinator's core: every decision, no IO. [`Core::handle`] takes an
//! [`Event`] (a client's frame, a discovery message, a tapped message, the
//! result of an earlier [`Action`], the clock) and returns the actions it
//! calls for; the executor ([`crate::live`]) performs them concurrently and
//! feeds their results back as events. So an answer to a client never
//! waits on the broker or a child process: a graph change is answered when
//! it is accepted, and the bindings behind it follow.
//!
//! # State
//! - the graphs, the participant [`Registry`], the [`Library`];
//! - the clients: who is connected, which rights each one showed (the
//!   secret, a token, or none), which edges each one watches
//!   (`clients.rs`);
//! - each client's packets for an exported inport: groups waiting for
//!   their data, a data message held for the closes after it
//!   (`packets.rs`);
//! - the network: started or not, which graph, the start's readiness and
//!   IIPs (`network.rs`);
//! - what the broker should have — links and taps — as one desired state,
//!   reconciled against what is applied, failures retried with back-off
//!   (`desired.rs`, [`reconcile`]);
//! - the participant processes started for graph nodes, and when to
//!   start them again after they exit on their own (`supervise.rs`).
//!
//! # Layout
//! - this file — [`Core`], [`Event`], [`Action`], [`Config`].
//! - `errors.rs` — [`OpError`], why an action the executor performed
//!   failed; [`PacketError`], why a client's packet is refused.
//! - `requests.rs` — answering each FBP command; `extension.rs` — the
//!   `msgflo:` sub-protocol.
//! - `forward.rs` — `graph:*` edits of a graph participant's graph, sent
//!   to every participant of its role; `watches.rs` — `network:edges` on
//!   such a graph, and the data its participants send back.
//! - `replay.rs` — a participant joining such a role after live edits
//!   gets them replayed (`joiners.rs` — who is being brought up to date,
//!   and the client edits held meanwhile); `edit_log.rs` — the role's
//!   applied edits, bounded; `graph_shape.rs` — whether two such graphs are the same.
//! - `graph.rs` — what a graph change does besides editing: processes,
//!   auto-save, component list updates.
//! - `network.rs` — start, stop, status, readiness, IIPs.
//! - `desired.rs` — the links and taps the broker should have.
//! - `packets.rs` — a client's `runtime:packet`s into the graph: groups as
//!   the `msgflo-brackets` header of the data they surround.
//! - `taps.rs` — a tapped message as `network:data` / `runtime:packet`,
//!   its brackets as `begingroup` / `endgroup`.
//! - `discovery.rs` — participants appearing, heartbeats, expiry;
//!   `admission.rs` — which announcements the registry takes (stale, cap,
//!   rate per role).
//! - `pending.rs` — graph nodes nothing serves, and why.
//! - [`supervise`] — when a participant started here that exited is
//!   started again, and when it is given up on; `restarts.rs` — doing so,
//!   and telling the log and the clients.
//! - `clients.rs` — connections, rights, watched edges.
//! - `metrics.rs` — [`Core::metrics`]: the state in numbers, for `/metrics`;
//!   `view.rs` — [`Core::view`]: the graph and what serves it, for the live
//!   web view.
//! - `tokens.rs` — who a request's secret or token lets in, compared in
//!   constant time; [`Tokens`], read from `--tokens FILE` by
//!   [`crate::tokens_file`]; `rights.rs` — what each right allows and what
//!   each command needs.
//! - [`reconcile`] — applied vs wanted, with retries.

mod admission;
mod clients;
mod desired;
mod discovery;
mod edit_log;
mod errors;
pub mod extension;
mod forward;
mod graph;
mod graph_shape;
mod joiners;
mod metrics;
mod network;
mod packets;
mod pending;
pub mod reconcile;
mod replay;
mod requests;
mod restarts;
mod rights;
pub mod supervise;
mod taps;
mod tokens;
mod view;
mod watches;

pub use admission::Limits;
pub use edit_log::EDIT_LOG_LIMIT;
pub use errors::{OpError, PacketError};
pub use forward::{forwardable, Forward, ForwardKind, FORWARD_TIMEOUT};
pub use pending::PendingNode;
pub use restarts::Restarted;
pub use rights::{Grant, Ports};
pub use tokens::{Tokens, TokensError};

use crate::bindings::{Link, Mode};
use crate::fbp::graph_edit::Graphs;
use crate::library::Library;
use crate::registry::Registry;
use crate::server::ClientId;
use bytes::Bytes;
use clients::Clients;
use msgflo_protocol::brackets::Framing;
use msgflo_protocol::graph::Graph;
use msgflo_protocol::ids::QueueName;
use msgflo_protocol::messages::Output;
use reconcile::{OpId, Reconciler};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How the coordinator runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The FBP protocol secret, full rights; `None`: no secret.
    pub secret: Option<String>,
    /// The tokens with rights (`--tokens FILE`); `None`: no tokens file.
    /// With neither a secret nor tokens, every client may do everything.
    pub tokens: Option<Tokens>,
    /// The runtime id reported to clients.
    pub runtime_id: String,
    /// The id of the main graph.
    pub graph_id: String,
    /// How long a silent participant stays known.
    pub participant_timeout: Duration,
    /// Where changes to the main graph are written back (`--auto-save`).
    pub auto_save: Option<PathBuf>,
    /// Roles not to start from the library (`--ignore`).
    pub ignore: Vec<String>,
    /// How long the network's IIPs wait for the participants started for
    /// its nodes (`--wait-timeout`; see `network.rs`).
    pub wait_timeout: Duration,
    /// Print the commands that try the graph when its IIPs go out
    /// (`msgflo --broker embedded`).
    pub try_it: Option<crate::try_it::TryIt>,
    /// How many participants the registry takes, and how fast
    /// (`admission.rs`).
    pub limits: Limits,
}

/// Something that happened.
#[derive(Debug)]
pub enum Event {
    /// A client connected.
    Connected(ClientId),
    /// A client is gone (closed, or too far behind).
    Disconnected(ClientId),
    /// A text frame from a client.
    Frame(ClientId, String),
    /// A message on the discovery queue (already acked).
    Discovery {
        /// The message.
        payload: Bytes,
        /// How long ago it was sent, where the message says (AMQP's
        /// `timestamp`).
        age: Option<Duration>,
    },
    /// A copy of a message on a watched queue (already acked).
    Tapped {
        /// The watched queue (an outport, or dead letters).
        queue: QueueName,
        /// The message.
        payload: Bytes,
        /// The brackets around it (its `msgflo-brackets` header).
        brackets: Framing,
    },
    /// An operation finished.
    Done {
        /// The operation ([`Action::Link`], [`Action::Tap`], ...).
        op: OpId,
        /// `Err`: why it failed.
        result: Result<(), OpError>,
    },
    /// A participant did not answer its `connectinport` in time: it takes
    /// no control messages, so the coordinator forwards its edges.
    Silent {
        /// The participant.
        participant: msgflo_protocol::ids::ParticipantId,
    },
    /// A participant process started for a node exited.
    ChildExited {
        /// Its role.
        role: String,
        /// How; `None`: it could not be started.
        status: Option<std::process::ExitStatus>,
        /// Whether the coordinator was stopping it (then it is not started
        /// again).
        stopped: bool,
    },
    /// The broker connection was made again: it may have lost what was
    /// applied (non-durable bindings, subscriptions).
    Reconnected,
    /// A participant answered a client's `msgflo:call` (or failed to).
    CallAnswer {
        /// The client that asked.
        client: ClientId,
        /// Its request's `requestId`.
        request_id: Option<String>,
        /// Who answered.
        participant: msgflo_protocol::ids::ParticipantId,
        /// The result, or the error.
        outcome: Result<serde_json::Value, String>,
    },
    /// A client's `msgflo:call` ended: everyone answered, or the deadline
    /// passed.
    CallDone {
        /// The client that asked.
        client: ClientId,
        /// Its request's `requestId`.
        request_id: Option<String>,
        /// Those that did not answer by the deadline.
        missing: Vec<msgflo_protocol::ids::ParticipantId>,
    },
    /// A graph participant's graph, or why there is none
    /// ([`Action::FetchSubgraph`]).
    SubgraphFetched {
        /// Who was asked.
        participant: msgflo_protocol::ids::ParticipantId,
        /// Its component.
        component: String,
        /// The graph as JSON text.
        outcome: Result<String, String>,
    },
    /// The participants answered an [`Action::Forward`] (by its deadline).
    Forwarded {
        /// What was forwarded.
        forward: Forward,
        /// Each answer (its frames) or error, from those that answered;
        /// the others did not answer in time.
        answers: Vec<(
            msgflo_protocol::ids::ParticipantId,
            Result<serde_json::Value, String>,
        )>,
    },
    /// An FBP `network` frame a graph participant sent for an edge it was
    /// asked to watch ([`crate::calls::Caller::events`]).
    SubgraphEvent(serde_json::Value),
    /// The tokens file was read again (SIGHUP): these tokens replace the
    /// old ones, for clients let in before too.
    Tokens(Tokens),
    /// Only time passed (a deadline of [`Core::next_deadline`]).
    Tick,
}

/// Something to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A reply to the client's own request: always delivered, in order.
    Answer {
        /// To whom.
        client: ClientId,
        /// The frame.
        text: String,
    },
    /// A message the client did not ask for (data, announcements): dropped,
    /// with the client, when it does not keep up.
    Tell {
        /// To whom.
        client: ClientId,
        /// The frame.
        text: String,
    },
    /// Make a link (AMQP: declare and bind; MQTT: `connectinport`, with
    /// the participant's answer awaited); report with [`Event::Done`].
    Link {
        /// To report the result with.
        op: OpId,
        /// What.
        link: Link,
        /// The graph, for control messages.
        graph: String,
    },
    /// Undo a link; report with [`Event::Done`].
    Unlink {
        /// To report the result with.
        op: OpId,
        /// What.
        link: Link,
        /// The graph, for control messages.
        graph: String,
    },
    /// Say a link again without awaiting anything (a participant restarted
    /// under the same id needs its `connectinport` again).
    Refresh {
        /// What.
        link: Link,
        /// The graph, for control messages.
        graph: String,
    },
    /// Start copying `queue`'s messages here ([`Event::Tapped`]); report
    /// with [`Event::Done`].
    Tap {
        /// To report the result with.
        op: OpId,
        /// The queue (an outport or dead letters).
        queue: QueueName,
    },
    /// Stop copying `queue` and drop everything its tap held.
    Untap {
        /// To report the result with.
        op: OpId,
        /// The queue.
        queue: QueueName,
    },
    /// Send a message to an inport queue (an IIP, a client's packet).
    Send {
        /// The inport.
        queue: QueueName,
        /// The message.
        payload: Bytes,
        /// The brackets around it, sent as its `msgflo-brackets` header
        /// (none: no header).
        brackets: Framing,
    },
    /// Start a participant process for a graph node.
    Spawn {
        /// The node.
        role: String,
        /// The shell command.
        command: String,
    },
    /// Stop the participant process of a node.
    Stop {
        /// The node.
        role: String,
    },
    /// Write the main graph back to its file.
    Save {
        /// Where.
        path: PathBuf,
        /// What.
        graph: Box<Graph>,
    },
    /// Print lines on standard output (the commands that try the graph).
    Print(String),
    /// Ask a graph participant for its graph (`component:getsource` of its
    /// component, through the `fbp` call); the answer comes back as
    /// [`Event::SubgraphFetched`].
    FetchSubgraph {
        /// Whom to ask.
        participant: msgflo_protocol::ids::ParticipantId,
        /// Its component.
        component: String,
    },
    /// Call participants for a client's `msgflo:call`; each answer comes
    /// back as [`Event::CallAnswer`], the end as [`Event::CallDone`].
    Call(Call),
    /// Send an FBP message to the runtimes of a role's graph participants
    /// (the `fbp` call); their answers come back as [`Event::Forwarded`].
    Forward(Forward),
}

/// A client's `msgflo:call` ([`Action::Call`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The client that asked.
    pub client: ClientId,
    /// Its request's `requestId`.
    pub request_id: Option<String>,
    /// The call's name.
    pub call: String,
    /// Its arguments.
    pub args: serde_json::Value,
    /// Whom to call.
    pub participants: Vec<msgflo_protocol::ids::ParticipantId>,
    /// How long to wait for them.
    pub timeout: std::time::Duration,
}

/// The coordinator's state; see the module docs.
pub struct Core {
    config: Config,
    mode: Mode,
    graphs: Graphs,
    registry: Registry,
    /// Which announcements the registry takes.
    admission: admission::Admission,
    /// When each participant's `connectinport`s were last said again.
    refreshed: std::collections::HashMap<msgflo_protocol::ids::ParticipantId, Instant>,
    library: Library,
    /// The secret and the tokens.
    guard: tokens::Guard,
    clients: Clients,
    packets: packets::Streams,
    network: network::Network,
    links: Reconciler<Link>,
    taps: Reconciler<QueueName>,
    /// Participants that answered no `connectinport`: their MQTT edges are
    /// forwarded by the coordinator.
    silent: BTreeSet<msgflo_protocol::ids::ParticipantId>,
    /// Graph participants' graphs (JSON text) by component name, as they
    /// answered `component:getsource`; and the components being asked.
    subgraphs: std::collections::HashMap<String, String>,
    fetching: BTreeSet<String>,
    /// Clients' edge selections inside graph participants' graphs.
    watches: watches::Watches,
    /// Each role's live edits, and the participants joining it later
    /// being brought up to date.
    replays: joiners::Replays,
    /// Roles with a participant process started here, running or not.
    spawned: BTreeSet<String>,
    /// Of those, the ones still running.
    running: BTreeSet<String>,
    /// When to start them again after they exit on their own.
    supervisor: supervise::Supervisor,
    next_op: OpId,
    /// The actions decided while handling the current event.
    out: Vec<Action>,
}

impl Core {
    /// A core holding `graphs` (the main graph first) and `library`; `mode`
    /// says how edges become links on the broker in use.
    pub fn new(config: Config, mode: Mode, graphs: Graphs, library: Library) -> Self {
        Self {
            registry: Registry::new(config.participant_timeout),
            admission: admission::Admission::new(config.limits, config.participant_timeout),
            refreshed: std::collections::HashMap::new(),
            guard: tokens::Guard::new(config.secret.as_deref(), config.tokens.clone()),
            config,
            mode,
            graphs,
            library,
            clients: Clients::default(),
            packets: packets::Streams::default(),
            network: network::Network::default(),
            links: Reconciler::default(),
            taps: Reconciler::default(),
            silent: BTreeSet::new(),
            subgraphs: std::collections::HashMap::new(),
            fetching: BTreeSet::new(),
            watches: watches::Watches::default(),
            replays: joiners::Replays::default(),
            spawned: BTreeSet::new(),
            running: BTreeSet::new(),
            supervisor: supervise::Supervisor::default(),
            next_op: 0,
            out: Vec::new(),
        }
    }

    /// At start-up with a graph (`--graph`): start the library participants
    /// of its nodes, then the network.
    pub fn start(&mut self, now: Instant) -> Vec<Action> {
        self.start_main(now);
        self.settle(now)
    }

    /// Handles one event; returns what to do.
    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Action> {
        match event {
            Event::Connected(client) => self.clients.connect(client),
            Event::Disconnected(client) => {
                self.clients.disconnect(client);
                self.packets_of_gone(client);
                self.unwatch(client);
            }
            Event::Frame(client, text) => self.request(client, &text, now),
            Event::Discovery { payload, age } => self.discovered(&payload, age, now),
            Event::Tapped {
                queue,
                payload,
                brackets,
            } => self.tapped(&queue, &payload, &brackets),
            Event::Done { op, result } => self.done(op, result, now),
            Event::Silent { participant } => self.silenced(participant),
            Event::ChildExited {
                role,
                status,
                stopped,
            } => self.child_exited(&role, status, stopped, now),
            Event::Reconnected => {
                self.links.forget_applied();
                self.taps.forget_applied();
            }
            Event::CallAnswer {
                client,
                request_id,
                participant,
                outcome,
            } => self.call_answered(client, request_id.as_deref(), &participant, outcome),
            Event::CallDone {
                client,
                request_id,
                missing,
            } => self.call_done(client, request_id.as_deref(), &missing),
            Event::SubgraphFetched {
                participant,
                component,
                outcome,
            } => self.subgraph_fetched(&participant, component, outcome),
            Event::Forwarded { forward, answers } => self.forwarded(forward, answers),
            Event::SubgraphEvent(frame) => self.subgraph_event(&frame),
            Event::Tokens(tokens) => {
                self.guard.replace(tokens);
                self.clients.review(&self.guard);
            }
            Event::Tick => {
                self.expire(now);
                self.sum_up_refusals(now);
                self.packets_due(now);
                self.restarts_due(now);
            }
        }
        self.settle(now)
    }

    /// The next moment something is due (an expiry, a retry, a deadline);
    /// the caller sends [`Event::Tick`] then.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.registry.next_expiry(),
            self.admission.next_deadline(),
            self.links.next_retry(),
            self.taps.next_retry(),
            self.network.deadline(),
            self.packets.deadline(),
            self.supervisor.next_due(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// After every event: the broker is brought towards the desired state,
    /// and whatever waited for it (a start's readiness, held IIPs) checked.
    fn settle(&mut self, now: Instant) -> Vec<Action> {
        self.reconcile(now);
        self.network_progress(now);
        // Progress may have changed what is wanted (IIPs sent, taps).
        self.reconcile(now);
        std::mem::take(&mut self.out)
    }

    /// Replies `output` to `client`'s own request.
    fn answer(&mut self, client: ClientId, output: &Output, request_id: Option<&str>) {
        let text = output.to_json(request_id);
        self.out.push(Action::Answer { client, text });
    }

    /// Sends `output` to every client that was let in: news of the
    /// network and the participants, which any right may read.
    fn broadcast(&mut self, output: &Output) {
        self.broadcast_to(output, |_| true);
    }

    /// Sends edge traffic (`network:data`, `begingroup`, `endgroup`) to
    /// the clients that may watch edges.
    fn broadcast_edge(&mut self, output: &Output) {
        self.broadcast_to(output, rights::Rights::may_watch_edges);
    }

    /// Sends `output` to the clients let in whose rights `allow` it.
    fn broadcast_to(&mut self, output: &Output, allow: impl Fn(&rights::Rights) -> bool) {
        let text = output.to_json(None);
        for client in self.clients.receivers(self.guard.open(), allow) {
            self.out.push(Action::Tell {
                client,
                text: text.clone(),
            });
        }
    }

    /// The id of the main graph (the one `--graph` loaded, or the last
    /// `graph:clear` with `main: true`).
    fn main_graph_id(&self) -> String {
        self.graphs
            .main_id()
            .map_or_else(|| self.config.graph_id.clone(), str::to_owned)
    }
}

#[cfg(test)]
mod tests;
