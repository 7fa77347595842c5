//! What `msgflo-setup` sets up for a graph, and how it lists it as msgflo's
//! `prettyFormatBindings(graphBindings(graph))` does. Pure.
//!
//! The links are the live coordinator's: [`bindings::plan`] over the
//! routes of [`crate::routes`] (`msgflo/RoundRobin` with its `DEADLETTER`
//! route, `msgflo/PubSub` fan-out), for a registry that names the queues
//! ([`registry`]): the participants discovered, or stand-ins with msgflo's
//! default names `ROLE.PORT`.
//!
//! The listing has a line per route, in msgflo's order and words:
//! - an edge between two participants, or through a `msgflo/PubSub` node,
//!   is `PUBSUB: \t A.OUT -> B.IN`: the target's inport queue gets a copy of
//!   everything published to the source's outport;
//! - through a `msgflo/RoundRobin` node `rr`, `A OUT -> IN rr` and
//!   `rr OUT -> IN B` is `ROUNDROBIN:\t A.OUT -> B.IN` (B's participants
//!   share the messages), and `rr DEADLETTER -> IN C` is
//!   `DEADLETTER:\t B.IN -> C.IN`: what B's participants reject (nack) goes
//!   to C, whose queue is bound to B's dead-letter exchange `dead-B.IN`.
//!
//! Plain edges come first, in edge order, then the PubSub nodes' routes,
//! then each round-robin node's, its dead letters first.
//!
//! # Differences from msgflo
//! - msgflo sets up nothing for edges touching a PubSub node.
//! - With discovered queues, roundrobin bindings are set up too (msgflo's
//!   `--discover` drops them).
//! - A round-robin node with several targets routes to each (msgflo keeps
//!   the last).
//! - A roundrobin is bound on AMQP by binding the target queue to the source
//!   exchange, which has the same effect as msgflo-nodejs' extra direct
//!   exchange `out-<src>` between them.

use super::procfile::node_order;
use crate::bindings::{self, Link, Mode, Pending, PortError};
use crate::registry::Registry;
use crate::routes::{edge_sources, is_participant_node, is_wiring_node, Source, ROUND_ROBIN};
use msgflo_protocol::discovery::{Participant, Port};
use msgflo_protocol::graph::{Endpoint, Graph};
use msgflo_protocol::ids::{InvalidId, ParticipantId, PortName, Role};
use std::collections::BTreeSet;
use std::time::Instant;

/// Why a graph cannot be planned: from [`registry`], [`links`] and
/// [`listing`]; `msgflo-setup` prints its text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A node's name, or a port name of its edges, makes no stand-in
    /// participant (no participant id, role or port name).
    #[error("node {node}: {reason}")]
    Node {
        /// The node.
        node: String,
        /// The name refused.
        reason: InvalidId,
    },
    /// An edge whose ends the registry does not name.
    #[error("{}: {}", .0.edge, .0.missing)]
    Unbound(Pending),
    /// A port with no queue.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// The registry that names `graph`'s queues: the `discovered` participants
/// (each port on msgflo's default queue `ROLE.PORT` unless `announced`,
/// else on the queue it announced), and for every participant node nobody
/// of which was discovered, a stand-in on the default queues.
pub fn registry(
    graph: &Graph,
    discovered: &Registry,
    announced: bool,
) -> Result<Registry, PlanError> {
    let mut registry = Registry::default();
    let now = Instant::now();
    for entry in discovered.entries() {
        let mut participant = entry.participant.clone();
        if !announced {
            for port in participant.inports.iter_mut() {
                port.queue = None;
            }
            for port in participant.outports.iter_mut() {
                port.queue = None;
            }
        }
        registry.seen(participant, now);
    }
    for node in node_order(graph) {
        if is_participant_node(graph, node) && discovered.any_of_role(node).is_none() {
            registry.seen(stand_in(graph, node)?, now);
        }
    }
    Ok(registry)
}

