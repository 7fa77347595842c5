//! A graph participant: a [`Graph`] of in-process components run as one
//! participant. Its exported ports are the participant's ports (queues
//! `ROLE.PUBLIC`, upper-cased as msgflo does).
//!
//! How a message moves (the tasks are in `graph_flow.rs`): an inport task
//! takes a broker delivery and pushes it into the graph as a packet whose
//! `Token` owns the delivery. The token
//! rides along with the packet and everything derived from it; outputs that
//! reach an exported outport are published (and with the broker), then dropped. When
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

use super::graph_flow::{feed, note_errors, publish, settle, Settled};
use super::{fbp, fbp_packets, Base, Options, RunError, Running};
use crate::component::{ComponentSpec, PortSpec};
use crate::runtime::{ComponentDecl, Network, PortDecl};
use crate::trace::Place;
use msgflo_protocol::graph::{Connection, Endpoint, ExportedPort, Graph, Initial};
use msgflo_protocol::ids::PortName;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::mpsc;

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
