//! The JSON graph format, as noflo, Flowhub, fbp-protocol and msgflo write it.
//!
//! A [`Graph`] loads from and saves to JSON without losing anything: unknown keys
//! (at the top level, on processes, connections, endpoints, ports and groups) are
//! kept in `extra` maps, `metadata` keeps the difference between absent and `{}`,
//! and key order is preserved. The only normalisation is that the collections
//! (`caseSensitive`, `inports`, `outports`, `groups`, `processes`, `connections`)
//! are always written, empty when the input had none — which is what noflo and
//! the reference `.fbp` parser write too.
//!
//! # Layout
//! - this file — [`Graph`] and its parts: processes, exported ports, groups.
//! - `connection.rs` — [`Connection`]: an edge between two nodes or an IIP.
//! - `tests.rs` — golden round trips and error cases.

mod connection;
#[cfg(test)]
mod tests;

pub use connection::{edge_name, Connection, Edge, Endpoint, Initial};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Free-form metadata object (`x`, `y`, `label`, `routes`, ...).
pub type Metadata = Map<String, Value>;

/// A flow graph: nodes (processes), the connections between them, exported ports.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Graph {
    /// Whether port names keep their case (`false`: ports are lower-cased).
    #[serde(rename = "caseSensitive", default)]
    pub case_sensitive: bool,
    /// Graph properties: `name`, `description`, `environment.type`, ...;
    /// `None` when the input had no `properties` key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    /// Exported inports: public name -> node port.
    #[serde(default)]
    pub inports: IndexMap<String, ExportedPort>,
    /// Exported outports: public name -> node port.
    #[serde(default)]
    pub outports: IndexMap<String, ExportedPort>,
    /// Groups of nodes.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// Nodes by name, in declaration order.
    #[serde(default)]
    pub processes: IndexMap<String, Process>,
    /// Edges and IIPs, in declaration order.
    #[serde(default)]
    pub connections: Vec<Connection>,
    /// Keys this crate does not know about, kept for saving.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A node of the graph: an instance of a component.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Process {
    /// Component name, e.g. `core/Repeat`.
    #[serde(default)]
    pub component: String,
    /// Node metadata; `None` when the input had no `metadata` key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Unknown keys, kept for saving.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An exported port: the graph's public port name maps to this node port.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExportedPort {
    /// Node name.
    pub process: String,
    /// Port name on that node.
    pub port: String,
    /// Port metadata; `None` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Unknown keys, kept for saving.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A named group of nodes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Names of the member nodes.
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Group metadata; `None` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Unknown keys, kept for saving.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A graph file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid JSON graph: {}{source}", at(path))]
pub struct GraphError {
    /// Where in the graph the problem is (`processes.a.component`); `.` for the top.
    pub path: String,
    /// What serde_json said, with line and column when parsing text.
    pub source: serde_json::Error,
}

/// `path: `, or nothing for the top. serde_path_to_error writes `?` for a
/// step it could not name (a malformed key): those are left out.
fn at(path: &str) -> String {
    let known = path.trim_end_matches(['?', '.']);
    if known.is_empty() {
        String::new()
    } else {
        format!("{known}: ")
    }
}

impl From<serde_path_to_error::Error<serde_json::Error>> for GraphError {
    fn from(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        GraphError {
            path: e.path().to_string(),
            source: e.into_inner(),
        }
    }
}

impl Graph {
    /// Parses a JSON graph. The error names the line, column and offending field.
    pub fn from_json(text: &str) -> Result<Self, GraphError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let graph = serde_path_to_error::deserialize(&mut de)?;
        de.end().map_err(|source| GraphError {
            path: ".".into(),
            source,
        })?;
        Ok(graph)
    }

    /// Converts a JSON value holding a graph.
    pub fn from_value(value: Value) -> Result<Self, GraphError> {
        Ok(serde_path_to_error::deserialize(value)?)
    }

    /// The graph as pretty-printed JSON (two-space indent, like noflo and `fbp`).
    pub fn to_json_pretty(&self) -> String {
        // A Graph holds only strings, maps and JSON values: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The graph as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// `properties.name`, if it is a string.
    pub fn name(&self) -> Option<&str> {
        self.properties
            .as_ref()?
            .get("name")
            .and_then(Value::as_str)
    }

    /// `properties.environment.type`: the runtime the graph is meant for (`msgflo`).
    pub fn runtime(&self) -> Option<&str> {
        self.properties
            .as_ref()?
            .get("environment")
            .and_then(|env| env.get("type"))
            .and_then(Value::as_str)
    }

    /// Sets `properties.environment.type`, keeping other environment keys.
    pub fn set_runtime(&mut self, runtime: &str) {
        let env = self
            .properties
            .get_or_insert_with(Map::new)
            .entry("environment")
            .or_insert_with(|| Value::Object(Map::new()));
        if !env.is_object() {
            *env = Value::Object(Map::new());
        }
        if let Value::Object(env) = env {
            env.insert("type".into(), Value::String(runtime.into()));
        }
    }

    /// The edges between nodes, skipping IIPs.
    pub fn edges(&self) -> impl Iterator<Item = &Edge> {
        self.connections.iter().filter_map(|c| match c {
            Connection::Edge(edge) => Some(edge),
            Connection::Initial(_) => None,
        })
    }

    /// The initial information packets (IIPs).
    pub fn initials(&self) -> impl Iterator<Item = &Initial> {
        self.connections.iter().filter_map(|c| match c {
            Connection::Initial(iip) => Some(iip),
            Connection::Edge(_) => None,
        })
    }
}
