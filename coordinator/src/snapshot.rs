//! [`Snapshot`]: the coordinator's state in numbers, as the core takes it
//! (`core/metrics.rs`) and `/metrics` shows it (`http/exposition.rs`).

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
}
