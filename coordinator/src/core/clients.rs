//! The FBP clients: who is connected, which rights each one showed (only
//! those let in see the network's traffic, each what its rights allow:
//! `rights.rs`), and which edges each one watches.
//!
//! A client that may watch edges watches every edge of a started network,
//! unless it named some with `network:edges` (an empty list names none in
//! particular, so again every edge, as noflo's runtimes read it). The taps
//! behind `network:data` exist only while some client watches; those of
//! the exported outports while some client may receive them.

use super::rights::Rights;
use super::tokens::{Admitted, Guard};
use crate::server::ClientId;
use msgflo_protocol::messages::EdgeRef;
use std::collections::BTreeMap;

/// One client.
#[derive(Debug, Clone, Default)]
struct Client {
    /// Its rights, from the last secret or token that let it in.
    admitted: Option<Admitted>,
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

    /// How many are connected.
    pub(super) fn len(&self) -> usize {
        self.clients.len()
    }

    /// `client` was let in with these rights (or no guard is set).
    pub(super) fn admit(&mut self, client: ClientId, admitted: Admitted) {
        self.clients.entry(client).or_default().admitted = Some(admitted);
    }

    /// `client`'s rights; `None`: not let in yet.
    pub(super) fn rights(&self, client: ClientId) -> Option<&Rights> {
        let admitted = self.clients.get(&client)?.admitted.as_ref()?;
        Some(&admitted.rights)
    }

    /// The tokens changed: each client let in by a token gets what that
    /// token carries now, or is shut out when it is gone.
    pub(super) fn review(&mut self, guard: &Guard) {
        for client in self.clients.values_mut() {
            let Some(key) = client.admitted.as_ref().and_then(|a| a.token) else {
                continue;
            };
            client.admitted = guard.lookup(&key).map(|rights| Admitted {
                rights,
                token: Some(key),
            });
        }
    }

    /// `client` watches `edges` (empty: all).
    pub(super) fn select(&mut self, client: ClientId, edges: Vec<EdgeRef>) {
        self.clients.entry(client).or_default().edges = edges;
    }

    /// The clients that get a broadcast: those let in whose rights
    /// `allow`, or all when no guard is set (`open`).
    pub(super) fn receivers(&self, open: bool, allow: impl Fn(&Rights) -> bool) -> Vec<ClientId> {
        self.clients
            .iter()
            .filter(|(_, c)| open || c.admitted.as_ref().is_some_and(|a| allow(&a.rights)))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Whether some client let in may receive exported outport `port`.
    pub(super) fn receive(&self, port: &str) -> bool {
        self.clients
            .values()
            .filter_map(|c| c.admitted.as_ref())
            .any(|a| a.rights.may_receive(port))
    }

    /// What the clients that may watch edges watch together.
    pub(super) fn watched(&self) -> Watched {
        let mut watched = Watched::Nothing;
        let watchers = self.clients.values().filter(|c| {
            c.admitted
                .as_ref()
                .is_some_and(|a| a.rights.may_watch_edges())
        });
        for client in watchers {
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
    use super::super::rights::{Grant, Ports};
    use super::super::tokens::Tokens;
    use super::*;
    use msgflo_protocol::messages::PortRef;

    fn edge(a: &str, b: &str) -> EdgeRef {
        EdgeRef {
            src: PortRef::new(a, "out"),
            tgt: PortRef::new(b, "in"),
        }
    }

    fn full() -> Admitted {
        Admitted {
            rights: Rights::Full,
            token: None,
        }
    }

    #[test]
    fn only_admitted_clients_watch_and_an_empty_selection_is_everything() {
        let mut clients = Clients::default();
        clients.connect(1);
        assert_eq!(clients.watched(), Watched::Nothing, "not let in");
        assert_eq!(clients.receivers(false, |_| true), Vec::<ClientId>::new());
        assert_eq!(clients.receivers(true, |_| true), vec![1]);
        clients.admit(1, full());
        assert_eq!(clients.watched(), Watched::All);
        clients.select(1, vec![edge("a", "b")]);
        clients.admit(2, full());
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

    #[test]
    fn a_token_that_may_not_watch_edges_receives_its_outports_only() {
        let tokens = Tokens::new([(
            "tok".to_owned(),
            Grant {
                name: "dash".into(),
                send: Ports::from_names([]),
                receive: Ports::from_names(["out".to_owned()]),
                edit: false,
            },
        )])
        .unwrap();
        let mut guard = Guard::new(None, Some(tokens));
        let mut clients = Clients::default();
        clients.admit(1, guard.admit(Some("tok")).unwrap());
        assert_eq!(clients.watched(), Watched::Nothing);
        assert!(clients.receive("out") && !clients.receive("other"));
        assert_eq!(clients.receivers(false, |r| r.may_receive("out")), [1]);
        assert!(clients.receivers(false, |r| r.may_watch_edges()).is_empty());
        guard.replace(Tokens::default());
        clients.review(&guard);
        assert!(!clients.receive("out"), "the token was withdrawn");
        assert_eq!(clients.rights(1), None);
    }
}