/// A participant of role `node` with the ports its edges use, on msgflo's
/// default queues.
fn stand_in(graph: &Graph, node: &str) -> Result<Participant, PlanError> {
    let bad = |reason: InvalidId| PlanError::Node {
        node: node.to_owned(),
        reason,
    };
    let id = ParticipantId::new(format!("{node}-stand-in")).map_err(bad)?;
    let role = Role::new(node).map_err(bad)?;
    let component = graph.processes.get(node).map(|p| p.component.clone());
    let mut participant = Participant::new(id, role, component.unwrap_or_default());
    let ports = |ends: Vec<&Endpoint>| -> Result<Vec<Port>, PlanError> {
        let mut names: Vec<String> = Vec::new();
        for end in ends {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(&end.port)) {
                names.push(end.port.clone());
            }
        }
        names
            .into_iter()
            .map(|n| Ok(Port::new(PortName::new(n).map_err(bad)?, None)))
            .collect()
    };
    let edges: Vec<_> = graph.edges().collect();
    participant.inports = ports(
        edges
            .iter()
            .filter(|e| e.tgt.process == node)
            .map(|e| &e.tgt)
            .collect(),
    )?;
    participant.outports = ports(
        edges
            .iter()
            .filter(|e| e.src.process == node)
            .map(|e| &e.src)
            .collect(),
    )?;
    Ok(participant)
}

/// The links `graph` needs with the participants of `registry`, as the
/// coordinator plans them; an edge whose ends `registry` does not name is
/// an error that says which.
pub fn links(graph: &Graph, registry: &Registry, mode: Mode) -> Result<BTreeSet<Link>, PlanError> {
    let plan = bindings::plan(graph, registry, mode);
    match plan.pending.into_iter().next() {
        Some(pending) => Err(PlanError::Unbound(pending)),
        None => Ok(plan.links),
    }
}

/// msgflo's listing of what `graph` is set up with: `PUBSUB: \t A -> B`,
/// `DEADLETTER:\t B -> C`, `ROUNDROBIN:\t A -> B`, one a line (see the
/// module docs), with the queue names of `registry`.
pub fn listing(graph: &Graph, registry: &Registry) -> Result<String, PlanError> {
    let nodes = node_order(graph);
    let place = |node: &str| nodes.iter().position(|n| *n == node).unwrap_or(usize::MAX);
    let component = |node: &str| graph.processes.get(node).map(|p| p.component.as_str());
    // (group, wiring node, rank in its group, line)
    let mut lines: Vec<(u8, usize, u8, String)> = Vec::new();
    for edge in graph.edges() {
        // Routes through a wiring node are made at its outgoing edges.
        if is_wiring_node(graph, &edge.tgt.process) {
            continue;
        }
        let node = edge.src.process.as_str();
        let (group, at) = match component(node) {
            _ if !is_wiring_node(graph, node) => (0, 0),
            Some(ROUND_ROBIN) => (2, place(node)),
            _ => (1, place(node)),
        };
        let to = bindings::port_queue(registry, &edge.tgt, true)?;
        for source in edge_sources(graph, edge) {
            let (rank, word, from) = match &source {
                Source::DeadLetters(inport) => (
                    0,
                    "DEADLETTER:\t",
                    bindings::port_queue(registry, inport, true)?,
                ),
                Source::Outport(outport) => {
                    let word = if group == 2 {
                        "ROUNDROBIN:\t"
                    } else {
                        "PUBSUB: \t"
                    };
                    (1, word, bindings::port_queue(registry, outport, false)?)
                }
            };
            lines.push((group, at, rank, format!("{word} {from} -> {to}")));
        }
    }
    lines.sort_by_key(|(group, at, rank, _)| (*group, *at, *rank));
    let lines: Vec<String> = lines.into_iter().map(|(.., line)| line).collect();
    Ok(lines.join("\n"))
}

/// A list of names as Node.js prints an array of strings (`[ 'a', 'b' ]`,
/// `[]`), on one line.
pub fn node_list(names: &[String]) -> String {
    if names.is_empty() {
        return "[]".into();
    }
    let quoted: Vec<String> = names
        .iter()
        .map(|n| {
            if n.contains('\'') && !n.contains('"') {
                format!("\"{n}\"")
            } else {
                format!("'{}'", n.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        })
        .collect();
    format!("[ {} ]", quoted.join(", "))
}

#[cfg(test)]
#[path = "setup_plan_tests.rs"]
mod tests;
