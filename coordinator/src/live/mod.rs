//! The live coordinator: one task that owns the graphs, the participant
//! registry, the library and its child processes, and the broker
//! connection, and answers FBP protocol clients.
//!
//! Everything happens in [`Coordinator::run`]'s loop, one event at a time:
//! a client frame (`requests.rs`), a discovery message (`discovery.rs`), a
//! copy of an edge's or exported outport's traffic (`network.rs`), or the
//! expiry timer. After anything that can change what the graph needs on the
//! broker, the links are planned again and the difference applied
//! ([`crate::bindings`]), so pending edges are bound the moment their
//! participants appear, and removed edges are unbound.
//!
//! # Network status (what `network:start/stop/getstatus` mean here)
//! - `start`: the graph's edges are bound on the broker (or wait, pending,
//!   for their participants), every edge and exported outport is watched
//!   for `network:data` / `runtime:packet`, and the IIPs are sent.
//! - `stop`: the edges are unbound and no more `network:data` is sent (the
//!   taps stay, for the next start); participants keep
//!   running (they are services), but data no longer flows between them.
//! - `getstatus`: `started` and `running` are both whether the network is
//!   started, as msgflo 0.12.3 reports them. A msgflo network is a set of
//!   services with no end of its own: once started, it runs (its edges are
//!   bound, its participants take messages) until it is stopped. noflo-ui
//!   shows a network as running, with a stop button, only when `running`
//!   is true; `started: true, running: false` would read "finished", with
//!   a play button, for a network that is carrying data. (The fbp-protocol
//!   suite expects that noflo form after its test graph has drained: the
//!   one case of the 22 that msgflo-rs answers differently, on purpose.)
//!
//! # IIPs
//! When the network starts, each IIP is sent to its target's inport queue —
//! on AMQP also for a role whose participant is still starting (the queue
//! keeps it for the first one); on MQTT, where a topic keeps nothing, the
//! IIPs of such a role are sent when its first participant appears. Each
//! further participant of a role that appears while the network runs (a
//! restart, a new replica) makes the role's IIPs be sent again, so a
//! participant that starts later still gets its configuration (msgflo#127);
//! on AMQP one participant of the role takes each copy.
//!
//! # Layout
//! - this file — [`Config`], [`Coordinator`], the event loop.
//! - `requests.rs` — answering each FBP command.
//! - `network.rs` — starting/stopping, links, IIPs, taps.
//! - `discovery.rs` — participants appearing and expiring.
//! - `pending.rs` — graph nodes no participant serves, and why.
//! - `held_iips.rs` — the start's IIPs wait for the participants started for
//!   the graph (`--wait-timeout`).
//! - [`extension`] — the `msgflo` sub-protocol: `msgflo:participants` for
//!   the `msgflo-participants` tool.

mod discovery;
pub mod extension;
mod held_iips;
mod network;
mod pending;
mod requests;

pub use pending::PendingNode;

use crate::bindings::{Link, Mode};
use crate::fbp::graph_edit::Graphs;
use crate::library::Library;
use crate::registry::Registry;
use crate::server::{ClientId, Event, Outbox, Undelivered};
use crate::spawn::Children;
use bytes::Bytes;
use msgflo_participant::transport::{Consumer, Delivery, Transport};
use msgflo_protocol::ids::QueueName;
use msgflo_protocol::messages::Output;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How the coordinator runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The FBP protocol secret; `None`: no secret is asked for.
    pub secret: Option<String>,
    /// The runtime id reported to clients.
    pub runtime_id: String,
    /// The id of the main graph.
    pub graph_id: String,
    /// How long a silent participant stays known.
    pub participant_timeout: Duration,
    /// Where changes to the main graph are written back (`--auto-save`).
    pub auto_save: Option<std::path::PathBuf>,
    /// Roles not to start from the library (`--ignore`).
    pub ignore: Vec<String>,
    /// How long the network's IIPs wait for the participants started for
    /// its nodes (`--wait-timeout`; see `held_iips.rs`).
    pub wait_timeout: Duration,
    /// Print the commands that try the graph when its IIPs go out
    /// (`msgflo --broker embedded`).
    pub try_it: Option<crate::try_it::TryIt>,
}

/// Copies of an outport's traffic arriving for the coordinator.
type TapEvent = (QueueName, Delivery);

/// The live state; see the module docs.
pub struct Coordinator {
    config: Config,
    transport: Arc<dyn Transport>,
    mode: Mode,
    graphs: Graphs,
    registry: Registry,
    library: Library,
    children: Children,
    clients: HashMap<ClientId, Outbox>,
    /// Clients that have shown the secret (all clients when there is none):
    /// only they get broadcasts (network:data, runtime:packet, ...).
    trusted: std::collections::HashSet<ClientId>,
    /// The links applied on the broker.
    applied: BTreeSet<Link>,
    started: bool,
    /// The graph the network runs (the one last started).
    network_graph: String,
    /// Roles whose IIPs wait in their queue for the first participant.
    iips_waiting: BTreeSet<String>,
    /// Whether the network's IIPs wait for the participants started for it.
    hold: held_iips::IipHold,
    /// Outports being watched, with their tap queues.
    taps: HashMap<QueueName, QueueName>,
    tap_events: mpsc::Sender<TapEvent>,
    tap_rx: Option<mpsc::Receiver<TapEvent>>,
}

