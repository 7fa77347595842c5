//! The FBP network protocol (fbp-protocol 0.7/0.8), spoken between a runtime (the
//! coordinator) and clients such as Flowhub, noflo-ui and fbp-spec.
//!
//! Every message is an [`Envelope`] `{protocol, command, payload}`; inputs may add
//! `secret` and `requestId`, outputs `responseTo`. Each `(protocol, command)` of
//! the runtime, graph, component, network and trace sub-protocols has a typed
//! payload, separately for each direction: [`Input`] for client -> runtime,
//! [`Output`] for runtime -> client. The same pair can mean different things in
//! the two directions (`runtime:packet`), or exist in only one
//! (`network:getstatus` in, `network:status` out).
//!
//! ```
//! use msgflo_protocol::messages::{GraphChange, Input, Output};
//!
//! let text = r#"{"protocol":"graph","command":"removenode",
//!               "payload":{"id":"A","graph":"main"},"requestId":"r1"}"#;
//! let request = Input::decode(text).unwrap();
//! let Input::Graph(change @ GraphChange::RemoveNode(_)) = request.input else { panic!() };
//! let reply = Output::from(change).to_json(request.request_id.as_deref());
//! assert!(reply.contains(r#""responseTo":"r1""#));
//! ```
//!
//! Decoding never panics: anything that is not a known message becomes a
//! [`DecodeError`] naming what was wrong (not JSON, no `protocol`, unknown
//! protocol, unknown command, or the payload field serde rejected).
//!
//! Conventions for every payload:
//! - optional fields are `Option`s and are written only when `Some`, so absent
//!   stays absent (replies are compared key for key by the conformance suite);
//! - keys a payload does not define are ignored on decode and dropped, so a reply
//!   built from a request never echoes what the runtime did not understand;
//! - metadata is a JSON object ([`Metadata`]); IIP and packet data are
//!   [`serde_json::Value`]s, and an explicit `null` stays distinct from absent.
//!
//! # Layout
//! - `protocol.rs` — [`Protocol`]: the five sub-protocol names.
//! - `envelope.rs` — [`Envelope`]: the untyped frame, parsed with typed errors.
//! - `error.rs` — [`DecodeError`].
//! - `input.rs` — [`Input`] and [`Request`] (input + `secret` + `requestId`).
//! - `output.rs` — [`Output`] and [`Response`] (output + `responseTo`).
//! - `macros.rs` — `command_enum!`: one `"command" => Variant(Payload)` table per
//!   sub-protocol and direction generates the enum, decoder and encoder.
//! - `shared.rs` — payload pieces: [`PortRef`], [`Iip`], [`PortDef`],
//!   [`ErrorPayload`], [`TargetGraph`].
//! - `runtime.rs`, `graph.rs` + `graph_payload.rs`, `component.rs`,
//!   `network.rs` + `network_event.rs`, `trace.rs` — one sub-protocol each.
//! - `tests/` — golden JSON round trips for every command in both directions,
//!   envelope and error cases, and a no-panic property test.

mod macros;

mod component;
mod envelope;
mod error;
mod graph;
mod graph_payload;
mod input;
mod network;
mod network_event;
mod output;
mod protocol;
mod runtime;
mod shared;
#[cfg(test)]
mod tests;
mod trace;

pub use component::{
    ComponentInfo, ComponentInput, ComponentOutput, ComponentSource, GetSource, ListComponents,
};
pub use envelope::Envelope;
pub use error::DecodeError;
pub use graph::{GraphChange, GraphOutput};
pub use graph_payload::{
    AddEdge, AddGroup, AddInitial, AddNode, AddPort, ChangeEdge, ChangeGroup, ChangeNode,
    ClearGraph, RemoveEdge, RemoveGroup, RemoveInitial, RemoveNode, RemovePort, Rename,
};
pub use input::{Input, Request};
pub use network::{
    NetworkInput, NetworkOutput, NetworkStarted, NetworkStatus, NetworkStopped, Persist,
    SelectedEdges, SetDebug,
};
pub use network_event::{
    DataEvent, EdgeEvent, GroupEvent, NodeIcon, OutputKind, OutputMessage, ProcessError,
};
pub use output::{Output, Response};
pub use protocol::Protocol;
pub use runtime::{
    GetRuntime, Packet, PacketEvent, RuntimeInfo, RuntimeInput, RuntimeOutput, RuntimePorts,
};
pub use shared::{EdgeRef, ErrorPayload, Iip, Metadata, PortDef, PortIndex, PortRef, TargetGraph};
pub use trace::{TraceDump, TraceDumpRequest, TraceInput, TraceOutput, TraceStart, TraceType};
