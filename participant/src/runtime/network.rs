//! Building a [`Network`] from a [`Graph`]: look up each node's component,
//! check every edge, IIP and exported port against the declared ports, and
//! report *all* problems at once, by name. Then create one ring per edge (so
//! fan-in is several rings read by one node, each still single-producer/
//! single-consumer), one pre-filled ring per IIP, and the node states.

use super::component::{ComponentDecl, PortDecl};
use super::edge::{self, EdgeRx, EdgeTx, Signal, DEFAULT_CAPACITY};
use super::live::{self, Editor, Live};
use super::node::{InEdge, Node, NodeError, Reporter};
use super::outputs::{OutEdge, Target};
use super::outside::{Statuses, Wake};
use super::packet::Packet;
use bytes::Bytes;
use msgflo_protocol::graph::{Endpoint, Graph};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Node errors kept for a listener before further ones are only logged.
const ERROR_BACKLOG: usize = 64;

/// The graph does not fit its components; every problem, one line each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid graph: {}", problems.join("; "))]
pub struct BuildError {
    /// What is wrong, naming nodes and ports.
    pub problems: Vec<String>,
}

/// How a [`Network`] runs its nodes (see `scheduler.rs` and the measurement
/// in the runtime's module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheduling {
    /// One task goes round all nodes; edges inside the graph never signal.
    #[default]
    Cooperative,
    /// A task per node; every edge wakes its consumer and producer across
    /// tasks. Kept to measure against (`benches/edges.rs`).
    TaskPerNode,
}

/// A graph instance, ready to [`run`](Network::run).
pub struct Network {
    pub(crate) nodes: Vec<Node>,
    /// Where each node's task parks (cooperative: one signal shared by all
    /// nodes), woken by edges that cross into or out of that task.
    pub(crate) signals: Vec<Arc<Signal>>,
    pub(crate) scheduling: Scheduling,
    pub(crate) reporter: Reporter,
    errors: Option<mpsc::Receiver<NodeError>>,
    capacity: usize,
    case_sensitive: bool,
    decls: Vec<ComponentDecl>,
    /// Whether each node's component was found.
    known: Vec<bool>,
    /// Where live edits come in, once an [`Editor`] was made.
    pub(crate) live: Option<Live>,
    editor: Option<Editor>,
    /// The links to the outside of nodes fed from there.
    statuses: Statuses,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.nodes.iter().map(|n| &*n.name).collect();
        f.debug_struct("Network")
            .field("nodes", &names)
            .finish_non_exhaustive()
    }
}

/// A resolved endpoint: node position, port position, slot.
type Resolved = (usize, usize, Option<u32>);

impl Network {
    /// Builds `graph`, finding components with `lookup`; edges hold
    /// [`DEFAULT_CAPACITY`] packets.
    pub fn build(
        graph: &Graph,
        lookup: impl Fn(&str) -> Option<ComponentDecl>,
    ) -> Result<Self, BuildError> {
        Self::build_with_capacity(graph, lookup, DEFAULT_CAPACITY)
    }

    /// Builds `graph` with edges of `capacity` packets.
    pub fn build_with_capacity(
        graph: &Graph,
        lookup: impl Fn(&str) -> Option<ComponentDecl>,
        capacity: usize,
    ) -> Result<Self, BuildError> {
        Self::build_scheduled(graph, lookup, capacity, Scheduling::Cooperative)
    }

