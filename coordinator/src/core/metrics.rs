//! What `/metrics` shows of the coordinator's state, taken from the core
//! when scraped ([`Core::metrics`]): pure, like the rest of the core. The
//! HTTP side (`crate::http`) renders the [`Snapshot`] in Prometheus' text
//! format.

use super::Core;
use crate::bindings::Link;
use crate::snapshot::Snapshot;
use std::collections::BTreeMap;

/// A link's kind, as a label value.
fn kind(link: &Link) -> &'static str {
    match link {
        Link::Bind { .. } => "bind",
        Link::ConnectInport { .. } => "connectinport",
        Link::Forward { .. } => "forward",
    }
}

impl Core {
    /// The metrics, for a scrape that showed `shown` (a bearer secret or
    /// token; the rules of the FBP endpoint apply: any secret or token
    /// that lets a client in may read them); `None`: refused.
    pub fn metrics(&self, shown: Option<&str>) -> Option<Snapshot> {
        self.guard.admit(shown)?;
        let mut participants = BTreeMap::new();
        for entry in self.registry.entries() {
            *participants
                .entry(entry.participant.role.to_string())
                .or_insert(0) += 1;
        }
        let wanted = self.desired_links();
        let count = |links: &mut dyn Iterator<Item = &Link>| {
            let mut by_kind = BTreeMap::new();
            for link in links {
                *by_kind.entry(kind(link)).or_insert(0) += 1;
            }
            by_kind
        };
        let applied = self.links.applied();
        Some(Snapshot {
            participants,
            clients: self.clients.len() as u64,
            links_wanted: count(&mut wanted.iter()),
            links_in_place: count(&mut wanted.iter().filter(|l| applied.contains(*l))),
            pending_nodes: self.pending_nodes().len() as u64,
            broker_connected: false,
            // The event loop's to say, like `broker_connected`.
            broker_reconnects: 0,
            fbp_reply_seconds: BTreeMap::new(),
        })
    }
}
