//! The graph-level command-line tools' logic; their `src/bin/*.rs` only parse
//! arguments and print.
//!
//! # Layout
//! - [`procfile`] — `msgflo-procfile`: a Procfile from a graph and the library.
//! - [`setup`] — `msgflo-setup`: a graph's bindings on the broker, optionally
//!   with its participants; [`setup_plan`] — which bindings a graph needs and
//!   how msgflo lists them.
//! - [`register`] — `msgflo-register`: discovery messages for participants
//!   described in YAML files (foreign participants).

pub mod procfile;
pub mod register;
pub mod setup;
pub mod setup_plan;