    /// Builds `graph` with edges of `capacity` packets, to run as `scheduling`.
    pub fn build_scheduled(
        graph: &Graph,
        lookup: impl Fn(&str) -> Option<ComponentDecl>,
        capacity: usize,
        scheduling: Scheduling,
    ) -> Result<Self, BuildError> {
        let mut problems = Vec::new();
        let mut decls = Vec::new();
        let mut known = Vec::new();
        let mut names = Vec::new();
        for (name, process) in &graph.processes {
            match lookup(&process.component) {
                Some(decl) => {
                    let decl = if decl.open_ports {
                        with_graph_ports(decl, graph, name)
                    } else {
                        decl
                    };
                    if let Err(e) = decl.check() {
                        problems.push(format!("node {name}: {e}"));
                    }
                    decls.push(decl);
                    known.push(true);
                }
                None => {
                    known.push(false);
                    problems.push(format!(
                        "node {name}: unknown component {:?}",
                        process.component
                    ));
                    decls.push(ComponentDecl::from_fn(&process.component, || {
                        |_: super::Input, _: &mut super::Outputs| Ok(())
                    }));
                }
            }
            names.push(name.as_str());
        }
        let (tx, rx) = mpsc::channel(ERROR_BACKLOG);
        let mut network = Self {
            nodes: Vec::new(),
            signals: Vec::new(),
            scheduling,
            reporter: Reporter(tx),
            errors: Some(rx),
            capacity,
            case_sensitive: graph.case_sensitive,
            decls,
            known,
            live: None,
            editor: None,
            statuses: Statuses::default(),
        };
        let resolve = |end: &Endpoint, inport: bool, problems: &mut Vec<String>| {
            // An empty error: the node's component is unknown, already reported.
            let resolved = network.resolve(&names, end, inport);
            resolved
                .map_err(|e| problems.extend((!e.is_empty()).then_some(e)))
                .ok()
        };
        let mut edges = Vec::new();
        for edge in graph.edges() {
            let src = resolve(&edge.src, false, &mut problems);
            let tgt = resolve(&edge.tgt, true, &mut problems);
            if let (Some(src), Some(tgt)) = (src, tgt) {
                edges.push((src, tgt));
            }
        }
        let mut iips = Vec::new();
        for iip in graph.initials() {
            if let Some(tgt) = resolve(&iip.tgt, true, &mut problems) {
                let payload = serde_json::to_vec(&iip.data).unwrap_or_default();
                iips.push((tgt, Packet::data(Bytes::from(payload))));
            }
        }
        let exported = graph
            .inports
            .iter()
            .map(|p| (true, p))
            .chain(graph.outports.iter().map(|p| (false, p)));
        for (inport, (public, port)) in exported {
            let end = Endpoint::new(&port.process, &port.port);
            if let Err(e) = network.resolve(&names, &end, inport) {
                let kind = if inport { "inport" } else { "outport" };
                problems.extend((!e.is_empty()).then(|| format!("exported {kind} {public}: {e}")));
            }
        }
        if !problems.is_empty() {
            return Err(BuildError { problems });
        }
        network.nodes = names
            .iter()
            .zip(&network.decls)
            .map(|(name, decl)| Node::new(Arc::from(*name), decl))
            .collect();
        let shared: Arc<Signal> = Arc::default();
        network.signals = (0..network.nodes.len())
            .map(|_| match scheduling {
                Scheduling::Cooperative => shared.clone(),
                Scheduling::TaskPerNode => Arc::default(),
            })
            .collect();
        let across = scheduling == Scheduling::TaskPerNode;
        for ((sn, sp, si), (tn, tp, ti)) in edges {
            // Inside one task an edge needs no signals; across tasks both
            // ends may wait.
            let (tx, rx) = if across {
                let signal = |n: usize| Some(network.signals[n].clone());
                edge::with_signals(capacity, signal(sn), signal(tn))
            } else {
                edge::with_signals(capacity, None, None)
            };
            let to = Target {
                node: network.nodes[tn].name.clone(),
                port: tp,
                index: ti,
            };
            network.nodes[sn]
                .outputs
                .connect(sp, OutEdge::into_node(si, tx, to));
            network.nodes[tn].inputs.push(InEdge {
                port: tp,
                index: ti,
                rx,
                external: across,
            });
        }
        // IIPs go first: a node reads its inputs in order in its first step,
        // so its settings (`core/Remote`'s address) come before any data.
        for ((tn, tp, ti), packet) in iips.into_iter().rev() {
            let signal = network.signals[tn].clone();
            let (mut tx, rx) = edge::with_signals(1, None, Some(signal));
            let _ = tx.try_push(packet);
            network.nodes[tn].inputs.insert(
                0,
                InEdge {
                    port: tp,
                    index: ti,
                    rx,
                    external: true,
                },
            );
        }
        for (node, signal) in network.nodes.iter_mut().zip(&network.signals) {
            node.attach(Wake(signal.clone()), &network.statuses);
        }
        tracing::debug!(nodes = network.nodes.len(), "network built");
        Ok(network)
    }

    fn resolve(&self, names: &[&str], end: &Endpoint, inport: bool) -> Result<Resolved, String> {
        let Some(node) = names.iter().position(|n| *n == end.process) else {
            return Err(format!("unknown node {:?}", end.process));
        };
        if !self.known[node] {
            return Err(String::new());
        }
        let decl = &self.decls[node];
        let (index, kind) = if inport {
            (decl.inport_index(&end.port, self.case_sensitive), "inport")
        } else {
            (
                decl.outport_index(&end.port, self.case_sensitive),
                "outport",
            )
        };
        let Some(port) = index else {
            return Err(format!(
                "node {}: {} has no {kind} {:?}",
                end.process, decl.name, end.port
            ));
        };
        let ports = if inport {
            &decl.inports
        } else {
            &decl.outports
        };
        if end.index.is_some() && !ports[port].addressable {
            return Err(format!(
                "node {}: {kind} {:?} of {} is not addressable",
                end.process, end.port, decl.name
            ));
        }
        Ok((node, port, end.index))
    }

