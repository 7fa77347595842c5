//! The FBP network protocol server side: the runtime's answers to clients
//! (Flowhub / noflo-ui / fbp-spec).
//!
//! # Layout
//! - [`graph_edit`] — re-exported from `msgflo_protocol::graph_edit` (it
//!   moved there so that graph participants edit their graphs with the very
//!   same code): the graphs the runtime holds, changed by `graph:*`
//!   commands, with the exact replies the conformance suite expects.

pub use msgflo_protocol::graph_edit;
