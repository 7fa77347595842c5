//! A graph participant: a [`Graph`] of in-process components run as one
//! participant. Its exported ports are the participant's ports (queues
//! `ROLE.PUBLIC`, upper-cased as msgflo does).
//!
//! How a message moves: an inport task takes a broker delivery and pushes it
//! into the graph as a packet whose [`Token`] owns the delivery. The token
//! rides along with the packet and everything derived from it; outputs that
//! reach an exported outport are published (and confirmed), then dropped. When
//! the last clone of the token is dropped — published, or consumed by a sink
//! such as `core/Drop` — the delivery is acked; if a node failed on it,
//! panicked holding it or was stopped, it is nacked (dead-lettered) instead.
//! An output whose every delivery was superseded (its connection lost, the
//! broker delivers it again: `Delivery::superseded`) is not published, nor
//! published again by the transport: it is made again from the new copy.
//!
//! Brackets that reach an exported outport ride on the data messages in a
//! header, and come back out as bracket packets in a graph participant that
//! consumes them: see `brackets.rs` for the encoding.
//!
//! Stopping: the inport tasks stop taking messages, the graph finishes what
//! it holds, the outport tasks publish the rest, and every delivery is
//! settled before the connection closes.

use super::brackets::{self, Framer, Outgoing};
use super::stats::{Stats, Taken};
use super::{fbp, fbp_packets, Base, Options, RunError, Running};
use crate::component::{ComponentSpec, PortSpec};
use crate::outputs::Outputs;
use crate::runtime::{
    Body, ComponentDecl, EdgeRx, EdgeTx, Network, Packet, PortDecl, Token, Track,
};
use crate::trace::{Hop, Place};
use crate::transport::{Consumer, Delivery, DeliveryMode};
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use msgflo_protocol::graph::{Connection, Endpoint, ExportedPort, Graph, Initial};
use msgflo_protocol::ids::PortName;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, watch};

/// A delivery settled by the graph: `true` when it failed.
type Outcome = (Delivery, bool);

/// Reads a graph file: `.json` as JSON, anything else as FBP DSL.
pub fn load_graph(path: &Path) -> Result<Graph, RunError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| RunError::Config(format!("cannot read {}: {e}", path.display())))?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let graph = if json {
        Graph::from_json(&text).map_err(|e| e.to_string())
    } else {
        msgflo_protocol::dsl::parse(&text).map_err(|e| e.to_string())
    };
    graph.map_err(|e| RunError::Config(format!("{}: {e}", path.display())))
}

/// Runs `graph` as a participant, finding components with `lookup` (e.g.
/// [`builtin`](crate::runtime::builtins::builtin)); `name` is the component
/// name announced when the graph has no `properties.name`. Returns once the
/// participant is ready for messages. It is an FBP runtime too (`fbp.rs`):
/// its discovery message says so, and it answers FBP messages about its
/// graph.
pub async fn start_graph(
    graph: &Graph,
    name: &str,
    lookup: impl Fn(&str) -> Option<ComponentDecl> + Send + Sync + 'static,
    options: Options,
) -> Result<Running, RunError> {
    start(graph, name, Arc::new(lookup), options, true).await
}

