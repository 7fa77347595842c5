//! The numbers on the live view and `/metrics`, from what the observer saw
//! ([`Observation`]: each participant's `health` answer, each inport
//! queue's depth) laid over the [`Topology`]. Pure: rates are the change
//! between two observations over the time between them.
//!
//! Where each number comes from:
//! - a node's `processed` / `failed` (dead-lettered) / `in_flight`: the sum
//!   of its participants' `health` counters (participants that answer
//!   calls: msgflo-rs ones; msgflo-nodejs and msgflo-python ones do not);
//! - an edge's `messages`: what its sources sent — an outport's `sent`
//!   count where its participants report one (msgflo-rs participants
//!   since health's `sent`), else the most one of its target inports took
//!   (processed + failed); a dead-letter route: what the source inport's
//!   participants failed;
//! - an edge's `depth`: the messages waiting in its target queues (AMQP: a
//!   passive declare; MQTT keeps no queue to ask: none);
//! - an edge's `dead`: what the target inport's participants dead-lettered.

use super::topology::{End, Route, Topology};
use msgflo_protocol::calls::Health;
use msgflo_transport::QueueDepth;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

/// What the observer saw at one moment.
#[derive(Debug, Clone)]
pub struct Observation {
    /// When.
    pub at: Instant,
    /// The `health` answers, by participant id (those that answered).
    pub health: HashMap<String, Health>,
    /// Inport queue depths, by queue (those the broker could tell).
    pub depths: HashMap<String, QueueDepth>,
}

/// The numbers of every node and edge.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Numbers {
    /// How old the observation behind them is; `None`: nothing observed
    /// yet.
    pub age_ms: Option<u64>,
    /// By node id.
    pub nodes: BTreeMap<String, NodeNumbers>,
    /// By edge id.
    pub edges: BTreeMap<String, EdgeNumbers>,
}

/// A node's numbers: its participants' counters, summed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeNumbers {
    /// Participants that answered `health`.
    pub answered: u64,
    /// Messages handled and acked.
    pub processed: u64,
    /// Messages failed and dead-lettered.
    pub failed: u64,
    /// Messages taken and not settled yet.
    pub in_flight: u64,
    /// Messages taken per second (processed + failed).
    pub rate: Option<f64>,
    /// Participants whose broker connection is down.
    pub disconnected: u64,
    /// Participants draining (taking no more input).
    pub draining: u64,
    /// The most recent failure among them (one line).
    pub last_error: Option<String>,
}

/// An edge's numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EdgeNumbers {
    /// Messages carried so far (a counter: it drops when a participant
    /// restarts).
    pub messages: Option<u64>,
    /// Messages per second.
    pub rate: Option<f64>,
    /// Messages waiting in its target queues.
    pub depth: Option<u64>,
    /// Messages dead-lettered by the target inport's participants.
    pub dead: Option<u64>,
}

/// The numbers of `topology` as `now` observed them, with rates against
/// `before` (an earlier observation).
pub fn numbers(
    topology: &Topology,
    now: Option<&Observation>,
    before: Option<&Observation>,
    at: Instant,
) -> Numbers {
    let Some(now) = now else {
        return Numbers::default();
    };
    let seconds = before
        .map(|b| now.at.saturating_duration_since(b.at).as_secs_f64())
        .filter(|s| *s > 0.0);
    let rate = |count: Option<u64>, earlier: Option<u64>| match (count, earlier, seconds) {
        (Some(c), Some(e), Some(s)) => Some(c.saturating_sub(e) as f64 / s),
        _ => None,
    };
    let mut numbers = Numbers {
        age_ms: Some(
            u64::try_from(at.saturating_duration_since(now.at).as_millis()).unwrap_or(u64::MAX),
        ),
        ..Numbers::default()
    };
    // Each node's participants, found once (a graph may have thousands of
    // nodes, and this runs in the event loop every second per viewer).
    let members: Members = topology
        .nodes
        .iter()
        .map(|n| {
            let ids = n.participants.iter().map(|m| m.id.as_str()).collect();
            (n.id.as_str(), ids)
        })
        .collect();
    let members = &members;
    for node in &topology.nodes {
        let taken = |c: &NodeNumbers| (c.answered > 0).then_some(c.processed + c.failed);
        let mut counts = node_counts(members, &node.id, now);
        let earlier = before.map(|b| node_counts(members, &node.id, b));
        counts.rate = rate(taken(&counts), earlier.as_ref().and_then(taken));
        numbers.nodes.insert(node.id.clone(), counts);
    }
    for edge in &topology.edges {
        let messages = |o: &Observation| edge_messages(members, &edge.routes, o);
        let targets: BTreeSet<&str> = edge
            .routes
            .iter()
            .filter_map(|r| r.target_queue.as_deref())
            .collect();
        let depth = sum(targets
            .iter()
            .map(|q| now.depths.get(*q).map(|d| d.messages)));
        let inports: BTreeSet<(&str, &str)> = edge
            .routes
            .iter()
            .map(|r| (r.to.node.as_str(), r.to.port.as_str()))
            .collect();
        let dead = sum(inports
            .iter()
            .map(|(node, port)| port_counts(members, node, port, now).map(|(_, failed)| failed)));
        let carried = messages(now);
        numbers.edges.insert(
            edge.id.clone(),
            EdgeNumbers {
                messages: carried,
                rate: rate(carried, before.and_then(messages)),
                depth,
                dead,
            },
        );
    }
    numbers
}

