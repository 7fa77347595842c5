//! Components fed from outside the graph (`core/Remote`): what such a node
//! is told when it is placed in a running network
//! ([`Attached`](super::Attached)), the
//! handle that wakes the scheduler when packets came in from outside
//! ([`Wake`]), and where such nodes say how their link is doing
//! ([`Statuses`], read by a participant's `health`).
//!
//! A node fed from outside keeps what came in until
//! [`Process::poll`](super::Process::poll) is called, says so with
//! [`Process::ready`](super::Process::ready), and calls [`Wake::wake`] after
//! adding to it; the scheduler then runs the node as if a packet had
//! arrived on an edge.

use super::edge::Signal;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Wakes the task that runs a node (see the module docs).
#[derive(Debug, Clone)]
pub struct Wake(pub(crate) Arc<Signal>);

impl Wake {
    /// The node has something new for [`Process::poll`](super::Process::poll).
    pub fn wake(&self) {
        self.0.notify();
    }
}

/// The state of each node's link to the outside, by node name: one line
/// each (`connected to ws://...`, `connecting: ...`). Shared by a network's
/// nodes and whoever reports on them.
#[derive(Debug, Clone, Default)]
pub struct Statuses(Arc<Mutex<BTreeMap<String, String>>>);

impl Statuses {
    /// Sets `node`'s state.
    pub fn set(&self, node: &str, state: impl Into<String>) {
        self.lock().insert(node.to_owned(), state.into());
    }

    /// Forgets `node` (it was removed).
    pub fn remove(&self, node: &str) {
        self.lock().remove(node);
    }

    /// Every node's state, by name.
    pub fn snapshot(&self) -> BTreeMap<String, String> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
