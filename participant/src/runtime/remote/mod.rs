//! `core/Remote`: a node that is another FBP runtime — a bridge. Packets
//! sent to the node go to the remote graph's exported inports as
//! `runtime:packet`; what the remote graph sends on its exported outports
//! comes out of the node's outports of the same names.
//!
//! # How a graph says it
//! The node is an ordinary node of component `core/Remote`, set up by IIPs,
//! so `.fbp` and JSON graphs stay valid for other tools:
//!
//! ```text
//! 'ws://gpu-box:3569' -> ADDRESS upscale(core/Remote)
//! 'the-token' -> SECRET upscale
//! 'main' -> GRAPH upscale          # optional: the remote's main graph
//! load OUT -> IN upscale OUT -> IN store
//! ```
//!
//! - `address` — `ws://` or `wss://` (trusting the platform's roots or
//!   `SSL_CERT_FILE`, as `amqps://` does).
//! - `secret` — the remote's secret or token, if it asks for one.
//! - `graph` — the remote graph; by default the one its `runtime:runtime`
//!   names.
//!
//! Every other port is the remote graph's exported port of that name: the
//! node has whatever ports its graph connects (so `address`, `secret` and
//! `graph` cannot be bridged), and the link checks them against the
//! remote's `runtime:ports` when it connects and whenever those change.
//!
//! # What is promised
//! - Order and brackets: packets cross in order, brackets as
//!   `begingroup` / `endgroup` (see `wire.rs`).
//! - Nothing is dropped silently: at most [`CAPACITY`] packets wait for the
//!   remote (buffered while it is away); then the node takes no more input
//!   (back-pressure up the graph, and a graph participant stops acking). A
//!   packet's broker delivery is acked only once the remote confirmed it
//!   (`runtime:packetsent`); a packet in flight when the connection drops
//!   is sent again (so the remote may see it twice). A packet the remote
//!   refuses with `runtime:error`, or whose payload cannot be JSON, fails
//!   (a graph participant dead-letters its message).
//! - Packets from remote ports the node does not connect are counted and
//!   logged, never crash anything.
//! - The link's state — waiting for its address, connecting (and why the
//!   last try failed), connected — is logged on every change and kept in
//!   [`Network::statuses`](crate::runtime::Network::statuses), which a graph
//!   participant reports in its `health` answer and, to an FBP client asking
//!   `network:getstatus`, as a `network:output` per node.
//!
//! # Layout
//! - this file — [`remote`], the component, and the design above.
//! - `node.rs` — the node: settings, outbox (back-pressure), inbox.
//! - `shared.rs` — what the node and its link share.
//! - `link.rs` — the WebSocket task: handshake, window, reconnect.
//! - `connect.rs` — `ws://` / `wss://` connection.
//! - `wire.rs` — packets as `runtime:packet` and back.

mod connect;
mod link;
mod node;
mod shared;
#[cfg(test)]
mod tests;
mod wire;

pub use link::{CONNECT_TIMEOUT, FIRST_BACKOFF, MAX_BACKOFF, WINDOW};
pub use wire::NotJson;

use crate::runtime::ComponentDecl;

/// The settings ports, first of the node's inports, in this order.
pub const SETTINGS: [&str; 3] = ["address", "secret", "graph"];

/// Most packets waiting for the remote (including those in flight), and
/// most packets from it waiting for the graph.
pub const CAPACITY: usize = 1024;

/// The `core/Remote` component.
pub fn remote() -> ComponentDecl {
    ComponentDecl::new("core/Remote", || node::RemoteNode::new(CAPACITY))
        .description(
            "A remote FBP runtime's graph, as a node (runtime:packet over ws:// or wss://)",
        )
        .icon("cloud")
        .inport(
            "address",
            "string",
            "ws:// or wss:// address of the remote runtime",
        )
        .inport("secret", "string", "The remote runtime's secret or token")
        .inport(
            "graph",
            "string",
            "The remote graph (default: its main graph)",
        )
        .ports_from_graph()
}
