//! Running a participant: connect, declare the queues, announce on `fbp`,
//! serve every inport and the control queue, and stop cleanly.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use msgflo_participant::{runtime::builtins, runner::{self, Options}};
//!
//! let component = builtins::builtin("core/Repeat").expect("built in");
//! let options = Options::new("repeater".try_into()?, "amqp://localhost");
//! let running = runner::start_component(component, options).await?;
//! running.run_until(tokio::signal::ctrl_c()).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - this file — [`Options`], [`start`], [`Running`], and what both kinds
//!   of participant share (connect, declare, control queue, discovery).
//! - `graph.rs` — [`start_graph`]: a graph of in-process components as one
//!   participant, each delivery acked once the graph has handled it;
//!   [`start_component`]: one in-process component, as a one-node graph;
//!   `graph_flow.rs` — its tasks: deliveries in, outputs out, acks.
//! - `brackets.rs` — how brackets cross the broker between graph
//!   participants (the `msgflo-brackets` header).
//! - `inport.rs` — the consume loop of one inport: process, then ack or nack.
//! - `control.rs` — `connectinport` / `connectoutport` from a coordinator.
//! - `answer.rs` — answering calls (`health`, `drain`, `set-prefetch`,
//!   `fbp`, [`Options::calls`]); `stats.rs` — the counters `health` reports.
//! - `fbp.rs` — a graph participant as an FBP runtime on its control queue;
//!   `fbp_graph.rs` — `graph:*` edits applied live (and the `save` call);
//!   `fbp_watch.rs` — `network:edges` / `network:data` of inner edges;
//!   `fbp_packets.rs` — `runtime:packet` out of its exported outports.
//! - `discovery.rs` — the discovery message and its periodic sending.
//! - `adopt.rs` — taking over the MQTT sessions killed participants of the
//!   role left behind.

mod adopt;
mod answer;
pub mod brackets;
mod control;
mod discovery;
mod fbp;
mod fbp_graph;
mod fbp_packets;
mod fbp_watch;
mod graph;
mod graph_flow;
mod inport;
mod stats;

use crate::calls::Calls;
use crate::component::{Component, ComponentSpec, Message};
use crate::metrics::{self, Metrics};
use crate::outputs::Outputs;
use crate::transport::{self, ConnectOptions, DeliveryMode, QueueType, Transport, TransportError};
use bytes::Bytes;
use msgflo_protocol::control as control_queues;
use msgflo_protocol::ids::{ParticipantId, PortName, QueueName, Role};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use discovery::discovery_message;
pub use fbp::Lookup;
pub use graph::{load_graph, start_component, start_graph};

/// Unacked messages per inport when not configured: where throughput levels
/// off in the round-trip benchmark (BENCHMARKS.md); more only adds memory and
/// unfairness between competing consumers.
pub const DEFAULT_PREFETCH: u16 = 128;

/// How to run a participant.
#[derive(Debug, Clone)]
pub struct Options {
    /// The role: the node name in the graph; queues are `ROLE.PORT`.
    pub role: Role,
    /// Unique id; `<role>-<uuid>` by default.
    pub id: ParticipantId,
    /// Broker URL, or several comma-separated (the nodes of a cluster, to
    /// fail over between).
    pub broker: String,
    /// RabbitMQ type of the inport queues it declares (classic by default).
    pub queue_type: QueueType,
    /// The delivery mode of everything it sends; `None` (the default): each
    /// output keeps the mode of the message it answers (persistent where
    /// there is none, as in a graph participant's own sends).
    pub delivery: Option<DeliveryMode>,
    /// Unacked messages per inport, processed concurrently.
    pub prefetch: u16,
    /// Initial packets by inport name, processed once at start.
    pub iips: Map<String, Value>,
    /// Discovery period: the message is sent every `period / 2.2`.
    pub discovery_period: Duration,
    /// Keep the MQTT session when stopping, for a restart under the same id
    /// (see [`ConnectOptions::keep_session`]).
    pub keep_session: bool,
    /// How long [`Running::stop`] waits for the messages in progress (a graph
    /// draining, say a `core/Delay` holding packets). What is not finished
    /// by then is left unacked, so the broker delivers it again.
    pub drain_timeout: Duration,
    /// The calls it answers besides the built-in `health` and `drain`.
    pub calls: Calls,
    /// The broker whose process slots this participant's role holds on
    /// this machine (MQTT participants without `--id`): it takes over the
    /// sessions that killed participants of its role left there
    /// (`adopt.rs`). `None`: no slots, nothing to adopt.
    pub adopt_orphans: Option<transport::BrokerUrl>,
    /// The file a graph participant's graph came from: the `save` call
    /// writes the graph as edited live back there (never before).
    pub graph_file: Option<std::path::PathBuf>,
    /// Where to serve the participant's Prometheus metrics (`GET /metrics`,
    /// see [`crate::metrics`]); `None`: no listener, nothing measured.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl Options {
    /// Defaults for `role` on `broker`.
    pub fn new(role: Role, broker: impl Into<String>) -> Self {
        let id = format!("{role}-{}", uuid::Uuid::new_v4());
        Self {
            id: ParticipantId::new(id).unwrap_or_else(|_| unreachable!("role is not empty")),
            role,
            broker: broker.into(),
            queue_type: QueueType::Classic,
            delivery: None,
            prefetch: DEFAULT_PREFETCH,
            iips: Map::new(),
            discovery_period: Duration::from_secs(msgflo_protocol::discovery::DEFAULT_PERIOD_SECS),
            keep_session: false,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            calls: Calls::new(),
            graph_file: None,
            adopt_orphans: None,
            metrics_addr: None,
        }
    }
}

