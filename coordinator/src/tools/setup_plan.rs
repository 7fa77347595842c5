//! What `msgflo-setup` sets up for a graph, as msgflo's `graphBindings` and
//! `prettyFormatBindings` describe it. Pure.
//!
//! - An edge between two participants is a **pubsub** binding: the target's
//!   inport queue gets a copy of everything published to the source's outport.
//! - A `msgflo/RoundRobin` node `rr` collects a **roundrobin** binding:
//!   `A OUT -> IN rr` is its source, `rr OUT -> IN B` its target (the
//!   participants of B share the messages), and `rr DEADLETTER -> IN C` sends
//!   what B's participants reject (nack) to C: C's queue is bound to B's
//!   dead-letter exchange `dead-<B's queue>`.
//!
//! Queue names are msgflo's convention `ROLE.PORT` or, with `--discover`,
//! what the participants announced.
//!
//! # Differences from msgflo
//! - A `msgflo/PubSub` node `p` is a fan-out point: each `A OUT -> IN p`
//!   and `p OUT -> IN B` make a pubsub binding A.OUT -> B.IN. msgflo sets up
//!   nothing for edges touching a PubSub node.
//! - With discovered queues, roundrobin bindings are set up too (msgflo's
//!   `--discover` drops them).
//! - A roundrobin is bound on AMQP by binding the target queue to the source
//!   exchange, which has the same effect as msgflo-nodejs' extra direct
//!   exchange `out-<src>` between them.

use super::procfile::node_order;
use crate::routes::{is_participant_node, PUB_SUB, ROUND_ROBIN};
use msgflo_participant::transport::dead_letter_queue;
use msgflo_protocol::graph::{Endpoint, Graph};
use msgflo_protocol::ids::QueueName;

/// A port of a participant node and its queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// The node (role).
    pub role: String,
    /// The port as the graph names it.
    pub port: String,
    /// Its queue (AMQP) or topic (MQTT).
    pub queue: QueueName,
}

/// The kind of a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Every bound inport gets a copy.
    PubSub,
    /// The target's participants share the messages; rejects go to `deadletter`.
    RoundRobin,
}

/// One binding, as msgflo lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Pubsub or roundrobin.
    pub kind: Kind,
    /// The outport messages come from.
    pub src: Option<End>,
    /// The inport they go to.
    pub tgt: Option<End>,
    /// Where the target's rejected messages go (roundrobin only).
    pub deadletter: Option<End>,
}

/// Messages published to queue `from` also go to the inport `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// An outport queue, or a dead-letter queue.
    pub from: QueueName,
    /// The inport that gets them.
    pub to: End,
}

/// The bindings of `graph`; `queue(end, inport)` names each port's queue.
pub fn graph_bindings(
    graph: &Graph,
    queue: impl Fn(&Endpoint, bool) -> Result<QueueName, String>,
) -> Result<Vec<Binding>, String> {
    let component = |role: &str| graph.processes.get(role).map(|p| p.component.as_str());
    let is = |role: &str, kind: &str| component(role) == Some(kind);
    let participant = |role: &str| is_participant_node(graph, role);
    let end = |e: &Endpoint, inport: bool| -> Result<End, String> {
        Ok(End {
            role: e.process.clone(),
            port: e.port.clone(),
            queue: queue(e, inport)?,
        })
    };
    let round_robins: Vec<&str> = node_order(graph)
        .into_iter()
        .filter(|n| is(n, ROUND_ROBIN))
        .collect();
    let mut robins: Vec<Binding> = round_robins
        .iter()
        .map(|_| Binding {
            kind: Kind::RoundRobin,
            src: None,
            tgt: None,
            deadletter: None,
        })
        .collect();
    let robin = |role: &str| round_robins.iter().position(|r| *r == role);
    let mut out = Vec::new();
    for edge in graph.edges() {
        let (src, tgt) = (&edge.src, &edge.tgt);
        if let Some(i) = robin(&src.process) {
            let target = Some(end(tgt, true)?);
            if src.port.eq_ignore_ascii_case("deadletter") {
                robins[i].deadletter = target;
            } else {
                robins[i].tgt = target;
            }
        } else if let Some(i) = robin(&tgt.process) {
            robins[i].src = Some(end(src, false)?);
        } else if participant(&src.process) && participant(&tgt.process) {
            out.push(pubsub(end(src, false)?, end(tgt, true)?));
        } else {
            tracing::debug!(from = %src.process, to = %tgt.process, "no binding for edge");
        }
    }
    for hub in node_order(graph).into_iter().filter(|n| is(n, PUB_SUB)) {
        let into: Vec<&Endpoint> = graph
            .edges()
            .filter(|e| e.tgt.process == hub && participant(&e.src.process))
            .map(|e| &e.src)
            .collect();
        let from_hub = graph
            .edges()
            .filter(|e| e.src.process == hub && participant(&e.tgt.process));
        for tgt in from_hub.map(|e| &e.tgt) {
            for src in &into {
                out.push(pubsub(end(src, false)?, end(tgt, true)?));
            }
        }
    }
    out.extend(robins);
    Ok(out)
}

fn pubsub(src: End, tgt: End) -> Binding {
    Binding {
        kind: Kind::PubSub,
        src: Some(src),
        tgt: Some(tgt),
        deadletter: None,
    }
}

/// The routes that realise `bindings` (a roundrobin without source or target
/// has none).
pub fn routes(bindings: &[Binding]) -> Vec<Route> {
    let mut routes = Vec::new();
    for b in bindings {
        if let (Some(src), Some(tgt)) = (&b.src, &b.tgt) {
            routes.push(Route {
                from: src.queue.clone(),
                to: tgt.clone(),
            });
        }
        if let (Kind::RoundRobin, Some(tgt), Some(dead)) = (b.kind, &b.tgt, &b.deadletter) {
            routes.push(Route {
                from: dead_letter_queue(&tgt.queue),
                to: dead.clone(),
            });
        }
    }
    routes
}

/// msgflo's listing: `PUBSUB: \t A -> B`, `DEADLETTER:\t B -> C`,
/// `ROUNDROBIN:\t A -> B`, one a line.
pub fn pretty(bindings: &[Binding]) -> String {
    let mut lines = Vec::new();
    for b in bindings {
        match b.kind {
            Kind::RoundRobin => {
                if let (Some(tgt), Some(dead)) = (&b.tgt, &b.deadletter) {
                    lines.push(format!("DEADLETTER:\t {} -> {}", tgt.queue, dead.queue));
                }
                if let (Some(tgt), Some(src)) = (&b.tgt, &b.src) {
                    lines.push(format!("ROUNDROBIN:\t {} -> {}", src.queue, tgt.queue));
                }
            }
            Kind::PubSub => {
                if let (Some(src), Some(tgt)) = (&b.src, &b.tgt) {
                    lines.push(format!("PUBSUB: \t {} -> {}", src.queue, tgt.queue));
                }
            }
        }
    }
    lines.join("\n")
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
