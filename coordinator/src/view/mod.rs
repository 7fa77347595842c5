//! The live web view, served on the coordinator's FBP port: `/` is a page
//! that draws the running graph — each node with its participants, each
//! edge with messages/s, messages waiting and dead letters, pending edges
//! and why, edges the coordinator forwards — updated every second from a
//! server-sent event stream. Everything it needs is in the binary (no CDN):
//! the layout is computed here, the page is plain HTML, CSS and JavaScript.
//! The secret and token rules of the FBP endpoint apply to the page and its
//! data (`?secret=` from a browser).
//!
//! # Layout
//! - `topology.rs` — [`Topology`]: the graph and what serves it, as the
//!   core gives it (`core/view.rs`);
//! - `numbers.rs` — [`Numbers`]: rates, depths and dead letters from what
//!   the observer saw (`live/observer.rs`), and where each comes from;
//! - `layout.rs` — where each node is drawn;
//! - `serve.rs` — the page, `/view/state` (JSON, once) and `/view/events`
//!   (the stream);
//! - `assets/` — the page itself.

pub mod layout;
pub mod numbers;
pub mod serve;
pub mod topology;

pub use numbers::Numbers;
pub use topology::Topology;

use serde::Serialize;

/// The event stream the page reads.
pub const EVENTS: &str = "/view/events";
/// Everything the page shows, once, as JSON.
pub const STATE: &str = "/view/state";
/// The page's script.
pub const SCRIPT: &str = "/view/view.js";
/// The page's style.
pub const STYLE: &str = "/view/view.css";

/// Whether `path` is the view's.
pub fn serves(path: &str) -> bool {
    matches!(path, "/" | "/index.html") || [EVENTS, STATE, SCRIPT, STYLE].contains(&path)
}

/// What the view shows at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Seen {
    /// The graph and what serves it.
    pub topology: Topology,
    /// Its numbers.
    pub numbers: Numbers,
}
