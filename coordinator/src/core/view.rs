//! [`Core::view`]: the [`Topology`] the live web view draws, taken from the
//! core's state when asked: the network's graph (the main graph before a
//! start), each node's participants and why it waits if none serves it,
//! each edge's routes with their queues, how the broker carries them and
//! whether that is in place. Pure; the numbers come from elsewhere
//! (`crate::view::numbers`).

use super::Core;
use crate::bindings::{self, dead_letter_name, edge_name, port_queue, source_queue, Link};
use crate::routes::{self, edge_sources, is_participant, is_wiring_node, Source};
use crate::view::topology::{self, End, Member, Node, Topology};
use msgflo_protocol::graph::{Edge, Endpoint, Graph};
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

impl Core {
    /// The topology, for a request that showed `shown` (the rules of the
    /// FBP endpoint apply, as for [`Core::metrics`]); `None`: refused.
    pub fn view(&self, shown: Option<&str>, now: Instant) -> Option<Topology> {
        self.guard.admit(shown)?;
        let started = self.network.started();
        let graph_id = match started {
            true => self.network.graph().to_owned(),
            false => self.main_graph_id(),
        };
        let mut topology = Topology {
            graph: graph_id.clone(),
            started,
            ..Topology::default()
        };
        let empty = Graph::default();
        let graph = self.graphs.get(&graph_id).unwrap_or(&empty);
        let waiting: HashMap<String, String> = self
            .pending_nodes()
            .into_iter()
            .map(|p| (p.role, p.reason))
            .collect();
        for (role, process) in &graph.processes {
            let wiring = !is_participant(&process.component);
            topology.nodes.push(Node {
                id: role.clone(),
                component: process.component.clone(),
                wiring,
                in_graph: true,
                participants: self.members(role, now),
                pending: waiting.get(role).cloned(),
            });
        }
        let mut others: BTreeSet<(String, String)> = BTreeSet::new();
        for entry in self.registry.entries() {
            let role = entry.participant.role.as_str();
            if !graph.processes.contains_key(role) {
                others.insert((role.to_owned(), entry.participant.component.clone()));
            }
        }
        for (role, component) in others {
            let participants = self.members(&role, now);
            topology.nodes.push(Node {
                id: role,
                component,
                in_graph: false,
                participants,
                ..Node::default()
            });
        }
        let carried = Carried::of(self, graph, started);
        topology.edges = graph
            .edges()
            .map(|edge| topology::Edge {
                id: edge_name(&edge.src, &edge.tgt),
                src: end(&edge.src),
                tgt: end(&edge.tgt),
                routes: edge_routes(graph, edge)
                    .iter()
                    .map(|route| carried.route(self, route))
                    .collect(),
                delivery: msgflo_protocol::delivery::in_metadata(edge.metadata.as_ref())
                    .ok()
                    .flatten()
                    .map(|mode| mode.as_str()),
            })
            .collect();
        Some(topology)
    }

    /// The participants of `role`, as the view lists them.
    fn members(&self, role: &str, now: Instant) -> Vec<Member> {
        self.registry
            .of_role(role)
            .map(|entry| Member {
                id: entry.participant.id.to_string(),
                last_seen_ms: millis(now.saturating_duration_since(entry.last_seen)),
                forwarded: self.silent.contains(&entry.participant.id),
            })
            .collect()
    }
}

/// What the broker is asked to carry, and what it carries now.
struct Carried<'a> {
    wanted: BTreeSet<Link>,
    applied: &'a BTreeSet<Link>,
    /// Routes that cannot be carried yet, by name: what is missing.
    pending: HashMap<String, String>,
}

impl<'a> Carried<'a> {
    fn of(core: &'a Core, graph: &Graph, started: bool) -> Self {
        // Planned once: when started, `graph` is the running one, whose
        // links are what the core wants on the broker.
        let plan = bindings::plan(graph, &core.registry, core.mode);
        Self {
            wanted: match started {
                true => core.wanted(plan.links),
                false => BTreeSet::new(),
            },
            applied: core.links.applied(),
            pending: plan
                .pending
                .into_iter()
                .map(|p| (p.edge, p.missing))
                .collect(),
        }
    }

    /// `route` as the view shows it.
    fn route(&self, core: &Core, route: &routes::Route) -> topology::Route {
        let (name, from, dead) = match &route.from {
            Source::Outport(src) => (edge_name(src, &route.to), src, false),
            Source::DeadLetters(inport) => (dead_letter_name(inport, &route.to), inport, true),
        };
        let source = source_queue(&core.registry, &route.from).ok();
        let target = port_queue(&core.registry, &route.to, true).ok();
        let links: Vec<&Link> = self
            .wanted
            .iter()
            .filter(|link| match (link, &source, &target) {
                (Link::Bind { outport, inport }, Some(s), Some(t))
                | (Link::Forward { outport, inport }, Some(s), Some(t)) => {
                    outport == s && inport == t
                }
                (
                    Link::ConnectInport {
                        participant,
                        outport,
                        port,
                    },
                    Some(s),
                    _,
                ) => {
                    outport == s
                        && port.eq_ignore_ascii_case(&route.to.port)
                        && core
                            .registry
                            .get(participant)
                            .is_some_and(|e| e.participant.role.as_str() == route.to.process)
                }
                _ => false,
            })
            .collect();
        let link = links.iter().map(|l| kind(l)).max();
        topology::Route {
            pending: self.pending.get(&name).cloned(),
            name,
            from: end(from),
            dead,
            to: end(&route.to),
            source_queue: source.map(|q| q.to_string()),
            target_queue: target.map(|q| q.to_string()),
            link,
            in_place: !links.is_empty() && links.iter().all(|l| self.applied.contains(*l)),
        }
    }
}

/// A link's kind, as the view and the metrics name it; `forward` sorts
/// last, so a route carried partly through the coordinator says so.
pub(super) fn kind(link: &Link) -> &'static str {
    match link {
        Link::Bind { .. } => "bind",
        Link::ConnectInport { .. } => "connectinport",
        Link::Forward { .. } => "forward",
        Link::OutportDelivery { .. } | Link::InportDelivery { .. } => "delivery",
    }
}

/// The routes `edge` is part of: its own when it ends at a participant;
/// through a wiring node, those from its source to the node's targets.
fn edge_routes(graph: &Graph, edge: &Edge) -> Vec<routes::Route> {
    let node = &edge.tgt.process;
    if !is_wiring_node(graph, node) {
        return edge_sources(graph, edge)
            .into_iter()
            .map(|from| routes::Route {
                from,
                to: edge.tgt.clone(),
            })
            .collect();
    }
    let from = Source::Outport(edge.src.clone());
    graph
        .edges()
        .filter(|e| &e.src.process == node && !is_wiring_node(graph, &e.tgt.process))
        .filter(|e| edge_sources(graph, e).contains(&from))
        .map(|e| routes::Route {
            from: from.clone(),
            to: e.tgt.clone(),
        })
        .collect()
}

fn end(endpoint: &Endpoint) -> End {
    End {
        node: endpoint.process.clone(),
        port: endpoint.port.clone(),
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
