//! The graph-level command-line tools' logic; their `src/bin/*.rs` only parse
//! arguments and print.
//!
//! # Layout
//! - [`procfile`] — `msgflo-procfile`: a Procfile from a graph and the library.

pub mod procfile;
