//! The FBP network protocol server side: the runtime's answers to clients
//! (Flowhub / noflo-ui / fbp-spec).
//!
//! # Layout
//! - `graph_edit.rs` — [`graph_edit::Graphs`]: the graphs the runtime holds,
//!   changed by `graph:*` commands, with the exact replies the conformance
//!   suite expects; `graph_edit/nodes.rs` (nodes, edges, IIPs) and
//!   `graph_edit/ports.rs` (exported ports, groups); tests in
//!   `graph_edit_tests.rs` and `graph_edit_tests/`.

pub mod graph_edit;
