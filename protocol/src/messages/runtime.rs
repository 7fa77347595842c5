//! The `runtime` sub-protocol: runtime information, the main graph's exported
//! ports, and packets sent to and from them (fbp-protocol `runtime.yml`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::macros::command_enum;
use super::shared::present;
use super::{ErrorPayload, PortDef, Protocol};

command_enum! {
    /// A `runtime` message from a client.
    pub enum RuntimeInput for Protocol::Runtime {
        /// `getruntime`: ask for [`RuntimeInfo`] (and then the ports).
        "getruntime" => GetRuntime(GetRuntime),
        /// `packet`: a packet for one of the main graph's exported inports.
        "packet" => Packet(Packet),
    }
}

command_enum! {
    /// A `runtime` message from a runtime.
    pub enum RuntimeOutput for Protocol::Runtime {
        /// `error`: a runtime command failed.
        "error" => Error(ErrorPayload),
        /// `ports`: the main graph's exported ports changed (or were asked for).
        "ports" => Ports(RuntimePorts),
        /// `runtime`: answer to `getruntime`.
        "runtime" => Runtime(RuntimeInfo),
        /// `packetsent`: confirms an input `packet` was delivered.
        "packetsent" => PacketSent(Packet),
        /// `packet`: a packet leaving one of the main graph's exported outports.
        "packet" => Packet(Packet),
    }
}

/// Payload of `runtime:getruntime` (only the legacy `secret`, which decoding
/// removes; anything else is ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetRuntime {}

/// Payload of `runtime:runtime`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeInfo {
    /// Unique runtime id (a UUID v4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Protocol version the runtime speaks, e.g. `"0.7"`.
    pub version: String,
    /// Every capability of the runtime, including ones this client may not use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_capabilities: Option<Vec<String>>,
    /// Capabilities for this client, e.g. `"protocol:graph"`.
    pub capabilities: Vec<String>,
    /// Id of the main graph running on the runtime, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<String>,
    /// Runtime type (`type`), e.g. `"msgflo"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Component library namespace of the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Source repository URL of the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Version of the project's source in `repository`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_version: Option<String>,
}

/// Payload of `runtime:ports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimePorts {
    /// The main graph.
    pub graph: String,
    /// Exported inports.
    pub in_ports: Vec<PortDef>,
    /// Exported outports.
    pub out_ports: Vec<PortDef>,
}

/// Payload of `runtime:packet` (both directions) and `runtime:packetsent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Packet {
    /// Exported port name.
    pub port: String,
    /// What kind of packet this is.
    pub event: PacketEvent,
    /// Basic datatype (`type`), e.g. `"array"`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Link to a JSON schema for the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The data (for `data`) or group name (for `begingroup`); an explicit `null`
    /// is `Some(Value::Null)`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub payload: Option<Value>,
    /// The graph.
    pub graph: String,
}

/// The `event` of a [`Packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PacketEvent {
    /// `connect`.
    Connect,
    /// `begingroup`.
    Begingroup,
    /// `data`.
    Data,
    /// `endgroup`.
    Endgroup,
    /// `disconnect`.
    Disconnect,
}
