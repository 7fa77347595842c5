//! The graphs the runtime holds, changed by `graph:*` commands from clients.
//!
//! [`Graphs`] is a pure state machine: [`Graphs::apply`] takes one
//! [`GraphChange`] and returns the messages that announce what changed, or a
//! [`GraphEditError`] whose text is the `graph:error` message. It does no IO;
//! the FBP server decides whom to send the messages to.
//!
//! The rules, from the conformance suite (`fbp-protocol@0.9.8`) and noflo's
//! graph, the reference runtime:
//! - Every command but `clear` names a graph that exists: an empty `graph` is
//!   `No graph specified`, an unknown one `Requested graph not found`. A
//!   payload that does not decode for want of a `graph` is answered the same
//!   way: see [`GraphEditError::from_decode`].
//! - A reply echoes the request with only the keys it had; `clear` drops
//!   `baseDir`. Where the runtime knows more it says so: `changenode`,
//!   `changeedge` and `changegroup` answer with the whole metadata after the
//!   change; `removeedge` and `removeinitial` list each removed connection as
//!   stored (so `removeinitial` carries the IIP's `src.data`).
//! - Metadata changes merge; a `null` value deletes the key.
//! - Removing a node first announces what goes with it: each attached edge
//!   (`removeedge`), each IIP to it (`removeinitial`), each exported port on it
//!   (`removeinport`, `removeoutport`), each group it leaves empty
//!   (`removegroup`); then `removenode`.
//! - Renaming a node renames it in edges, IIPs, exported ports and groups.
//! - Naming something that does not exist, or adding a node, edge or group (or
//!   renaming to a name) that already exists, is an error naming it — never a
//!   panic, never silence. Exporting a public port name again replaces it, as
//!   noflo does. Edges, IIPs and exported ports must point at existing nodes.
//! - `removeedge`, `changeedge` and `removeinitial` without an `index` match
//!   any index; with one, only that slot.
//! - Port names are kept as sent (no lower-casing).
//!
//! # Layout
//! - this file — [`Graphs`], [`GraphEditError`], dispatch.
//! - `graph_edit/nodes.rs` — nodes, edges and IIPs.
//! - `graph_edit/ports.rs` — exported ports and groups.
//! - `graph_edit_tests.rs` — the replies, key for key.

mod nodes;
mod ports;

pub use nodes::endpoint;
#[cfg(test)]
#[path = "graph_edit_tests.rs"]
mod tests;

use crate::graph::{Endpoint, Graph};
use crate::messages::{ClearGraph, DecodeError, GraphChange, GraphOutput, Metadata, Protocol};
use indexmap::IndexMap;
use serde_json::{Map, Value};

/// The graphs a runtime knows, by id in creation order, and which is the main one.
#[derive(Debug, Clone, Default)]
pub struct Graphs {
    graphs: IndexMap<String, Graph>,
    main: Option<String>,
}

/// Why a `graph:*` command was refused. The `Display` text is the `graph:error`
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphEditError {
    /// The payload's `graph` is empty (or missing: see [`Self::from_decode`]).
    #[error("No graph specified")]
    NoGraph,
    /// The payload names a graph the runtime does not hold.
    #[error("Requested graph not found")]
    GraphNotFound,
    /// `clear` with an empty `id`.
    #[error("No graph ID provided")]
    NoGraphId,
    /// `addnode` or `renamenode` with an empty node id.
    #[error("No node ID provided")]
    NoNodeId,
    /// No node of that id.
    #[error("node \"{0}\" not found")]
    NodeNotFound(String),
    /// A node of that id exists already.
    #[error("node \"{0}\" already exists")]
    NodeExists(String),
    /// No edge between those ports (`A.out -> B.in`).
    #[error("edge \"{0}\" not found")]
    EdgeNotFound(String),
    /// That edge exists already.
    #[error("edge \"{0}\" already exists")]
    EdgeExists(String),
    /// No IIP goes to that port (`B.in`).
    #[error("IIP to \"{0}\" not found")]
    InitialNotFound(String),
    /// No exported port of that public name; `kind` is `inport` or `outport`.
    #[error("{kind} \"{name}\" not found")]
    PortNotFound {
        /// `inport` or `outport`.
        kind: &'static str,
        /// The public name.
        name: String,
    },
    /// An exported port of that public name exists already (renaming to it).
    #[error("{kind} \"{name}\" already exists")]
    PortExists {
        /// `inport` or `outport`.
        kind: &'static str,
        /// The public name.
        name: String,
    },
    /// No group of that name.
    #[error("group \"{0}\" not found")]
    GroupNotFound(String),
    /// A group of that name exists already.
    #[error("group \"{0}\" already exists")]
    GroupExists(String),
    /// A port index that is not a whole number a graph file can hold.
    #[error("port index \"{0}\" is not a number from 0 to 4294967295")]
    BadIndex(String),
    /// Edge metadata whose `delivery` is no delivery mode's name.
    #[error("{0}")]
    BadDelivery(String),
}