/// [`start_graph`]; `runtime`: as an FBP runtime.
async fn start(
    graph: &Graph,
    name: &str,
    lookup: Arc<fbp::Lookup>,
    options: Options,
    runtime: bool,
) -> Result<Running, RunError> {
    let mut network =
        Network::build(graph, |c| lookup(c)).map_err(|e| RunError::Config(e.to_string()))?;
    // Only an FBP runtime edits its network (a network with no editor
    // never looks for edits).
    let editor = runtime.then(|| network.editor());
    if graph.inports.is_empty() && graph.outports.is_empty() {
        return Err(RunError::Config(
            "the graph exports no ports (INPORT=node.PORT:NAME / OUTPORT=...)".into(),
        ));
    }
    let config = |e: crate::runtime::BuildError| RunError::Config(e.to_string());
    let mut inputs = Vec::new();
    for (public, port) in &graph.inports {
        inputs.push((
            port_name(public)?,
            network
                .input(&port.process, &port.port, None)
                .map_err(config)?,
        ));
    }
    let mut outputs = Vec::new();
    for (public, port) in &graph.outports {
        outputs.push((
            port_name(public)?,
            network
                .output(&port.process, &port.port, None)
                .map_err(config)?,
        ));
    }
    let spec = spec(graph, name, &network);

    let mut base = Base::connect(&spec, &options).await?;
    let links = network.statuses();
    base.stats.set_links(links.clone());
    if let Some(errors) = network.errors() {
        base.tasks.spawn(note_errors(errors, base.stats.clone()));
    }
    let (settled, outcomes) = mpsc::unbounded_channel();
    let (parked, consumers) = mpsc::unbounded_channel();
    let settled = Settled {
        outcomes: settled,
        abandoned: base.abandoned.clone(),
        stats: base.stats.clone(),
        parked,
    };
    base.tasks.spawn(settle(outcomes, consumers));
    let prefetch = options.prefetch.max(1);
    for (port, tx) in inputs {
        let queue = &base.inports[port.as_str()];
        let consumer = base.transport.consume(queue, prefetch).await?;
        let place = Place {
            role: options.role.clone(),
            port,
            queue: queue.clone(),
        };
        base.tasks.spawn(feed(
            place,
            consumer,
            tx,
            settled.clone(),
            base.stopped.clone(),
        ));
    }
    drop(settled);
    let packets = Arc::new(fbp_packets::PacketWatch::default());
    for (port, rx) in outputs {
        base.tasks.spawn(publish(
            port,
            rx,
            (base.outputs.clone(), base.stats.clone(), packets.clone()),
            usize::from(prefetch),
        ));
    }
    let runtime = editor.map(|editor| {
        fbp::Runtime::new(fbp::Parts {
            id: options.id.to_string(),
            name: spec.name.clone(),
            graph: graph.clone(),
            lookup,
            editor,
            transport: base.transport.clone(),
            inports: base.inports.clone(),
            file: options.graph_file.clone(),
            packets,
            links,
        })
    });
    base.tasks.spawn(network.run(std::future::pending()));
    base.announce(&spec, &options, runtime).await
}

/// Runs one in-process component as a participant: a graph of one node
/// (named after the role) with every port exported under its own name, so
/// the queues are `ROLE.IN`, `ROLE.OUT`, ... as for any msgflo participant.
/// `options.iips` become the graph's IIPs: processed once at start, their
/// outputs published. This is how `msgflo-participant --component` runs.
pub async fn start_component(decl: ComponentDecl, options: Options) -> Result<Running, RunError> {
    let graph = single_node_graph(&decl, options.role.as_str(), &options.iips);
    let name = decl.name.clone();
    let lookup = move |component: &str| (component == decl.name).then(|| decl.clone());
    let options = Options {
        iips: serde_json::Map::new(),
        ..options
    };
    // A plain participant: msgflo's discovery keys only, no FBP runtime.
    start(&graph, &name, Arc::new(lookup), options, false).await
}

fn single_node_graph(
    decl: &ComponentDecl,
    node: &str,
    iips: &serde_json::Map<String, serde_json::Value>,
) -> Graph {
    let export = |port: &PortDecl| {
        let exported = ExportedPort {
            process: node.to_owned(),
            port: port.id.to_string(),
            ..ExportedPort::default()
        };
        (port.id.to_string(), exported)
    };
    let mut graph = Graph {
        case_sensitive: true,
        inports: decl.inports.iter().map(export).collect(),
        outports: decl.outports.iter().map(export).collect(),
        ..Graph::default()
    };
    graph.processes.insert(
        node.to_owned(),
        msgflo_protocol::graph::Process {
            component: decl.name.clone(),
            ..Default::default()
        },
    );
    graph.connections = iips
        .iter()
        .map(|(port, data)| {
            Connection::Initial(Initial {
                data: data.clone(),
                tgt: Endpoint::new(node, port),
                metadata: None,
                extra: serde_json::Map::new(),
            })
        })
        .collect();
    graph
}

fn port_name(public: &str) -> Result<PortName, RunError> {
    PortName::new(public).map_err(|e| RunError::Config(format!("exported port {public:?}: {e}")))
}