/// [`Options::drain_timeout`] when not configured.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A participant could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The broker said no.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The component or the options are not usable.
    #[error("{0}")]
    Config(String),
    /// The metrics address cannot be listened on.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::BindError),
}

/// A started participant.
pub struct Running {
    id: ParticipantId,
    transport: Arc<dyn Transport>,
    /// The control queue's connection (the same as `transport` but on MQTT).
    control: Arc<dyn Transport>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    drain_timeout: Duration,
    abandoned: Arc<AtomicBool>,
    /// Turns true when a `drain` call asks the participant to stop.
    drain: watch::Receiver<bool>,
}

/// The queue of `port` for `role`: `ROLE.PORT`, as msgflo names it.
pub fn queue_for(role: &Role, port: &PortName) -> Result<QueueName, RunError> {
    QueueName::default_for(role, port).map_err(|e| RunError::Config(e.to_string()))
}

fn named_queue(name: String) -> Result<QueueName, RunError> {
    QueueName::new(name).map_err(|e| RunError::Config(e.to_string()))
}

/// What every participant has once connected: the transport, its declared
/// queues, the stop switch and its tasks. Shared by [`start`] and
/// [`start_graph`].
pub(crate) struct Base {
    pub(crate) transport: Arc<dyn Transport>,
    /// Inport name -> its queue.
    pub(crate) inports: HashMap<String, QueueName>,
    /// Outport name -> its queue, in declaration order.
    pub(crate) outport_queues: Vec<(String, QueueName)>,
    pub(crate) outputs: Outputs,
    pub(crate) stopped: watch::Receiver<bool>,
    pub(crate) tasks: JoinSet<()>,
    /// Set when stopping gave up waiting: deliveries still in progress are
    /// then dropped unacked rather than settled.
    pub(crate) abandoned: Arc<AtomicBool>,
    /// What `health` reports.
    pub(crate) stats: Arc<stats::Stats>,
    /// The prefetch in force (`set-prefetch` changes it): how many
    /// messages an inport loop takes on at once.
    pub(crate) prefetch: watch::Sender<u16>,
    stop: watch::Sender<bool>,
}

impl Base {
    /// Connects and declares a queue per port of `spec`.
    pub(crate) async fn connect(spec: &ComponentSpec, options: &Options) -> Result<Self, RunError> {
        if let Some(name) = options.calls.clash() {
            return Err(RunError::Config(format!(
                "a call handler named {name:?}: that is a built-in call"
            )));
        }
        // Bound first: a taken address fails the start before the broker
        // sees the participant.
        let listener = match options.metrics_addr {
            Some(addr) => Some(metrics::bind(addr).await?),
            None => None,
        };
        let connect = ConnectOptions {
            client_id: options.id.to_string(),
            keep_session: options.keep_session,
            queue_type: options.queue_type,
            ..ConnectOptions::default()
        };
        let transport = transport::connect(&options.broker, connect).await?;
        let metrics = listener
            .is_some()
            .then(|| Metrics::new(options.role.as_str(), transport.clone()));
        let mut inports = HashMap::new();
        for port in &spec.inports {
            let queue = queue_for(&options.role, &port.id)?;
            transport.declare_inport(&queue).await?;
            inports.insert(port.id.to_string(), queue);
        }
        let mut outport_queues = Vec::new();
        for port in &spec.outports {
            let queue = queue_for(&options.role, &port.id)?;
            transport.declare_outport(&queue).await?;
            outport_queues.push((port.id.to_string(), queue));
        }
        let (stop, stopped) = watch::channel(false);
        let stats = stats::Stats::with(
            spec.inports.iter().map(|p| p.id.as_str()),
            outport_queues.iter().map(|(port, _)| port.as_str()),
            metrics.as_ref(),
            options.prefetch.max(1),
        );
        // Every message sent on an outport is counted: `health` says it,
        // and so does `/metrics` when served.
        let outputs = Outputs::new(transport.clone(), outport_queues.iter().cloned())
            .counting(stats.outport_counters())
            .delivering(options.delivery);
        let (prefetch, _) = watch::channel(options.prefetch.max(1));
        let mut tasks = JoinSet::new();
        if let (Some(listener), Some(metrics)) = (listener, metrics) {
            let mut stopped = stopped.clone();
            let shutdown = async move { until_stopped(&mut stopped).await };
            tasks.spawn(metrics::serve(listener, Arc::new(metrics), shutdown));
        }
        Ok(Self {
            stats: Arc::new(stats),
            prefetch,
            transport,
            inports,
            outport_queues,
            outputs,
            stopped,
            tasks,
            abandoned: Arc::default(),
            stop,
        })
    }

