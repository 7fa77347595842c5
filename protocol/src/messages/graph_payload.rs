//! Payloads of the `graph` sub-protocol, the same in both directions.
//!
//! Every payload except `clear` names its `graph`. Optional fields, `metadata`
//! included, are written only when set, so a reply built from a request without
//! metadata has no `metadata` key. Keys the schema does not list are ignored.

use serde::{Deserialize, Serialize};

use super::{Iip, Metadata, PortRef};

/// Payload of `graph:clear`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearGraph {
    /// Id of the new graph, used by every later message about it.
    pub id: String,
    /// Human-readable label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Component library identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// Whether this is the project's main graph (not registered as a component).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<bool>,
    /// Icon for the graph used as a component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Description for the graph used as a component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Project directory (`baseDir`); not in the schema, but the conformance
    /// suite sends it. Replies must leave it `None`.
    #[serde(rename = "baseDir", default, skip_serializing_if = "Option::is_none")]
    pub base_dir: Option<String>,
}

/// Payload of `graph:addnode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddNode {
    /// Node id.
    pub id: String,
    /// Component name, e.g. `core/Repeat`.
    pub component: String,
    /// Node metadata (`x`, `y`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:removenode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveNode {
    /// Node id.
    pub id: String,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:renamenode`, `renameinport`, `renameoutport` and
/// `renamegroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rename {
    /// Old name.
    pub from: String,
    /// New name.
    pub to: String,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:changenode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeNode {
    /// Node id.
    pub id: String,
    /// Keys to merge into the node's metadata; `null` values delete keys. In a
    /// reply: the node's metadata after the change.
    pub metadata: Metadata,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:addedge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddEdge {
    /// Source port.
    pub src: PortRef,
    /// Target port.
    pub tgt: PortRef,
    /// Edge metadata (`route`, `schema`, `secure`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:changeedge` (same fields as [`AddEdge`]; `metadata` is
/// optional in the schema).
pub type ChangeEdge = AddEdge;

/// Payload of `graph:removeedge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveEdge {
    /// Source port.
    pub src: PortRef,
    /// Target port.
    pub tgt: PortRef,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:addinitial`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddInitial {
    /// The IIP.
    pub src: Iip,
    /// Target port.
    pub tgt: PortRef,
    /// IIP metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:removeinitial`. Requests usually omit `src`; the reply
/// carries the removed IIP's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoveInitial {
    /// The IIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<Iip>,
    /// Target port.
    pub tgt: PortRef,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:addinport` and `graph:addoutport`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddPort {
    /// Exported name.
    pub public: String,
    /// Node id.
    pub node: String,
    /// Port of the node.
    pub port: String,
    /// Port metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:removeinport` and `graph:removeoutport`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovePort {
    /// Exported name.
    pub public: String,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:addgroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddGroup {
    /// Group name.
    pub name: String,
    /// Ids of the nodes in the group.
    pub nodes: Vec<String>,
    /// Group metadata (`description`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:removegroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveGroup {
    /// Group name.
    pub name: String,
    /// Graph id.
    pub graph: String,
}

/// Payload of `graph:changegroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeGroup {
    /// Group name.
    pub name: String,
    /// New group metadata.
    pub metadata: Metadata,
    /// Graph id.
    pub graph: String,
}
