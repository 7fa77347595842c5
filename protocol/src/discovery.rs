//! The discovery message: how a participant announces itself on the `fbp`
//! queue (AMQP) or topic (MQTT), at start and then every `period / 2.2` seconds.
//!
//! ```json
//! {"protocol":"discovery","command":"participant","payload":{
//!   "id":"repeater-<uuid>","role":"repeater","component":"Repeat","label":"...","icon":"file-word-o",
//!   "inports":[{"id":"in","type":"any","queue":"repeater.IN"}],
//!   "outports":[{"id":"out","type":"any","queue":"repeater.OUT"}]}}
//! ```
//!
//! Our participants write exactly the payload keys `id, role, component, label,
//! icon, inports, outports` (msgflo's cross-language test checks that set), and
//! ports `id, type, queue` plus `description` / `schema` when set. Parsing
//! accepts what other libraries send: `description`, `hidden`, `default`,
//! `persistent`, `options` on ports, `type`/`version`/`inqueue`/`outqueue` from
//! FBP-capable participants, and keeps any other key in `extra`.

use crate::ids::{ParticipantId, PortName, QueueName, Role};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The queue/topic all discovery messages go to, as msgflo names it.
pub const DISCOVERY_QUEUE: &str = "fbp";

/// The environment variable that names another discovery queue/topic.
pub const DISCOVERY_QUEUE_VAR: &str = "MSGFLO_DISCOVERY_QUEUE";

/// The discovery queue/topic of this process: [`DISCOVERY_QUEUE_VAR`] when
/// it is set to a valid queue name, else [`DISCOVERY_QUEUE`]. Coordinators
/// and participants that share a broker but not this name do not see each
/// other (so tests, or two deployments on one broker, can be kept apart).
/// msgflo's own participants (Node.js, Python) always use `fbp`. Read once.
pub fn discovery_queue_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| match std::env::var(DISCOVERY_QUEUE_VAR) {
        Ok(name) if name.trim().is_empty() => DISCOVERY_QUEUE.to_owned(),
        Ok(name) => match QueueName::new(name.trim()) {
            Ok(queue) => queue.as_str().to_owned(),
            Err(error) => {
                tracing::warn!(%error, "{DISCOVERY_QUEUE_VAR} is not a queue name; using {DISCOVERY_QUEUE}");
                DISCOVERY_QUEUE.to_owned()
            }
        },
        Err(_) => DISCOVERY_QUEUE.to_owned(),
    })
}
/// Default discovery period in seconds (`MSGFLO_DISCOVERY_PERIOD`).
pub const DEFAULT_PERIOD_SECS: u64 = 60;

/// What a participant says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// Unique per process, `<role>-<uuid>` by default.
    pub id: ParticipantId,
    /// The node name this participant plays in the graph.
    pub role: Role,
    /// Component name (`Repeat`, `core/Repeat`).
    #[serde(default)]
    pub component: String,
    /// Human readable description of what it does.
    #[serde(default)]
    pub label: String,
    /// Font Awesome icon name.
    #[serde(default)]
    pub icon: String,
    /// Input ports.
    #[serde(default)]
    pub inports: Vec<Port>,
    /// Output ports.
    #[serde(default)]
    pub outports: Vec<Port>,
    /// Longer description (some libraries send it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Runtime type of an FBP-capable participant (`noflo-nodejs`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub runtime_type: Option<String>,
    /// Protocol version of an FBP-capable participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// FBP protocol input queue of an FBP-capable participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inqueue: Option<String>,
    /// FBP protocol output queue of an FBP-capable participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outqueue: Option<String>,
    /// Any other key, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A port in a discovery message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Port {
    /// Port name (`in`).
    pub id: PortName,
    /// Data type (`any`, `string`, `object`, ...).
    #[serde(rename = "type", default = "any")]
    pub datatype: String,
    /// The queue or topic of this port. Hidden ports have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueName>,
    /// What the port is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A schema URL or MIME type for the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Port is not meant to be connected from a graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    /// Default value of the port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Whether the queue should survive the participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent: Option<bool>,
    /// Transport options for the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
    /// Any other key, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn any() -> String {
    "any".into()
}

/// A message on the `fbp` queue could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// Not JSON at all.
    #[error("discovery message is not JSON: {0}")]
    NotJson(serde_json::Error),
    /// JSON, but not `discovery`/`participant`.
    #[error("not a discovery message: protocol {protocol:?}, command {command:?} (expected \"discovery\", \"participant\")")]
    NotParticipant {
        /// The `protocol` found, if any.
        protocol: Option<String>,
        /// The `command` found, if any.
        command: Option<String>,
    },
    /// The payload does not describe a participant.
    #[error("bad discovery payload: {0}")]
    BadPayload(serde_json::Error),
}

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    protocol: &'static str,
    command: &'static str,
    payload: &'a Participant,
}

impl Participant {
    /// A participant with no ports, label or icon yet, and no optional keys:
    /// what it encodes has exactly the keys msgflo checks.
    pub fn new(id: ParticipantId, role: Role, component: impl Into<String>) -> Self {
        Self {
            id,
            role,
            component: component.into(),
            label: String::new(),
            icon: String::new(),
            inports: Vec::new(),
            outports: Vec::new(),
            description: None,
            runtime_type: None,
            version: None,
            inqueue: None,
            outqueue: None,
            extra: Map::new(),
        }
    }

    /// Decodes a message received on `fbp`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DiscoveryError> {
        let value: Value = serde_json::from_slice(bytes).map_err(DiscoveryError::NotJson)?;
        let field = |key: &str| value.get(key).and_then(Value::as_str);
        if field("protocol") != Some("discovery") || field("command") != Some("participant") {
            return Err(DiscoveryError::NotParticipant {
                protocol: field("protocol").map(str::to_owned),
                command: field("command").map(str::to_owned),
            });
        }
        let payload = value.get("payload").cloned().unwrap_or(Value::Null);
        serde_json::from_value(payload).map_err(DiscoveryError::BadPayload)
    }

    /// The full discovery message, ready to publish on `fbp`.
    pub fn encode(&self) -> Vec<u8> {
        let envelope = EnvelopeOut {
            protocol: "discovery",
            command: "participant",
            payload: self,
        };
        // Only strings, lists and JSON values: serialising cannot fail.
        serde_json::to_vec(&envelope).unwrap_or_default()
    }

    /// The inport called `id`.
    pub fn inport(&self, id: &str) -> Option<&Port> {
        self.inports.iter().find(|p| p.id.as_str() == id)
    }

    /// The outport called `id`.
    pub fn outport(&self, id: &str) -> Option<&Port> {
        self.outports.iter().find(|p| p.id.as_str() == id)
    }
}

impl Port {
    /// A port of type `any` on `queue`.
    pub fn new(id: PortName, queue: Option<QueueName>) -> Self {
        Self {
            id,
            datatype: any(),
            queue,
            description: None,
            schema: None,
            hidden: None,
            default: None,
            persistent: None,
            options: None,
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
