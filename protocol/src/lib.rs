//! Wire types for msgflo-rs. Pure: serde and thiserror only, no IO, no async.
//!
//! Everything that crosses a process boundary in msgflo-rs is defined here, so the
//! participant and the coordinator agree on it and it can be tested byte for byte.
//!
//! # Layout
//! - [`messages`] — the FBP network protocol spoken between the coordinator and
//!   UIs (Flowhub, noflo-ui, fbp-spec): the `{protocol, command, payload}` envelope
//!   and a typed message for every command of the runtime, graph, component,
//!   network and trace sub-protocols, in both directions.
//! - [`discovery`] — the `discovery`/`participant` message every participant sends
//!   on the `fbp` queue.
//! - [`brackets`] — the `msgflo-brackets` message header: the open/close group
//!   markers around a data message, as graph participants and the
//!   coordinator carry them across the broker.
//! - [`control`] — `connectinport` / `connectoutport`: how a coordinator rewires
//!   a running participant through its control queue.
//! - [`graph`] — the JSON graph format (noflo / fbp-protocol `graph.json`), loaded
//!   and saved losslessly.
//! - [`graph_edit`] — [`graph_edit::Graphs`]: graphs changed by `graph:*`
//!   commands, with the replies the fbp-protocol suite expects (the
//!   coordinator's graphs, and a graph participant's own); nodes, edges and
//!   IIPs in `graph_edit/nodes.rs`, exported ports and groups in
//!   `graph_edit/ports.rs`, tests in `graph_edit_tests*`.
//! - [`ids`] — checked newtype identifiers: `Role`, `ParticipantId`, `PortName`,
//!   `QueueName`.
//! - [`traceparent`] — the W3C `traceparent` message header (one message
//!   traced across participants), tests in `traceparent_tests.rs`.
//! - [`dsl`] — the `.fbp` language: a parser that agrees with the reference parser
//!   (npm `fbp` 1.8) and a serializer whose output parses back to the same graph.

pub mod brackets;
pub mod calls;
pub mod control;
pub mod delivery;
pub mod discovery;
pub mod dsl;
pub mod graph;
pub mod graph_edit;
pub mod ids;
pub mod messages;
pub mod queues;
pub mod traceparent;
