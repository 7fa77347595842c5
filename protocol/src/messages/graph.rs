//! The `graph` sub-protocol: building and changing graphs (fbp-protocol
//! `graph.yml`).
//!
//! Requests and the runtime's notifications have the same shapes
//! (`graph/messages/*` in the schema), so one enum, [`GraphChange`], serves both
//! directions; [`GraphOutput`] adds `graph:error`. The payload structs are in
//! `graph_payload.rs`.

use serde_json::Value;

use super::graph_payload::{
    AddEdge, AddGroup, AddInitial, AddNode, AddPort, ChangeEdge, ChangeGroup, ChangeNode,
    ClearGraph, RemoveEdge, RemoveGroup, RemoveInitial, RemoveNode, RemovePort, Rename,
};
use super::macros::command_enum;
use super::{DecodeError, ErrorPayload, Protocol};

command_enum! {
    /// A change to a graph: requested by a client, or announced by a runtime.
    pub enum GraphChange for Protocol::Graph {
        /// `clear`: create (or empty) a graph.
        "clear" => Clear(ClearGraph),
        /// `addnode`.
        "addnode" => AddNode(AddNode),
        /// `removenode`.
        "removenode" => RemoveNode(RemoveNode),
        /// `renamenode`.
        "renamenode" => RenameNode(Rename),
        /// `changenode`: merge node metadata (`null` deletes a key).
        "changenode" => ChangeNode(ChangeNode),
        /// `addedge`.
        "addedge" => AddEdge(AddEdge),
        /// `removeedge`.
        "removeedge" => RemoveEdge(RemoveEdge),
        /// `changeedge`: change edge metadata.
        "changeedge" => ChangeEdge(ChangeEdge),
        /// `addinitial`: add an IIP.
        "addinitial" => AddInitial(AddInitial),
        /// `removeinitial`: remove an IIP.
        "removeinitial" => RemoveInitial(RemoveInitial),
        /// `addinport`: export an inport.
        "addinport" => AddInport(AddPort),
        /// `removeinport`.
        "removeinport" => RemoveInport(RemovePort),
        /// `renameinport`.
        "renameinport" => RenameInport(Rename),
        /// `addoutport`: export an outport.
        "addoutport" => AddOutport(AddPort),
        /// `removeoutport`.
        "removeoutport" => RemoveOutport(RemovePort),
        /// `renameoutport`.
        "renameoutport" => RenameOutport(Rename),
        /// `addgroup`.
        "addgroup" => AddGroup(AddGroup),
        /// `removegroup`.
        "removegroup" => RemoveGroup(RemoveGroup),
        /// `renamegroup`.
        "renamegroup" => RenameGroup(Rename),
        /// `changegroup`: change group metadata.
        "changegroup" => ChangeGroup(ChangeGroup),
    }
}

/// A `graph` message from a runtime: a change notification or an error.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphOutput {
    /// A change was made (the reply to a request, or a change by someone else).
    Change(GraphChange),
    /// `error`: a graph command failed.
    Error(ErrorPayload),
}

impl GraphOutput {
    /// The sub-protocol these messages belong to.
    pub const PROTOCOL: Protocol = Protocol::Graph;

    /// Wire names of every command: those of [`GraphChange`], then `error`.
    pub fn commands() -> impl Iterator<Item = &'static str> {
        GraphChange::COMMANDS.iter().copied().chain(["error"])
    }

    /// The wire name of this message's command.
    pub fn command(&self) -> &'static str {
        match self {
            GraphOutput::Change(change) => change.command(),
            GraphOutput::Error(_) => "error",
        }
    }

    /// Decodes the payload of `command`.
    pub fn decode(command: &str, payload: Value) -> Result<Self, DecodeError> {
        match command {
            "error" => super::macros::decode_payload(Self::PROTOCOL, command, payload)
                .map(GraphOutput::Error),
            _ => GraphChange::decode(command, payload).map(GraphOutput::Change),
        }
    }

    /// The payload as JSON.
    pub fn payload(&self) -> Value {
        match self {
            GraphOutput::Change(change) => change.payload(),
            GraphOutput::Error(e) => super::envelope::to_json_value(e),
        }
    }
}

impl From<GraphChange> for GraphOutput {
    fn from(change: GraphChange) -> Self {
        GraphOutput::Change(change)
    }
}
