//! Watching edges inside a graph participant's graph: each client's
//! `network:edges` selection per role is kept, the role's participants are
//! told the union of them (a participant keeps one selection, the latest),
//! and their `network:data` / `begingroup` / `endgroup` for those edges go
//! to each client that selected the edge — as noflo-ui expects of a
//! subgraph: `graph` the main graph's id, `subgraph` the path to it,
//! `[role]` (a role is its node in the main graph). A client that goes
//! away leaves the union, and the participants are told the smaller one; a
//! participant that joins the role is told the union too.
//! Forwarding itself is in `forward.rs`.

use super::forward::ForwardKind;
use super::{Action, Core};
use crate::server::ClientId;
use msgflo_protocol::messages::{EdgeRef, NetworkOutput, Output, PortRef, SelectedEdges};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Each client's edge selection on each role's graph.
#[derive(Debug, Default)]
pub(super) struct Watches {
    by_client: BTreeMap<ClientId, BTreeMap<String, Vec<EdgeRef>>>,
}

impl Watches {
    /// `client` watches `edges` of `role`'s graph (none: stops watching it).
    fn select(&mut self, client: ClientId, role: &str, edges: Vec<EdgeRef>) {
        let roles = self.by_client.entry(client).or_default();
        if edges.is_empty() {
            roles.remove(role);
        } else {
            roles.insert(role.to_owned(), edges);
        }
    }

    /// Forgets `client`; returns the roles it watched.
    fn forget(&mut self, client: ClientId) -> Vec<String> {
        self.by_client
            .remove(&client)
            .map(|roles| roles.into_keys().collect())
            .unwrap_or_default()
    }

    /// Every client's selection on `role`, once each.
    fn union(&self, role: &str) -> Vec<EdgeRef> {
        let mut union: Vec<EdgeRef> = Vec::new();
        for edges in self.by_client.values().filter_map(|r| r.get(role)) {
            for edge in edges {
                if !union.contains(edge) {
                    union.push(edge.clone());
                }
            }
        }
        union
    }

    /// The clients that selected the edge `src -> tgt` of `role`'s graph.
    fn watchers(&self, role: &str, src: Option<&PortRef>, tgt: &PortRef) -> Vec<ClientId> {
        let same = |a: &PortRef, b: &PortRef| a.node == b.node && a.port == b.port;
        self.by_client
            .iter()
            .filter(|(_, roles)| {
                roles.get(role).is_some_and(|edges| {
                    edges
                        .iter()
                        .any(|e| src.is_some_and(|s| same(&e.src, s)) && same(&e.tgt, tgt))
                })
            })
            .map(|(client, _)| *client)
            .collect()
    }
}

impl Core {
    /// `network:edges` on a graph participant's graph (`role`'s): the
    /// client's selection kept, the union forwarded.
    pub(super) fn forward_edges(
        &mut self,
        client: ClientId,
        request_id: Option<&str>,
        role: &str,
        asked: SelectedEdges,
    ) {
        self.watches.select(client, role, asked.edges.clone());
        let message = self.edges_message(role, &asked.graph);
        let reply_to = Some((client, request_id.map(str::to_owned)));
        self.forward(reply_to, role, message, ForwardKind::Edges { asked });
    }

    /// A client went away: the roles it watched are told the selection of
    /// the clients left.
    pub(super) fn unwatch(&mut self, client: ClientId) {
        for role in self.watches.forget(client) {
            let Some(graph) = self.subgraph_of_role(&role) else {
                continue;
            };
            let message = self.edges_message(&role, &graph);
            let asked = SelectedEdges {
                edges: Vec::new(),
                graph,
            };
            self.forward(None, &role, message, ForwardKind::Edges { asked });
        }
    }

    /// A new participant of `role` joined: the role's participants are told
    /// the clients' selection on its graph, if there is one.
    pub(super) fn rewatch(&mut self, role: &str) {
        if self.watches.union(role).is_empty() {
            return;
        }
        let Some(graph) = self.subgraph_of_role(role) else {
            return;
        };
        let message = self.edges_message(role, &graph);
        let asked = SelectedEdges {
            edges: Vec::new(),
            graph,
        };
        self.forward(None, role, message, ForwardKind::Edges { asked });
    }

    /// `network:edges` with every client's selection on `role`'s graph.
    fn edges_message(&self, role: &str, graph: &str) -> Value {
        let selected = SelectedEdges {
            edges: self.watches.union(role),
            graph: graph.to_owned(),
        };
        json!({"protocol": "network", "command": "edges", "payload": selected})
    }

    /// The graph id of `role`'s graph participant: its component.
    fn subgraph_of_role(&self, role: &str) -> Option<String> {
        let participant = self.registry.any_of_role(role)?;
        let component = &participant.component;
        self.subgraphs
            .contains_key(component)
            .then(|| component.clone())
    }

    /// A graph participant's `network:data` / `begingroup` / `endgroup`
    /// for a watched edge: to the clients that watch it, as an edge of the
    /// subgraph that is its role's node.
    pub(super) fn subgraph_event(&mut self, frame: &Value) {
        let (Some(command), payload) = (frame["command"].as_str(), frame["payload"].clone()) else {
            return;
        };
        let event = match Output::from_parts("network", command, payload) {
            Ok(Output::Network(event)) => event,
            Ok(_) | Err(_) => {
                tracing::debug!(command, "event from a graph participant dropped");
                return;
            }
        };
        let main = self.main_graph_id();
        let (graph, src, tgt) = match &event {
            NetworkOutput::Data(d) => (d.graph.clone(), d.src.clone(), d.tgt.clone()),
            NetworkOutput::BeginGroup(g) | NetworkOutput::EndGroup(g) => {
                (g.graph.clone(), g.src.clone(), g.tgt.clone())
            }
            _ => return,
        };
        let Some(role) = self
            .catalogue()
            .subgraph_owner(&graph)
            .map(|p| p.role.to_string())
        else {
            tracing::debug!(graph, "event of an unknown graph dropped");
            return;
        };
        let path = Some(vec![role.clone()]);
        let event = match event {
            NetworkOutput::Data(mut d) => {
                (d.graph, d.subgraph) = (main, path);
                NetworkOutput::Data(d)
            }
            NetworkOutput::BeginGroup(mut g) => {
                (g.graph, g.subgraph) = (main, path);
                NetworkOutput::BeginGroup(g)
            }
            NetworkOutput::EndGroup(mut g) => {
                (g.graph, g.subgraph) = (main, path);
                NetworkOutput::EndGroup(g)
            }
            other => other,
        };
        let text = Output::Network(event).to_json(None);
        for client in self.watches.watchers(&role, src.as_ref(), &tgt) {
            // Its rights may have changed since it asked (the tokens file).
            let allowed = self
                .clients
                .rights(client)
                .is_some_and(|r| r.may_watch_edges());
            if !allowed {
                continue;
            }
            self.out.push(Action::Tell {
                client,
                text: text.clone(),
            });
        }
    }
}