impl GraphEditError {
    /// The error to answer a request that did not decode, when the suite expects
    /// one of this module's texts: a `graph:*` payload without `graph` is
    /// [`NoGraph`](Self::NoGraph), a `graph:clear` without `id`
    /// [`NoGraphId`](Self::NoGraphId).
    pub fn from_decode(error: &DecodeError) -> Option<Self> {
        let DecodeError::BadPayload {
            protocol: Protocol::Graph,
            command,
            ..
        } = error
        else {
            return None;
        };
        match (command.as_str(), error.missing_field()?) {
            ("clear", "id") => Some(GraphEditError::NoGraphId),
            (_, "graph") => Some(GraphEditError::NoGraph),
            _ => None,
        }
    }
}

impl Graphs {
    /// No graphs; the first `clear` with `main: true` makes the main one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `graph` under `id` (the coordinator's `--graph` file) and makes it
    /// the main graph.
    pub fn with_main(id: &str, graph: Graph) -> Self {
        let mut graphs = IndexMap::new();
        graphs.insert(id.to_owned(), graph);
        Graphs {
            graphs,
            main: Some(id.to_owned()),
        }
    }

    /// The id of the main graph, if there is one.
    pub fn main_id(&self) -> Option<&str> {
        self.main.as_deref()
    }

    /// The graph held under `id`.
    pub fn get(&self, id: &str) -> Option<&Graph> {
        self.graphs.get(id)
    }

    /// Every graph with its id, in creation order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Graph)> {
        self.graphs.iter().map(|(id, graph)| (id.as_str(), graph))
    }

    /// Applies one client command. Returns the messages announcing the change,
    /// in order (usually one, the echo of the request), or why it was refused.
    /// A refused command changes nothing.
    pub fn apply(&mut self, change: GraphChange) -> Result<Vec<GraphOutput>, GraphEditError> {
        let changes = match change {
            GraphChange::Clear(clear) => vec![self.clear(clear)?],
            change => {
                let graph = self.graph_mut(target(&change))?;
                edit(graph, change)?
            }
        };
        Ok(changes.into_iter().map(GraphOutput::Change).collect())
    }

    fn graph_mut(&mut self, id: &str) -> Result<&mut Graph, GraphEditError> {
        if id.is_empty() {
            return Err(GraphEditError::NoGraph);
        }
        self.graphs.get_mut(id).ok_or(GraphEditError::GraphNotFound)
    }

    /// `clear`: a new, empty graph under `id`, replacing any graph there.
    /// `main: true` makes it the main graph; nothing unmakes one.
    fn clear(&mut self, clear: ClearGraph) -> Result<GraphChange, GraphEditError> {
        if clear.id.is_empty() {
            return Err(GraphEditError::NoGraphId);
        }
        let mut properties = Map::new();
        let strings = [
            ("name", &clear.name),
            ("library", &clear.library),
            ("icon", &clear.icon),
            ("description", &clear.description),
        ];
        for (key, value) in strings {
            if let Some(value) = value {
                properties.insert(key.into(), Value::String(value.clone()));
            }
        }
        if let Some(main) = clear.main {
            properties.insert("main".into(), Value::Bool(main));
        }
        let graph = Graph {
            case_sensitive: true,
            properties: (!properties.is_empty()).then_some(properties),
            ..Graph::default()
        };
        self.graphs.insert(clear.id.clone(), graph);
        if clear.main == Some(true) {
            self.main = Some(clear.id.clone());
        }
        Ok(GraphChange::Clear(ClearGraph {
            base_dir: None,
            ..clear
        }))
    }
}

