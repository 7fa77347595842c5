//! msgflo-rs coordinator: participant registry, graph -> broker bindings, the FBP
//! protocol server, the component library, and the msgflo CLI tools.
//!
//! Most of it is still to come; today it holds graph files and the tools on them.
//!
//! # Layout
//! - [`graph_file`] — graph files in either format (`.fbp` or JSON): detect the
//!   format, load, convert, write. Used by `--graph FILE` and by `msgflo-graph`.
//! - `src/bin/msgflo-graph.rs` — prints the JSON graph of a `.fbp` file and the
//!   `.fbp` of a JSON graph.

pub mod bindings;
pub mod fbp;
pub mod graph_file;
pub mod library;
pub mod live;
pub mod registry;
pub mod server;
pub mod spawn;
