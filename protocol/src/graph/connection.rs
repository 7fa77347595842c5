//! Connections of a graph: edges between node ports, and initial information
//! packets (IIPs). In JSON both live in `connections`; an IIP is the one with a
//! `data` key (which may be any JSON value, `null` included).

use super::Metadata;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// One entry of `connections`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Connection {
    /// `src` port -> `tgt` port.
    Edge(Edge),
    /// Data sent to `tgt` when the network starts.
    Initial(Initial),
}

/// An edge from an outport to an inport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// Where packets come from.
    pub src: Endpoint,
    /// Where packets go.
    pub tgt: Endpoint,
    /// Edge metadata (`route`, ...); `None` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Unknown keys, kept for saving.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An initial information packet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Initial {
    /// The packet: any JSON value.
    pub data: Value,
    /// The inport it is sent to.
    pub tgt: Endpoint,
    /// IIP metadata; `None` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Unknown keys, kept for saving.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A port of a node, optionally one slot of an addressable (array) port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// Node name.
    pub process: String,
    /// Port name.
    pub port: String,
    /// Slot of an addressable port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Unknown keys, kept for saving.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Endpoint {
    /// A plain (non-addressable) port of `process`.
    pub fn new(process: impl Into<String>, port: impl Into<String>) -> Self {
        Self {
            process: process.into(),
            port: port.into(),
            index: None,
            extra: Map::new(),
        }
    }

    /// The same port at slot `index`.
    pub fn at(mut self, index: u32) -> Self {
        self.index = Some(index);
        self
    }
}

/// `A() OUT -> IN B()`: how noflo names an edge, in `network:data` ids and
/// the like.
pub fn edge_name(src: &Endpoint, tgt: &Endpoint) -> String {
    format!(
        "{}() {} -> {} {}()",
        src.process,
        src.port.to_uppercase(),
        tgt.port.to_uppercase(),
        tgt.process
    )
}

impl Connection {
    /// The inport this connection feeds.
    pub fn tgt(&self) -> &Endpoint {
        match self {
            Connection::Edge(edge) => &edge.tgt,
            Connection::Initial(iip) => &iip.tgt,
        }
    }

    /// The connection's metadata, if any.
    pub fn metadata(&self) -> Option<&Metadata> {
        match self {
            Connection::Edge(edge) => edge.metadata.as_ref(),
            Connection::Initial(iip) => iip.metadata.as_ref(),
        }
    }
}

impl<'de> Deserialize<'de> for Connection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        let (kind, result) = if map.contains_key("data") {
            (
                "IIP",
                serde_json::from_value(Value::Object(map)).map(Connection::Initial),
            )
        } else if map.contains_key("src") {
            (
                "edge",
                serde_json::from_value(Value::Object(map)).map(Connection::Edge),
            )
        } else {
            return Err(D::Error::custom(
                "connection has neither `src` (an edge) nor `data` (an IIP)",
            ));
        };
        result.map_err(|e| D::Error::custom(format!("invalid {kind}: {e}")))
    }
}