impl Coordinator {
    /// A coordinator on `transport`, holding `graphs` (the main graph first).
    pub fn new(
        config: Config,
        transport: Arc<dyn Transport>,
        graphs: Graphs,
        library: Library,
        children: Children,
    ) -> Self {
        let mode = match transport.broker().scheme {
            msgflo_participant::transport::Scheme::Mqtt
            | msgflo_participant::transport::Scheme::Mqtts => Mode::Participants,
            _ => Mode::Queues,
        };
        let (tap_events, tap_rx) = mpsc::channel(4096);
        Self {
            registry: Registry::new(config.participant_timeout),
            config,
            transport,
            mode,
            graphs,
            library,
            children,
            clients: HashMap::new(),
            trusted: std::collections::HashSet::new(),
            applied: BTreeSet::new(),
            started: false,
            network_graph: String::new(),
            iips_waiting: BTreeSet::new(),
            hold: held_iips::IipHold::new(),
            taps: HashMap::new(),
            tap_events,
            tap_rx: Some(tap_rx),
        }
    }

    /// Serves until `shutdown` completes: client events from `events`,
    /// discovery from `discovery`. Stops every child process before
    /// returning.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        mut discovery: Consumer,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut shutdown = std::pin::pin!(shutdown);
        let (Some(mut taps), Some(mut links_confirmed)) =
            (self.tap_rx.take(), self.hold.confirmations())
        else {
            return;
        };
        loop {
            let timer = sleep_until(self.registry.next_expiry());
            let iips_timer = sleep_until(self.hold.deadline());
            tokio::select! {
                () = &mut shutdown => break,
                event = events.recv() => match event {
                    Some(event) => self.client_event(event).await,
                    None => break,
                },
                delivery = discovery.next() => match delivery {
                    Some(delivery) => self.discovered(delivery).await,
                    None => {
                        tracing::error!("the discovery consumer ended");
                        break;
                    }
                },
                Some((outport, delivery)) = taps.recv() => self.tapped(&outport, delivery).await,
                () = timer => self.expire(Instant::now()).await,
                () = iips_timer => self.iips_timed_out().await,
                Some(hold) = links_confirmed.recv() => self.iips_confirmed(hold).await,
            }
        }
        self.children.stop_all().await;
        if let Err(error) = self.transport.close().await {
            tracing::debug!(%error, "closing the broker connection");
        }
    }

    async fn client_event(&mut self, event: Event) {
        match event {
            Event::Connected(id, sender) => {
                self.clients.insert(id, sender);
            }
            Event::Disconnected(id) => {
                self.clients.remove(&id);
                self.trusted.remove(&id);
            }
            Event::Frame(id, text) => self.request(id, &text).await,
        }
    }

    /// Sends `output` to one client.
    fn send(&mut self, client: ClientId, output: &Output, response_to: Option<&str>) {
        self.send_text(client, output.to_json(response_to));
    }

    /// Sends a message text to one client.
    fn send_text(&mut self, client: ClientId, text: String) {
        let Some(sender) = self.clients.get(&client) else {
            return;
        };
        if let Err(why) = sender.answer(text) {
            gone(client, &why);
            self.clients.remove(&client);
        }
    }

    /// Sends `output` to every client that may see data (see `trusted`).
    fn broadcast(&mut self, output: &Output) {
        let text = output.to_json(None);
        let open = self.config.secret.is_none();
        let trusted = &self.trusted;
        self.clients.retain(|client, sender| {
            if !open && !trusted.contains(client) {
                return true;
            }
            match sender.tell(text.clone()) {
                Ok(()) => true,
                Err(why) => {
                    gone(*client, &why);
                    false
                }
            }
        });
    }

    /// Sends `payload` to an inport queue, logging a failure.
    async fn send_to_queue(&self, queue: &QueueName, payload: Bytes) -> bool {
        match self.transport.send_to_inport(queue, payload).await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%queue, %error, "sending failed");
                false
            }
        }
    }
}

/// Completes at `at`; never without it.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Logs why a client no longer gets messages.
fn gone(client: ClientId, why: &Undelivered) {
    match why {
        Undelivered::TooFarBehind => {
            tracing::warn!(client, "client does not keep up; disconnecting it");
        }
        Undelivered::Closed => tracing::debug!(client, "client connection already closed"),
    }
}