/// The sum of the known values; `None` when none is known.
fn sum(values: impl Iterator<Item = Option<u64>>) -> Option<u64> {
    values
        .flatten()
        .fold(None, |total, v| Some(total.unwrap_or(0) + v))
}

/// Each node's participant ids, by node id.
type Members<'a> = HashMap<&'a str, Vec<&'a str>>;

/// The `health` answers of `node`'s participants.
fn answers<'a>(
    members: &'a Members,
    node: &str,
    seen: &'a Observation,
) -> impl Iterator<Item = &'a Health> + 'a {
    members
        .get(node)
        .into_iter()
        .flatten()
        .filter_map(|id| seen.health.get(*id))
}

/// A node's participants' counters, summed (no rate).
fn node_counts(members: &Members, node: &str, seen: &Observation) -> NodeNumbers {
    let mut counts = NodeNumbers::default();
    let mut latest: Option<(u64, &str)> = None;
    for health in answers(members, node, seen) {
        counts.answered += 1;
        for port in health.ports.values() {
            counts.processed += port.processed;
            counts.failed += port.failed;
        }
        counts.in_flight += health.in_flight;
        counts.disconnected += u64::from(!health.broker.connected);
        counts.draining += u64::from(health.draining);
        if let Some(error) = &health.last_error {
            if latest.is_none_or(|(ago, _)| error.ms_ago < ago) {
                latest = Some((error.ms_ago, &error.message));
            }
        }
    }
    counts.last_error = latest.map(|(_, message)| message.to_owned());
    counts
}

/// `(processed, failed)` of inport `port` over `node`'s participants that
/// answered; `None` when none did.
fn port_counts(
    members: &Members,
    node: &str,
    port: &str,
    seen: &Observation,
) -> Option<(u64, u64)> {
    let mut total = None;
    for health in answers(members, node, seen) {
        let counts = health
            .ports
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(port))
            .map(|(_, c)| *c)
            .unwrap_or_default();
        let (p, f) = total.unwrap_or((0, 0));
        total = Some((p + counts.processed, f + counts.failed));
    }
    total
}

/// Messages an edge made of `routes` carried so far, as `seen`: what each
/// of their sources sent, counted once per source.
fn edge_messages(members: &Members, routes: &[Route], seen: &Observation) -> Option<u64> {
    let mut sources: Vec<(&End, bool)> = Vec::new();
    for route in routes {
        if !sources.contains(&(&route.from, route.dead)) {
            sources.push((&route.from, route.dead));
        }
    }
    sum(sources.into_iter().map(|(from, dead)| {
        let targets = routes.iter().filter(|r| &r.from == from && r.dead == dead);
        source_messages(members, from, dead, targets, seen)
    }))
}

/// Messages from one source so far: what an outport's participants sent
/// (where they count it), else the most any of its targets took (each
/// target takes a copy); what an inport's participants dead-lettered.
fn source_messages<'a>(
    members: &Members,
    from: &End,
    dead: bool,
    mut targets: impl Iterator<Item = &'a Route>,
    seen: &Observation,
) -> Option<u64> {
    if dead {
        return port_counts(members, &from.node, &from.port, seen).map(|(_, failed)| failed);
    }
    let sent = sum(answers(members, &from.node, seen).map(|health| {
        health
            .sent
            .iter()
            .find(|(port, _)| port.eq_ignore_ascii_case(&from.port))
            .map(|(_, count)| *count)
    }));
    sent.or_else(|| {
        targets
            .try_fold(None, |most: Option<u64>, route| {
                let taken =
                    port_counts(members, &route.to.node, &route.to.port, seen).map(|(p, f)| p + f);
                Some(match (most, taken) {
                    (Some(m), Some(t)) => Some(m.max(t)),
                    (m, t) => m.or(t),
                })
            })
            .flatten()
    })
}

#[cfg(test)]
#[path = "numbers_tests.rs"]
mod tests;