    /// Serves the control queue, announces `spec` on `fbp` (and keeps doing
    /// so): call once the inports are consumed.
    /// `runtime`: the graph participant's FBP runtime, if it is one.
    pub(crate) async fn announce(
        mut self,
        spec: &ComponentSpec,
        options: &Options,
        runtime: Option<fbp::Runtime>,
    ) -> Result<Running, RunError> {
        let runtime = runtime.map(Arc::new);
        // The control queue lives as long as this participant. Replies go to
        // `.fbp.<id>.send`, which whoever sends requests declares and consumes.
        let control_in = named_queue(control_queues::receive_queue(options.id.as_str()))?;
        let control_out = named_queue(control_queues::send_queue(options.id.as_str()))?;
        let control = control_connection(&self.transport, options).await?;
        control.declare_inport(&control_in).await?;
        let controls = control.consume(&control_in, 1).await?;
        let (drain, drained) = watch::channel(false);
        let answering = Arc::new(answer::Answering {
            participant: options.id.to_string(),
            transport: self.transport.clone(),
            stats: self.stats.clone(),
            calls: options.calls.clone(),
            drain,
            inports: self.inports.values().cloned().collect(),
            prefetch: self.prefetch,
            runtime: runtime.clone(),
            late: Default::default(),
        });
        self.tasks.spawn(control::serve(
            control::Rewiring {
                transport: self.transport.clone(),
                replies: control.clone(),
                inports: self.inports.clone(),
                outputs: self.outputs.clone(),
                reply_to: control_out,
                answering,
                runtime: runtime.clone(),
            },
            controls,
            self.stopped.clone(),
        ));
        let mut message =
            discovery::participant(spec, options, &self.inports, &self.outport_queues);
        if runtime.is_some() {
            discovery::as_runtime(&mut message, options);
        }
        let message = Bytes::from(message.encode());
        self.transport.announce(message.clone()).await?;
        if let Some(broker) = &options.adopt_orphans {
            self.tasks.spawn(adopt::orphans(
                self.transport.clone(),
                options.role.clone(),
                broker.clone(),
                self.stopped.clone(),
            ));
        }
        self.tasks.spawn(discovery::keep_announcing(
            self.transport.clone(),
            message,
            options.discovery_period,
            self.stopped.clone(),
        ));
        Ok(Running {
            id: options.id.clone(),
            control,
            transport: self.transport,
            stop: self.stop,
            tasks: self.tasks,
            drain_timeout: options.drain_timeout,
            abandoned: self.abandoned,
            drain: drained,
        })
    }
}

