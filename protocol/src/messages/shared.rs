//! Payload pieces used by several sub-protocols (fbp-protocol `shared.yml`): port
//! references, IIPs, port definitions, metadata, error payloads.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Free-form metadata of a node, edge, IIP, exported port or group (`x`, `y`,
/// `route`, `description`, ...). A `null` value is kept: in `changenode` it means
/// "delete this key".
pub type Metadata = Map<String, Value>;

/// A port of a node in a graph (`shared/port`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRef {
    /// Node id.
    pub node: String,
    /// Port name.
    pub port: String,
    /// Connection index, for addressable (array) ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<PortIndex>,
}

impl PortRef {
    /// A reference to `node`'s `port`, without an index.
    pub fn new(node: impl Into<String>, port: impl Into<String>) -> Self {
        PortRef {
            node: node.into(),
            port: port.into(),
            index: None,
        }
    }
}

/// Index of an addressable port connection. The schema allows a string or a
/// number; numbers must be non-negative integers (a whole float such as `1.0`
/// reads as `1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortIndex {
    /// A numeric index.
    Number(u64),
    /// A string index, kept as sent.
    Name(String),
}

impl Serialize for PortIndex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PortIndex::Number(n) => serializer.serialize_u64(*n),
            PortIndex::Name(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for PortIndex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PortIndexVisitor)
    }
}

/// Accepts a non-negative integer or a string.
struct PortIndexVisitor;

impl Visitor<'_> for PortIndexVisitor {
    type Value = PortIndex;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a port index (non-negative integer or string)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortIndex, E> {
        Ok(PortIndex::Number(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortIndex, E> {
        u64::try_from(v)
            .map(PortIndex::Number)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<PortIndex, E> {
        if v.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&v) {
            // Exact: whole and below 2^53.
            Ok(PortIndex::Number(v as u64))
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PortIndex, E> {
        Ok(PortIndex::Name(v.to_owned()))
    }
}

/// An initial information packet (`shared/iip`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iip {
    /// The IIP value in its JSON type (required, may be `null`).
    pub data: Value,
}

/// A pair of ports, as listed in `network:edges`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeRef {
    /// Source port.
    pub src: PortRef,
    /// Target port.
    pub tgt: PortRef,
}

/// One port in a port list (`shared/port_definition`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortDef {
    /// Port name.
    pub id: String,
    /// Port datatype (`type`), e.g. `"boolean"`, `"all"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Link to a JSON schema for data on this port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Whether the port must be connected for the component to work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Whether the port is an array port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addressable: Option<bool>,
    /// Textual description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Values accepted by the port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
    /// Default value; `Some(Value::Null)` when `null` was given explicitly.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub default: Option<Value>,
}

impl PortDef {
    /// A port with only an id and a datatype.
    pub fn new(id: impl Into<String>, kind: impl Into<String>) -> Self {
        PortDef {
            id: id.into(),
            kind: kind.into(),
            schema: None,
            required: None,
            addressable: None,
            description: None,
            values: None,
            default: None,
        }
    }
}

/// Payload of every `<protocol>:error` output.
///
/// The schemas require only `message`; `network:error` adds `stack` and `graph`.
/// Both are accepted (and written when set) for every protocol, since runtimes
/// send a `stack` on other errors too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorPayload {
    /// What went wrong, e.g. `Requested graph not found`.
    pub message: String,
    /// Stack trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// The graph concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<String>,
}

impl ErrorPayload {
    /// An error with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        ErrorPayload {
            message: message.into(),
            stack: None,
            graph: None,
        }
    }
}

/// A payload naming only a graph: `network:start`/`stop`/`getstatus`,
/// `trace:stop`/`clear`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGraph {
    /// Graph id.
    pub graph: String,
}

impl TargetGraph {
    /// A payload for `graph`.
    pub fn new(graph: impl Into<String>) -> Self {
        TargetGraph {
            graph: graph.into(),
        }
    }
}

/// Largest integer a JSON number (an IEEE double) holds exactly: 2^53.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// Deserialises an optional JSON value so that an explicit `null` is
/// `Some(Value::Null)`, not `None` (use with `#[serde(default)]`).
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Serialises a number of seconds the way JavaScript does: whole values as
/// integers (`1000`, not `1000.0`), so integer input round-trips unchanged.
pub(crate) fn js_number<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match *v {
        Some(x) if x.fract() == 0.0 && x.abs() <= MAX_SAFE_INTEGER => s.serialize_i64(x as i64),
        Some(x) => s.serialize_f64(x),
        None => s.serialize_none(),
    }
}
