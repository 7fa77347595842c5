//! The in-process runtime: a graph of components inside one process, joined
//! by fast bounded edges.
//!
//! ```
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use msgflo_participant::runtime::{builtins, Network, Packet};
//!
//! let graph = msgflo_participant::protocol::dsl::parse(
//!     "a(core/Repeat) OUT -> IN b(core/Repeat)",
//! )?;
//! let mut network = Network::build(&graph, builtins::builtin)?;
//! let mut input = network.input("a", "in", None)?;
//! let mut output = network.output("b", "out", None)?;
//! let running = tokio::spawn(network.run(std::future::pending()));
//! input.push(Packet::data("hello")).await.ok();
//! assert_eq!(output.recv().await, Some(Packet::data("hello")));
//! drop(input); // the network finishes once its inputs are closed and drained
//! running.await?;
//! # Ok(()) }
//! ```
//!
//! # Model
//! - A [`Packet`] is data (a [`bytes::Bytes`] handle: moved, and on fan-out
//!   the handle is cloned, never the bytes) or an open/close bracket, plus
//!   room for an ack-tracking [`Token`] (see [`packet`]).
//! - A [`ComponentDecl`] declares ports (id, type, description, addressable)
//!   and makes a [`Process`] per node; closures work via
//!   [`ComponentDecl::from_fn`].
//! - Every graph edge is its own bounded SPSC ring ([`edge`]); fan-in to one
//!   port is several rings that the node reads in turn, fan-out is one
//!   outport pushing into several rings. IIPs are one-packet rings.
//! - A failing packet is reported ([`NodeError::Failed`]) and the node goes
//!   on; a panicking node is stopped ([`NodeError::Panicked`]) and its inputs
//!   drained, the other nodes keep running.
//!
//! # Scheduling
//! One tokio task runs all nodes cooperatively (`scheduler.rs`): each round,
//! each node takes a batch of up to [`BATCH`] packets from its input rings.
//! The alternative, a task per node ([`Scheduling::TaskPerNode`]), runs the
//! very same nodes, edges and step function, only each node in its own task
//! so that every edge signals across tasks. `cargo bench -p
//! msgflo-participant --bench edges` measures both in one run (10-node
//! chain of `core/Repeat`, release build, this 2-core machine, 2026-11-22,
//! three runs; full table in BENCHMARKS.md):
//!
//! | model | edge-hops/s | p50 / p99 of one packet |
//! |---|---:|---:|
//! | one cooperative task for the graph (this), 2 workers | 29.0-32.7 M | 5.1-6.4 / 70-94 µs |
//! | a task per node, 2 workers | 19.7-22.5 M | 18-20 / 58-128 µs |
//! | cooperative, 1 worker | 29.9 M | 55 / 140 µs |
//! | task per node, 1 worker | 29.6 M | 64 / 260 µs |
//!
//! With two cores the cooperative task moves about 1.5 times as many
//! packets and one packet crosses the chain 3-4 times faster: hops inside
//! the graph are a push and a pop in one core's cache with no wake-up,
//! while with a task per node every hop may park and wake another task.
//! On one worker the throughput is the same (the tasks take turns in
//! batches), and the latency is still lower. The cooperative task also makes
//! back-pressure, fan-in fairness and timers one loop's business. So it is
//! the default; parallelism comes from running several participants or
//! graph instances. A component must not block: timing components use
//! [`Process::tick`] instead of sleeping.

//! # Layout
//! - this file — the module docs and re-exports.
//! - `packet.rs` — [`Packet`], [`Body`], [`Token`], [`Track`].
//! - `edge.rs` — the rings ([`rtrb`]) and their wake-up protocol; tests in
//!   `edge_tests.rs`.
//! - `component.rs` — [`ComponentDecl`], [`PortDecl`], [`Process`], [`Input`].
//! - `outputs.rs` — [`Outputs`]: fan-out, addressable slots, overflow.
//! - `node.rs` — one node's batch step, panic isolation, [`NodeError`].
//! - `network.rs` — [`Network::build`] from a graph, validation, exported
//!   edges ([`Network::input`], [`Network::output`]).
//! - `scheduler.rs` — [`Network::run`], both [`Scheduling`] modes.
//! - `outside.rs` — [`Wake`], [`Statuses`]: nodes fed from outside the
//!   graph ([`Attached`] and the [`Process`] hooks are in `component.rs`).
//! - `remote/` — `core/Remote`: a node that is another FBP runtime (the
//!   bridge).
//! - `live.rs` — [`Editor`]: adding and removing nodes, edges and IIPs in
//!   a running network, and watching edges, without losing a packet.
//! - `builtins/` — `core/Repeat`, `core/Drop`, `core/Output`, `core/Split`,
//!   `core/Merge`, `core/Counter`, `core/Delay`.
//! - `tests.rs` — graphs end to end: IIPs, array ports, fan-in/out, failures.

pub mod builtins;
pub mod component;
pub mod edge;
mod live;
mod network;
mod node;
mod outputs;
mod outside;
pub mod packet;
pub mod remote;
mod scheduler;
#[cfg(test)]
mod tests;

pub use component::{Attached, ComponentDecl, Input, PortDecl, Process, ProcessError};
pub use edge::{EdgeRx, EdgeTx};
pub use live::{Edit, EditError, Editor};
pub use network::{BuildError, Network, Scheduling};
pub use node::{NodeError, BATCH};
pub use outputs::{Outputs, Sample};
pub use outside::{Statuses, Wake};
pub use packet::{Body, Json, Packet, Token, Track};
