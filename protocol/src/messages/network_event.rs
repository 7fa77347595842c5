//! Payloads of `network` outputs about nodes and edges of a running network:
//! `connect`/`disconnect`, `begingroup`/`endgroup`, `data`, `output`,
//! `processerror`, `icon` (fbp-protocol `shared/network_event` and friends).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::PortRef;

/// Payload of `network:connect` and `network:disconnect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeEvent {
    /// Edge id, usually its `.fbp` line, e.g. `Hello() OUT -> IN World()`.
    pub id: String,
    /// Source port; absent for IIPs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<PortRef>,
    /// Target port.
    pub tgt: PortRef,
    /// Graph id.
    pub graph: String,
    /// Path of node ids to the subgraph the edge is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subgraph: Option<Vec<String>>,
}

/// Payload of `network:begingroup` and `network:endgroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEvent {
    /// Edge id.
    pub id: String,
    /// Source port; absent for IIPs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<PortRef>,
    /// Target port.
    pub tgt: PortRef,
    /// Graph id.
    pub graph: String,
    /// Path of node ids to the subgraph the edge is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subgraph: Option<Vec<String>>,
    /// Group name.
    pub group: String,
}

/// Payload of `network:data`.
///
/// The schema's `additionalProperties` list omits `type` and `schema` although it
/// defines them; both are accepted and written when set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataEvent {
    /// Edge id, e.g. `DATA -> IN Hello()` for an IIP.
    pub id: String,
    /// Source port; absent for IIPs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<PortRef>,
    /// Target port.
    pub tgt: PortRef,
    /// Graph id.
    pub graph: String,
    /// Path of node ids to the subgraph the edge is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subgraph: Option<Vec<String>>,
    /// The data (required, may be `null`).
    pub data: Value,
    /// Basic datatype (`type`), e.g. `"array"`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Link to a JSON schema for the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

/// Payload of `network:output`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputMessage {
    /// The output line.
    pub message: String,
    /// Kind of output (`type`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<OutputKind>,
    /// URL of an image, for [`OutputKind::Previewurl`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The `type` of an [`OutputMessage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    /// `message`: a console line.
    Message,
    /// `previewurl`: `url` points at an image.
    Previewurl,
}

/// Payload of `network:processerror`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessError {
    /// Node id.
    pub id: String,
    /// The error.
    pub error: String,
    /// Graph id.
    pub graph: String,
}

/// Payload of `network:icon`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeIcon {
    /// Node id.
    pub id: String,
    /// The new icon.
    pub icon: String,
    /// Graph id.
    pub graph: String,
}