/// What discovery says about the graph: its name, `description` and `icon`
/// properties, and each exported port with the type and description of the
/// inner port it exports. A graph of one node that names no description of its
/// own (how `--component` runs) is described as that node's component.
fn spec(graph: &Graph, name: &str, network: &Network) -> ComponentSpec {
    let property = |key: &str| {
        graph
            .properties
            .as_ref()
            .and_then(|p| p.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let single = match graph.processes.keys().collect::<Vec<_>>()[..] {
        [node] => network.component(node),
        _ => None,
    };
    ComponentSpec {
        name: graph.name().unwrap_or(name).to_owned(),
        label: property("description")
            .or_else(|| single.map(|c| c.description.clone()))
            .unwrap_or_default(),
        icon: property("icon")
            .or_else(|| single.map(|c| c.icon.clone()))
            .unwrap_or_else(|| "sitemap".into()),
        inports: exported(&graph.inports, network, true),
        outports: exported(&graph.outports, network, false),
    }
}

/// Exported ports with the type and description of the inner ports.
fn exported<'a>(
    ports: impl IntoIterator<Item = (&'a String, &'a ExportedPort)>,
    network: &Network,
    inport: bool,
) -> Vec<PortSpec> {
    ports
        .into_iter()
        .filter_map(|(public, inner)| {
            let id = PortName::new(public).ok()?;
            let decl = network.port(&inner.process, &inner.port, inport);
            Some(PortSpec {
                id,
                datatype: decl.map_or_else(|| "any".into(), |d| d.datatype.clone()),
                description: decl.and_then(|d| d.description.clone()),
            })
        })
        .collect()
}

/// Where finished deliveries go, unless the participant gave up on them.
#[derive(Clone)]
struct Settled {
    outcomes: mpsc::UnboundedSender<Outcome>,
    /// Stopping timed out: drop deliveries unacked (the broker redelivers).
    abandoned: Arc<AtomicBool>,
    /// Counts each delivery's end.
    stats: Arc<Stats>,
    /// Where an inport's consumer goes once it stopped taking messages: it
    /// lives on until the last delivery is settled, because on AMQP its
    /// channel closes with it, and a delivery still in the graph could then
    /// not be acked — the broker would deliver it again, a duplicate.
    parked: mpsc::UnboundedSender<Consumer>,
}

/// The token of one delivery: settles it when the last clone is dropped.
struct Tracker {
    delivery: Mutex<Option<Delivery>>,
    failed: AtomicBool,
    settled: Settled,
    /// The inport it came from, for the counts.
    port: PortName,
    /// When, for the processing time.
    taken: Taken,
    /// Its place in a trace (its span ends with this token).
    hop: Option<Hop>,
    /// The delivery's mode, which its outputs keep.
    mode: DeliveryMode,
}

impl Track for Tracker {
    fn fail(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    fn superseded(&self) -> bool {
        self.with_delivery(Delivery::superseded).unwrap_or(false)
    }

    fn superseded_signal(&self) -> Option<crate::transport::Signal> {
        self.with_delivery(Delivery::superseded_signal).flatten()
    }

    fn hop(&self) -> Option<&Hop> {
        self.hop.as_ref()
    }

    fn mode(&self) -> Option<DeliveryMode> {
        Some(self.mode)
    }
}

impl Tracker {
    /// `f` of the delivery, while it is not settled yet.
    fn with_delivery<T>(&self, f: impl FnOnce(&Delivery) -> T) -> Option<T> {
        self.delivery
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(f)
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        let delivery = self
            .delivery
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(delivery) = delivery.take() else {
            return;
        };
        if self.settled.abandoned.load(Ordering::SeqCst) {
            tracing::debug!("delivery left unacked: the participant stopped waiting for it");
            self.settled.stats.left();
            return;
        }
        let failed = *self.failed.get_mut();
        self.settled
            .stats
            .settled(self.port.as_str(), failed, self.taken);
        let _ = self.settled.outcomes.send((delivery, failed));
    }
}

/// Acks or nacks each delivery the graph is done with, several at a time
/// (their order does not matter to the broker); ends once every token and
/// every inport task is gone and the last ack went out — and only then
/// drops the inports' consumers (parked by `feed` when it stopped).
async fn settle(
    mut outcomes: mpsc::UnboundedReceiver<Outcome>,
    mut parked: mpsc::UnboundedReceiver<Consumer>,
) {
    const AT_ONCE: usize = 256;
    let mut pending = FuturesUnordered::new();
    let mut consumers = Vec::new();
    loop {
        tokio::select! {
            biased;
            Some(()) = pending.next(), if !pending.is_empty() => {}
            Some(consumer) = parked.recv() => consumers.push(consumer),
            outcome = outcomes.recv(), if pending.len() < AT_ONCE => match outcome {
                Some((delivery, failed)) => pending.push(settle_one(delivery, failed)),
                None => break,
            },
        }
    }
    while pending.next().await.is_some() {}
    drop(consumers);
}

async fn settle_one(delivery: Delivery, failed: bool) {
    let result = if failed {
        delivery.nack().await
    } else {
        delivery.ack().await
    };
    if let Err(e) = result {
        // The broker redelivers an unacked message: nothing is lost.
        tracing::debug!(error = %e, "ack/nack failed; the broker will redeliver");
    }
}

/// Feeds the deliveries of one exported inport into the graph until `stop`.
async fn feed(
    place: Place,
    mut consumer: Consumer,
    mut tx: EdgeTx,
    settled: Settled,
    mut stop: watch::Receiver<bool>,
) {
    let port = &place.port;
    'deliveries: while let Some(delivery) = super::next_delivery(&mut consumer, &mut stop).await {
        let hop = Hop::take(&place, &delivery.headers, delivery.message_id.as_deref());
        let framing = brackets::decode(&delivery.headers).unwrap_or_else(|reason| {
            tracing::warn!(%port, %reason, "brackets of a message ignored");
            brackets::Framing::default()
        });
        let data = Body::Data(delivery.payload.clone());
        let taken = settled.stats.taken();
        let mode = delivery.mode;
        let token: Token = Arc::new(Tracker {
            delivery: Mutex::new(Some(delivery)),
            failed: AtomicBool::new(false),
            settled: settled.clone(),
            port: port.clone(),
            taken,
            hop,
            mode,
        });
        let mut packets: VecDeque<Packet> = framing
            .before
            .into_iter()
            .chain([data])
            .chain(framing.after)
            .map(|body| Packet {
                body,
                token: Some(token.clone()),
            })
            .collect();
        // In one batch where the ring has room: the graph then takes a
        // message's brackets in the same step as its data.
        if !tx.is_closed() {
            tx.push_batch(&mut packets);
        }
        for packet in packets {
            if tx.push(packet).await.is_err() {
                tracing::warn!(%port, "the graph stopped; message dead-lettered");
                token.fail();
                break 'deliveries;
            }
        }
    }
    tracing::debug!(%port, "graph inport stopped");
    // Kept until every delivery is settled (see `Settled::parked`).
    let _ = settled.parked.send(consumer);
}

/// Publishes what reaches one exported outport (up to `concurrency` awaiting
/// confirmation), then drops it, until the graph has finished. Brackets are
/// framed onto the data messages ([`Framer`]).
async fn publish(
    port: PortName,
    mut rx: EdgeRx,
    (outputs, stats, packets): (Outputs, Arc<Stats>, Arc<fbp_packets::PacketWatch>),
    concurrency: usize,
) {
    let to = Publishing {
        outputs,
        stats,
        packets,
    };
    let mut inflight = FuturesUnordered::new();
    let mut framer = Framer::default();
    loop {
        if inflight.len() < concurrency {
            // Take what is there without waiting; once nothing is, the held
            // message goes out.
            if let Some(packet) = rx.try_pop() {
                if let Some(message) = framer.push(packet) {
                    inflight.push(send(&port, message, &to));
                }
                continue;
            }
            if let Some(message) = framer.flush() {
                inflight.push(send(&port, message, &to));
                continue;
            }
        }
        tokio::select! {
            biased;
            Some(()) = inflight.next(), if !inflight.is_empty() => {}
            packet = rx.recv(), if inflight.len() < concurrency => match packet {
                Some(packet) => {
                    if let Some(message) = framer.push(packet) {
                        inflight.push(send(&port, message, &to));
                    }
                }
                None => break,
            },
        }
    }
    if let Some(message) = framer.flush() {
        inflight.push(send(&port, message, &to));
    }
    while inflight.next().await.is_some() {}
    if framer.stranded() > 0 {
        tracing::info!(%port, brackets = framer.stranded(), "brackets after the last message were not sent");
    }
    tracing::debug!(%port, "graph outport stopped");
}

/// Where an exported outport's messages go.
struct Publishing {
    outputs: Outputs,
    /// Counts failures.
    stats: Arc<Stats>,
    /// Copies for an FBP client (`fbp_packets.rs`).
    packets: Arc<fbp_packets::PacketWatch>,
}

/// Resolves once every token is superseded: the broker delivers each input
/// again, and this output will be made again from it. Never for no tokens
/// (an output of IIPs or of a component's own is always published), nor
/// when one of them cannot be superseded.
async fn superseded(tokens: &[Token]) {
    let signals: Option<Vec<_>> = tokens.iter().map(|t| t.superseded_signal()).collect();
    match signals {
        Some(signals) if !signals.is_empty() => {
            futures_util::future::join_all(signals).await;
            if tokens.iter().all(|token| token.superseded()) {
                return;
            }
            std::future::pending().await
        }
        _ => std::future::pending().await,
    }
}

async fn send(port: &PortName, message: Outgoing, to: &Publishing) {
    let Outgoing {
        payload,
        mut headers,
        tokens,
    } = message;
    // The first input's trace goes on (see `crate::trace`), in its
    // delivery mode unless the participant has its own.
    if let Some(hop) = tokens.iter().find_map(|token| token.hop()) {
        hop.stamp(&mut headers);
    }
    let outputs = match tokens.iter().find_map(|token| token.mode()) {
        Some(mode) => to.outputs.clone().answering(mode),
        None => to.outputs.clone(),
    };
    // Publishing the output of an input the broker delivers again would only
    // make a duplicate: it is made again from that copy. Also when the
    // connection is lost while the output waits for its confirm (the
    // transport would publish it again).
    let copy = payload.clone();
    let published = tokio::select! {
        biased;
        () = superseded(&tokens) => {
            tracing::debug!(%port, "output not published: its input comes again (its connection was lost)");
            return;
        }
        published = outputs.send_with(port.as_str(), payload, &headers) => published,
    };
    match published {
        Ok(()) => to.packets.published(port.as_str(), &copy).await,
        Err(e) => {
            tracing::warn!(%port, error = %e, "cannot publish a graph output; its input is dead-lettered");
            to.stats
                .error(format_args!("cannot publish to {port}: {e}"));
            for token in &tokens {
                token.fail();
            }
        }
    }
}

/// Keeps the last node error for `health` (the network logs each).
async fn note_errors(mut errors: mpsc::Receiver<crate::runtime::NodeError>, stats: Arc<Stats>) {
    while let Some(error) = errors.recv().await {
        stats.error(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Signal;
    use std::time::Duration;

    /// A token superseded once `gone` turns true (`None`: never).
    struct Fake(Option<watch::Receiver<bool>>);

    impl Track for Fake {
        fn fail(&self) {}
        fn superseded(&self) -> bool {
            self.0.as_ref().is_some_and(|gone| *gone.borrow())
        }
        fn superseded_signal(&self) -> Option<Signal> {
            let mut gone = self.0.clone()?;
            Some(Box::pin(async move {
                let _ = gone.wait_for(|gone| *gone).await;
            }))
        }
    }

    async fn resolves(tokens: &[Token]) -> bool {
        tokio::time::timeout(Duration::from_millis(100), superseded(tokens))
            .await
            .is_ok()
    }

    #[tokio::test(start_paused = true)]
    async fn an_output_is_superseded_once_all_its_inputs_are() {
        let (a, a_gone) = watch::channel(false);
        let (b, b_gone) = watch::channel(false);
        let tokens: Vec<Token> = vec![Arc::new(Fake(Some(a_gone))), Arc::new(Fake(Some(b_gone)))];
        assert!(!resolves(&tokens).await, "neither input is gone");
        a.send_replace(true);
        assert!(!resolves(&tokens).await, "one input is still live");
        b.send_replace(true);
        assert!(resolves(&tokens).await);
    }

    #[tokio::test(start_paused = true)]
    async fn outputs_without_inputs_or_with_one_that_cannot_be_superseded_are_published() {
        assert!(!resolves(&[]).await, "an output of IIPs");
        let (a, a_gone) = watch::channel(true);
        let tokens: Vec<Token> = vec![Arc::new(Fake(Some(a_gone))), Arc::new(Fake(None))];
        assert!(!resolves(&tokens).await);
        drop(a);
    }
}
