//! The `network` sub-protocol: starting, stopping and watching running networks
//! (fbp-protocol `network.yml`). Payloads of the per-edge events
//! (`connect`, `data`, ...) are in `network_event.rs`.

use serde::{Deserialize, Serialize};

use super::macros::command_enum;
use super::shared::js_number;
use super::{
    DataEvent, EdgeEvent, EdgeRef, ErrorPayload, GroupEvent, NodeIcon, OutputMessage, ProcessError,
    Protocol, TargetGraph,
};

command_enum! {
    /// A `network` message from a client.
    pub enum NetworkInput for Protocol::Network {
        /// `start`: start the graph's network.
        "start" => Start(TargetGraph),
        /// `getstatus`: ask for a `status`.
        "getstatus" => GetStatus(TargetGraph),
        /// `stop`: stop the network.
        "stop" => Stop(TargetGraph),
        /// `persist`: keep graphs and components across restarts.
        "persist" => Persist(Persist),
        /// `debug`: switch debug mode.
        "debug" => Debug(SetDebug),
        /// `edges`: the edges the user selected for inspection.
        "edges" => Edges(SelectedEdges),
    }
}

command_enum! {
    /// A `network` message from a runtime.
    pub enum NetworkOutput for Protocol::Network {
        /// `stopped`: the network stopped.
        "stopped" => Stopped(NetworkStopped),
        /// `started`: the network started.
        "started" => Started(NetworkStarted),
        /// `status`: answer to `getstatus`.
        "status" => Status(NetworkStatus),
        /// `output`: a line of console output (or a preview image URL).
        "output" => Output(OutputMessage),
        /// `error`: a network error (or a failed network command).
        "error" => Error(ErrorPayload),
        /// `processerror`: an error inside a process, in debug mode.
        "processerror" => ProcessError(ProcessError),
        /// `icon`: a node's icon changed.
        "icon" => Icon(NodeIcon),
        /// `connect`: transmission on an edge began.
        "connect" => Connect(EdgeEvent),
        /// `begingroup`: a bracket opened on an edge.
        "begingroup" => BeginGroup(GroupEvent),
        /// `data`: a packet passed an edge.
        "data" => Data(DataEvent),
        /// `endgroup`: a bracket closed on an edge.
        "endgroup" => EndGroup(GroupEvent),
        /// `disconnect`: transmission on an edge ended.
        "disconnect" => Disconnect(EdgeEvent),
        /// `edges`: acknowledges the selected edges.
        "edges" => Edges(SelectedEdges),
        /// `persist`: acknowledges `persist`. Not in the schema's output section,
        /// but named as an output of the `network:persist` capability.
        "persist" => Persist(Persist),
    }
}

/// Payload of `network:persist` (the schema allows no fields; any are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persist {}

/// Payload of `network:debug`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetDebug {
    /// Whether debug mode should be on.
    pub enable: bool,
    /// Graph id.
    pub graph: String,
}

/// Payload of `network:edges`, both directions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectedEdges {
    /// The selected edges.
    pub edges: Vec<EdgeRef>,
    /// Graph id.
    pub graph: String,
}

/// Payload of `network:started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkStarted {
    /// When the network started (ISO 8601 date-time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Graph id.
    pub graph: String,
    /// Whether the network has started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    /// Whether the network is running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<bool>,
    /// Whether the network is in debug mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<bool>,
}

/// Payload of `network:stopped`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkStopped {
    /// When the network stopped (ISO 8601 date-time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// How long the network ran, in seconds (written as an integer when whole).
    #[serde(
        default,
        serialize_with = "js_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub uptime: Option<f64>,
    /// Graph id.
    pub graph: String,
    /// Whether the network is running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<bool>,
    /// Whether the network has been started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    /// Whether the network is in debug mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<bool>,
}

/// Payload of `network:status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkStatus {
    /// Graph id.
    pub graph: String,
    /// How long the network has run, in seconds (written as an integer when
    /// whole).
    #[serde(
        default,
        serialize_with = "js_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub uptime: Option<f64>,
    /// Whether the network has been started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    /// Whether the network is running.
    pub running: bool,
    /// Whether the network is in debug mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<bool>,
}
