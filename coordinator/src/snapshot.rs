//! [`Snapshot`]: the coordinator's state in numbers, as the core takes it
//! (`core/metrics.rs`) and `/metrics` shows it (`http/exposition.rs`).

use crate::latency::Histogram;
use crate::view::numbers::EdgeNumbers;
use crate::view::Seen;
use std::collections::BTreeMap;

/// The coordinator's state in numbers, at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Participants known, per role.
    pub participants: BTreeMap<String, u64>,
    /// FBP protocol clients connected.
    pub clients: u64,
    /// Broker links the running graph wants, by kind (`bind`,
    /// `connectinport`, `forward`).
    pub links_wanted: BTreeMap<&'static str, u64>,
    /// Of those, in place on the broker.
    pub links_in_place: BTreeMap<&'static str, u64>,
    /// Graph nodes no participant serves yet.
    pub pending_nodes: u64,
    /// Whether the coordinator's broker connection is up (set by the
    /// event loop, which holds the connection; the core does not know it).
    pub broker_connected: bool,
    /// How many times that connection was made again after it was lost
    /// (set by the event loop, like `broker_connected`).
    pub broker_reconnects: u64,
    /// How long the answers to FBP commands took, from the command's
    /// arrival to its answer queued for the client, by sub-protocol
    /// (`runtime`, `graph`, ...; measured by the event loop).
    pub fbp_reply_seconds: BTreeMap<&'static str, Histogram>,
    /// Each graph edge's numbers, by its name (from the observer).
    pub edges: BTreeMap<String, EdgeNumbers>,
    /// Messages dead-lettered by each node's participants (those that
    /// answer `health`), by node.
    pub dead_letters: BTreeMap<String, u64>,
    /// Messages handled by each node's participants, by node.
    pub processed: BTreeMap<String, u64>,
}

impl Snapshot {
    /// This snapshot with the numbers of what the live view sees.
    pub fn with(self, seen: &Seen) -> Self {
        let answered = seen.numbers.nodes.iter().filter(|(_, n)| n.answered > 0);
        Self {
            edges: seen.numbers.edges.clone(),
            dead_letters: answered
                .clone()
                .map(|(id, n)| (id.clone(), n.failed))
                .collect(),
            processed: answered.map(|(id, n)| (id.clone(), n.processed)).collect(),
            ..self
        }
    }
}
