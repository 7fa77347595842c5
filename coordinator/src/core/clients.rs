//! The FBP clients: who is connected, who showed the secret (only they see
//! the network's traffic), and which edges each one watches.
//!
//! A trusted client watches every edge of a started network, unless it
//! named some with `network:edges` (an empty list names none in
//! particular, so again every edge, as noflo's runtimes read it). The taps
//! behind `network:data` exist only while some client watches.

use crate::server::ClientId;
use msgflo_protocol::messages::EdgeRef;
use std::collections::BTreeMap;

/// One client.
#[derive(Debug, Clone, Default)]
struct Client {
    trusted: bool,
    /// The edges it selected; empty: all.
    edges: Vec<EdgeRef>,
}

/// Every client.
#[derive(Debug, Clone, Default)]
pub(super) struct Clients {
    clients: BTreeMap<ClientId, Client>,
}

/// The edges the clients watch.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Watched {
    /// No client watches anything.
    Nothing,
    /// Every edge.
    All,
    /// These edges.
    Some(Vec<EdgeRef>),
}

impl Clients {
    pub(super) fn connect(&mut self, client: ClientId) {
        self.clients.entry(client).or_default();
    }

    pub(super) fn disconnect(&mut self, client: ClientId) {
        self.clients.remove(&client);
    }

    /// `client` showed the secret (or none is needed).
    pub(super) fn trust(&mut self, client: ClientId) {
        self.clients.entry(client).or_default().trusted = true;
    }

    /// `client` watches `edges` (empty: all).
    pub(super) fn select(&mut self, client: ClientId, edges: Vec<EdgeRef>) {
        self.clients.entry(client).or_default().edges = edges;
    }

    /// The clients that get broadcasts: the trusted ones, or all when no
    /// secret is asked for (`open`).
    pub(super) fn receivers(&self, open: bool) -> Vec<ClientId> {
        self.clients
            .iter()
            .filter(|(_, c)| open || c.trusted)
            .map(|(id, _)| *id)
            .collect()
    }

    /// What the trusted clients watch together.
    pub(super) fn watched(&self) -> Watched {
        let mut watched = Watched::Nothing;
        for client in self.clients.values().filter(|c| c.trusted) {
            if client.edges.is_empty() {
                return Watched::All;
            }
            match &mut watched {
                Watched::Some(edges) => edges.extend(client.edges.iter().cloned()),
                _ => watched = Watched::Some(client.edges.clone()),
            }
        }
        watched
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflo_protocol::messages::PortRef;

    fn edge(a: &str, b: &str) -> EdgeRef {
        EdgeRef {
            src: PortRef::new(a, "out"),
            tgt: PortRef::new(b, "in"),
        }
    }

    #[test]
    fn only_trusted_clients_watch_and_an_empty_selection_is_everything() {
        let mut clients = Clients::default();
        clients.connect(1);
        assert_eq!(clients.watched(), Watched::Nothing, "not trusted");
        assert_eq!(clients.receivers(false), Vec::<ClientId>::new());
        assert_eq!(clients.receivers(true), vec![1]);
        clients.trust(1);
        assert_eq!(clients.watched(), Watched::All);
        clients.select(1, vec![edge("a", "b")]);
        clients.trust(2);
        clients.select(2, vec![edge("b", "c")]);
        assert_eq!(
            clients.watched(),
            Watched::Some(vec![edge("a", "b"), edge("b", "c")])
        );
        clients.select(2, Vec::new());
        assert_eq!(clients.watched(), Watched::All);
        clients.disconnect(1);
        clients.disconnect(2);
        assert_eq!(clients.watched(), Watched::Nothing);
    }
}