/// Connects, declares the queues, sends discovery, processes the IIPs and
/// starts serving. Returns once the participant is ready for messages.
pub async fn start(component: Component, options: Options) -> Result<Running, RunError> {
    component.check().map_err(RunError::Config)?;
    let spec = component.spec().clone();
    if let Some(port) = options
        .iips
        .keys()
        .find(|p| !spec.inports.iter().any(|i| i.id.as_str() == p.as_str()))
    {
        return Err(RunError::Config(format!(
            "IIP for unknown inport {port:?} of {}",
            spec.name
        )));
    }
    let mut base = Base::connect(&spec, &options).await?;
    for port in &spec.inports {
        let queue = &base.inports[port.id.as_str()];
        let consumer = base
            .transport
            .consume(queue, options.prefetch.max(1))
            .await?;
        base.tasks.spawn(inport::serve(
            inport::Inport {
                place: crate::trace::Place {
                    role: options.role.clone(),
                    port: port.id.clone(),
                    queue: queue.clone(),
                },
                consumer,
                stats: base.stats.clone(),
            },
            component.clone(),
            base.outputs.clone(),
            base.prefetch.subscribe(),
            base.stopped.clone(),
        ));
    }
    let outputs = base.outputs.clone();
    let running = base.announce(&spec, &options, None).await?;

    for (port, data) in &options.iips {
        let message = Message {
            port: PortName::new(port.as_str()).map_err(|e| RunError::Config(e.to_string()))?,
            payload: Bytes::from(serde_json::to_vec(data).unwrap_or_default()),
        };
        if let Err(e) = component.run(message, outputs.clone()).await {
            tracing::warn!(%port, error = %e, "processing the IIP failed");
        }
    }
    Ok(running)
}

impl Running {
    /// The participant id.
    pub fn id(&self) -> &ParticipantId {
        &self.id
    }

    /// The broker (printable, no password).
    pub fn broker(&self) -> String {
        self.transport.broker().to_string()
    }

    /// Serves until `shutdown` completes or a `drain` call asks it to stop,
    /// then stops cleanly.
    pub async fn run_until(mut self, shutdown: impl Future) -> Result<(), RunError> {
        tokio::select! {
            _ = shutdown => {}
            () = until_stopped(&mut self.drain) => {}
        }
        self.stop().await
    }

    /// Completes once a `drain` call asked the participant to stop (then
    /// call [`Running::stop`]); never, if none does.
    pub async fn drain_asked(&mut self) {
        until_stopped(&mut self.drain).await;
    }

    /// Stops taking messages, finishes (and acks) the ones in progress, and
    /// closes the connection. What is not finished within
    /// [`Options::drain_timeout`] is left unacked: the broker delivers it
    /// again (to another participant of the role, or this one restarted).
    pub async fn stop(mut self) -> Result<(), RunError> {
        let _ = self.stop.send(true);
        let tasks = &mut self.tasks;
        let drained = tokio::time::timeout(self.drain_timeout, async {
            while let Some(joined) = tasks.join_next().await {
                if let Err(e) = joined {
                    tracing::error!(error = %e, "participant task failed");
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                waited = ?self.drain_timeout,
                "messages still in progress when stopping; left unacked for the broker to deliver again"
            );
            self.abandoned.store(true, Ordering::SeqCst);
            self.tasks.shutdown().await;
        }
        if !Arc::ptr_eq(&self.control, &self.transport) {
            if let Err(e) = self.control.close().await {
                tracing::debug!(error = %e, "closing the control connection failed");
            }
        }
        self.transport.close().await?;
        // The session ended with the connection: nobody is to adopt it.
        crate::slot::mark_ended();
        Ok(())
    }
}

/// What a participant's control connection adds to its id, as its MQTT
/// client id.
pub(crate) const CONTROL_SUFFIX: &str = ".control";

/// The connection the control queue is consumed on. On MQTT a second one:
/// a broker sends a client only so many unacked messages at once, across
/// all its subscriptions (Mosquitto's `max_inflight_messages`, 20), so a
/// participant holding that many inputs — busy, or with a port held by a
/// live edit — would never get the call or edit that could help. Elsewhere
/// (AMQP: prefetch is per consumer) the participant's own connection.
async fn control_connection(
    transport: &Arc<dyn Transport>,
    options: &Options,
) -> Result<Arc<dyn Transport>, RunError> {
    if !options.broker.starts_with("mqtt") {
        return Ok(transport.clone());
    }
    let connect = ConnectOptions {
        client_id: format!("{}{CONTROL_SUFFIX}", options.id),
        keep_session: false,
        ..ConnectOptions::default()
    };
    Ok(transport::connect(&options.broker, connect).await?)
}

/// The next delivery of `consumer`, or `None` once `stop` is true or the
/// consumer ended.
pub(crate) async fn next_delivery(
    consumer: &mut crate::transport::Consumer,
    stop: &mut watch::Receiver<bool>,
) -> Option<crate::transport::Delivery> {
    tokio::select! {
        biased;
        () = until_stopped(stop) => None,
        delivery = consumer.next() => delivery,
    }
}

/// Completes once `stop` is true (or its sender is gone).
pub(crate) async fn until_stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send: drop it right here.
    let _ = stop.wait_for(|stop| *stop).await.map(|_| ());
}