    fn endpoint(
        &self,
        node: &str,
        port: &str,
        index: Option<u32>,
        inport: bool,
    ) -> Result<Resolved, BuildError> {
        let names: Vec<&str> = self.nodes.iter().map(|n| &*n.name).collect();
        let mut end = Endpoint::new(node, port);
        end.index = index;
        self.resolve(&names, &end, inport)
            .map_err(|e| BuildError { problems: vec![e] })
    }

    /// The component of `node`, if the node exists.
    pub fn component(&self, node: &str) -> Option<&ComponentDecl> {
        let position = self.nodes.iter().position(|n| &*n.name == node)?;
        self.decls.get(position)
    }

    /// The declaration of `node`'s inport (`inport`) or outport `port`.
    pub fn port(&self, node: &str, port: &str, inport: bool) -> Option<&PortDecl> {
        let (n, p, _) = self.endpoint(node, port, None, inport).ok()?;
        let decl = self.decls.get(n)?;
        if inport {
            decl.inports.get(p)
        } else {
            decl.outports.get(p)
        }
    }

    /// An edge from outside into `node`'s inport `port` (slot `index`): how
    /// an exported inport is fed. Packets pushed on it wake the scheduler.
    pub fn input(
        &mut self,
        node: &str,
        port: &str,
        index: Option<u32>,
    ) -> Result<EdgeTx, BuildError> {
        let (n, p, i) = self.endpoint(node, port, index, true)?;
        let (tx, rx) = edge::with_signals(
            self.capacity,
            Some(Arc::default()),
            Some(self.signals[n].clone()),
        );
        self.nodes[n].inputs.push(InEdge {
            port: p,
            index: i,
            rx,
            external: true,
        });
        Ok(tx)
    }

    /// An edge from `node`'s outport `port` (slot `index`) to outside: how an
    /// exported outport is read.
    pub fn output(
        &mut self,
        node: &str,
        port: &str,
        index: Option<u32>,
    ) -> Result<EdgeRx, BuildError> {
        let (n, p, i) = self.endpoint(node, port, index, false)?;
        let (tx, rx) = edge::with_signals(
            self.capacity,
            Some(self.signals[n].clone()),
            Some(Arc::default()),
        );
        self.nodes[n].outputs.connect(p, OutEdge::external(i, tx));
        Ok(rx)
    }

    /// Edits this network while it runs (`live.rs`); every call gives an
    /// editor of the same network. Edits to a network that runs a task per
    /// node are refused with [`EditError::NotRunning`](super::EditError).
    pub fn editor(&mut self) -> Editor {
        if let Some(editor) = &self.editor {
            return editor.clone();
        }
        let (editor, live) =
            live::channel(self.capacity, self.case_sensitive, self.statuses.clone());
        self.live = Some(live);
        self.editor = Some(editor.clone());
        editor
    }

    /// The state of each link to the outside (`core/Remote` nodes), kept
    /// up to date while the network runs.
    pub fn statuses(&self) -> Statuses {
        self.statuses.clone()
    }

    /// The node errors, as they happen (once; later calls get `None`).
    pub fn errors(&mut self) -> Option<mpsc::Receiver<NodeError>> {
        self.errors.take()
    }
}

/// `decl` with the ports the graph connects to `node` added (for components
/// with [`ComponentDecl::ports_from_graph`]).
fn with_graph_ports(mut decl: ComponentDecl, graph: &Graph, node: &str) -> ComponentDecl {
    let case = graph.case_sensitive;
    for edge in graph.edges() {
        if edge.src.process == node {
            decl = decl.with_port(false, &edge.src.port, case);
        }
        if edge.tgt.process == node {
            decl = decl.with_port(true, &edge.tgt.port, case);
        }
    }
    for iip in graph.initials() {
        if iip.tgt.process == node {
            decl = decl.with_port(true, &iip.tgt.port, case);
        }
    }
    for port in graph.inports.values().filter(|p| p.process == node) {
        decl = decl.with_port(true, &port.port, case);
    }
    for port in graph.outports.values().filter(|p| p.process == node) {
        decl = decl.with_port(false, &port.port, case);
    }
    decl
}