/// The graph a command is about (`clear`: the one it makes).
pub fn graph_of(change: &GraphChange) -> &str {
    match change {
        GraphChange::Clear(clear) => &clear.id,
        other => target(other),
    }
}

/// The graph a command (other than `clear`) is about.
fn target(change: &GraphChange) -> &str {
    use GraphChange as C;
    match change {
        C::Clear(p) => &p.id,
        C::AddNode(p) => &p.graph,
        C::RemoveNode(p) => &p.graph,
        C::ChangeNode(p) => &p.graph,
        C::AddEdge(p) | C::ChangeEdge(p) => &p.graph,
        C::RemoveEdge(p) => &p.graph,
        C::AddInitial(p) => &p.graph,
        C::RemoveInitial(p) => &p.graph,
        C::AddInport(p) | C::AddOutport(p) => &p.graph,
        C::RemoveInport(p) | C::RemoveOutport(p) => &p.graph,
        C::AddGroup(p) => &p.graph,
        C::RemoveGroup(p) => &p.graph,
        C::ChangeGroup(p) => &p.graph,
        C::RenameNode(p) | C::RenameInport(p) | C::RenameOutport(p) | C::RenameGroup(p) => &p.graph,
    }
}

/// Applies a command (other than `clear`) to `graph`.
fn edit(graph: &mut Graph, change: GraphChange) -> Result<Vec<GraphChange>, GraphEditError> {
    use ports::Kind::{In, Out};
    use GraphChange as C;
    match change {
        // `clear` makes a graph rather than editing one: see `Graphs::clear`.
        C::Clear(_) => Ok(Vec::new()),
        C::AddNode(p) => nodes::add_node(graph, p),
        C::RemoveNode(p) => nodes::remove_node(graph, p),
        C::RenameNode(p) => nodes::rename_node(graph, p),
        C::ChangeNode(p) => nodes::change_node(graph, p),
        C::AddEdge(p) => nodes::add_edge(graph, p),
        C::RemoveEdge(p) => nodes::remove_edge(graph, p),
        C::ChangeEdge(p) => nodes::change_edge(graph, p),
        C::AddInitial(p) => nodes::add_initial(graph, p),
        C::RemoveInitial(p) => nodes::remove_initial(graph, p),
        C::AddInport(p) => ports::add_port(graph, In, p),
        C::RemoveInport(p) => ports::remove_port(graph, In, p),
        C::RenameInport(p) => ports::rename_port(graph, In, p),
        C::AddOutport(p) => ports::add_port(graph, Out, p),
        C::RemoveOutport(p) => ports::remove_port(graph, Out, p),
        C::RenameOutport(p) => ports::rename_port(graph, Out, p),
        C::AddGroup(p) => ports::add_group(graph, p),
        C::RemoveGroup(p) => ports::remove_group(graph, p),
        C::RenameGroup(p) => ports::rename_group(graph, p),
        C::ChangeGroup(p) => ports::change_group(graph, p),
    }
}

/// Merges `changes` into `metadata` (creating it), deleting keys whose new
/// value is `null`; returns the metadata after the change.
fn merge(metadata: &mut Option<Metadata>, changes: Metadata) -> Metadata {
    let metadata = metadata.get_or_insert_with(Metadata::new);
    for (key, value) in changes {
        if value.is_null() {
            metadata.shift_remove(&key);
        } else {
            metadata.insert(key, value);
        }
    }
    metadata.clone()
}

/// Renames the key `from` of `map` to `to`, keeping its position. False when
/// `from` is not a key.
fn rename_key<V>(map: &mut IndexMap<String, V>, from: &str, to: &str) -> bool {
    let Some(index) = map.get_index_of(from) else {
        return false;
    };
    if let Some((_, value)) = map.shift_remove_index(index) {
        map.shift_insert(index, to.to_owned(), value);
    }
    true
}

/// `Node.port`, or `Node.port[2]`, for error messages.
fn describe(endpoint: &Endpoint) -> String {
    match endpoint.index {
        Some(index) => format!("{}.{}[{index}]", endpoint.process, endpoint.port),
        None => format!("{}.{}", endpoint.process, endpoint.port),
    }
}
