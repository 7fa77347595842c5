//! [`Snapshot`]: the coordinator's state in numbers, as the core takes it
//! (`core/metrics.rs`) and `/metrics` shows it (`http/exposition.rs`).

use crate::latency::Histogram;
use std::collections::BTreeMap;

/// The coordinator's state in numbers, at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}
