//! Graph edges -> broker bindings, as a plan and a diff. Pure: the caller
//! applies the links and keeps the set of what it applied.
//!
//! A graph's nodes are roles. An edge `A OUT -> IN B` needs, once a
//! participant of A and one of B have announced themselves:
//! - on AMQP (and the memory broker), [`Link::Bind`]: B's inport queue bound
//!   to A's outport exchange — once per queue pair, whatever the number of
//!   participants of the roles;
//! - on MQTT, [`Link::ConnectInport`] for every participant of B: a
//!   `connectinport` control message, so that participant subscribes to A's
//!   outport topic and data flows broker -> participant directly; for a
//!   participant that takes no control messages, [`Link::Forward`]: the
//!   coordinator passes the messages on ([`forwarding`]).
//!
//! An edge that names a delivery mode in its metadata ([`crate::delivery`])
//! also needs, on AMQP, [`Link::OutportDelivery`] for every participant of
//! its source role (`setoutportdelivery`: the outport's edges decide its
//! mode together); on MQTT, if it says transient, [`Link::InportDelivery`]
//! beside each `connectinport` (`setinportdelivery`: that subscription is
//! QoS 0).
//!
//! Queues come from discovery: a participant's explicit `queue` wins, else
//! `ROLE.PORT` upper-cased as msgflo names them. An edge whose roles or
//! ports have not appeared yet is [`Pending`], on every transport, and is
//! bound the moment discovery names both ends. Nothing is bound under
//! guessed names meanwhile: a participant may name its queues otherwise
//! (msgflo-python's `role/in`), and a durable `ROLE.IN` bound early would
//! be an orphan queue that nobody consumes, filling with a copy of every
//! message. So, as with msgflo, what a source publishes before its edge's
//! target has announced itself is not kept for the target (the outport's
//! exchange drops what no queue is bound for); a graph's IIPs wait for
//! their target's first participant (`core/network.rs`). The caller plans
//! again after every discovery change, graph change or reconnection, and
//! applies the [`diff`] against what it applied.

use crate::delivery::{edge_mode, outport_modes};
use crate::registry::Registry;
use crate::routes::{self, Source};
use msgflo_protocol::delivery::DeliveryMode;
use msgflo_protocol::discovery::{Participant, Port};
use msgflo_protocol::graph::{Endpoint, Graph};
use msgflo_protocol::ids::{InvalidId, ParticipantId, QueueName};
use msgflo_transport::dead_letter_queue;
use std::collections::{BTreeMap, BTreeSet};

/// How edges are realised on the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The coordinator binds queues (AMQP, memory).
    Queues,
    /// Each target participant subscribes on `connectinport` (MQTT).
    Participants,
}

/// One thing on the broker that an edge needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Link {
    /// `inport` gets a copy of every message published to `outport`.
    Bind {
        /// The source outport's queue (exchange).
        outport: QueueName,
        /// The target inport's queue.
        inport: QueueName,
    },
    /// `participant` takes `outport`'s messages on its inport `port`.
    ConnectInport {
        /// The target participant.
        participant: ParticipantId,
        /// The source outport's queue (topic).
        outport: QueueName,
        /// The target inport.
        port: String,
    },
    /// The coordinator takes `outport`'s messages and sends each to
    /// `inport`, byte for byte: for participants that take no
    /// `connectinport` (msgflo-python's, msgflo-nodejs' on MQTT), as
    /// msgflo's coordinator does for all.
    Forward {
        /// The source outport's queue (topic).
        outport: QueueName,
        /// The target inport's queue (topic).
        inport: QueueName,
    },
    /// `participant`'s outport `port` publishes in `mode`
    /// (`setoutportdelivery`), as the graph's edges from it say (AMQP,
    /// [`crate::delivery`]).
    OutportDelivery {
        /// The source participant.
        participant: ParticipantId,
        /// Its outport.
        port: String,
        /// The mode.
        mode: DeliveryMode,
    },
    /// `participant` takes `outport`'s messages on its inport `port` in
    /// `mode` (`setinportdelivery`), as the edge says (MQTT: a transient
    /// edge's subscription is QoS 0).
    InportDelivery {
        /// The target participant.
        participant: ParticipantId,
        /// The source outport's queue (topic).
        outport: QueueName,
        /// The target inport.
        port: String,
        /// The mode.
        mode: DeliveryMode,
    },
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Link::Bind { outport, inport } => write!(f, "binding {outport} -> {inport}"),
            Link::ConnectInport {
                participant,
                outport,
                port,
            } => write!(f, "connectinport {outport} -> {participant}.{port}"),
            Link::Forward { outport, inport } => {
                write!(
                    f,
                    "forwarding {outport} -> {inport} through the coordinator"
                )
            }
            Link::OutportDelivery {
                participant,
                port,
                mode,
            } => write!(f, "{mode} delivery on {participant}.{port}"),
            Link::InportDelivery {
                participant,
                outport,
                port,
                mode,
            } => write!(f, "{mode} delivery of {outport} -> {participant}.{port}"),
        }
    }
}

/// An edge that cannot be bound yet, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The edge, as `A OUT -> IN B`.
    pub edge: String,
    /// What is missing, for a person: the text of a [`PortError`] such as
    /// `no participant of role B yet`.
    pub missing: String,
}

/// Why a node's port has no queue yet: from [`port_queue`],
/// [`source_queue`] and [`default_queue`]. Its text is a [`Pending`] edge's
/// `missing`, which clients see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// No participant of the node's role has announced itself.
    #[error("no participant of role {role} yet")]
    NoParticipant {
        /// The node's role.
        role: String,
    },
    /// The role's participant announced no such port.
    #[error("participant {participant} of role {role} has no {direction} {port:?}")]
    NoPort {
        /// The participant asked.
        participant: ParticipantId,
        /// The node's role.
        role: String,
        /// `"inport"` or `"outport"`.
        direction: &'static str,
        /// The port, as the graph names it.
        port: String,
    },
    /// msgflo's default name `ROLE.PORT` is not a queue name.
    #[error("{role}.{port}: {reason}")]
    NotAQueueName {
        /// The node's role.
        role: String,
        /// The port, as the graph names it.
        port: String,
        /// Why the name is refused.
        reason: InvalidId,
    },
}

/// What the graph needs on the broker now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The links every ready edge needs.
    pub links: BTreeSet<Link>,
    /// The edges still waiting for participants.
    pub pending: Vec<Pending>,
}

/// The links of every edge of `graph` whose participants are known. Edges
/// through msgflo's wiring nodes (`msgflo/RoundRobin`, `msgflo/PubSub`) are
/// planned as the routes they make ([`crate::routes`]).
pub fn plan(graph: &Graph, registry: &Registry, mode: Mode) -> Plan {
    let mut plan = Plan::default();
    // Per `connectinport`: whether every route it carries is transient.
    let mut transient_routes: BTreeMap<(ParticipantId, QueueName, String), bool> = BTreeMap::new();
    for route in routes::routes(graph) {
        let (name, src, dead) = match &route.from {
            Source::Outport(src) => (edge_name(src, &route.to), src, false),
            Source::DeadLetters(inport) => (dead_letter_name(inport, &route.to), inport, true),
        };
        // The source queue: the outport's, or the dead letters of the inport.
        let source = if dead {
            port_queue(registry, src, true).map(|q| dead_letter_queue(&q))
        } else {
            port_queue(registry, src, false)
        };
        let ends = source.and_then(|out| Ok((out, port_queue(registry, &route.to, true)?)));
        let (outport, inport) = match ends {
            Ok(ends) => ends,
            Err(missing) => {
                plan.pending.push(Pending {
                    edge: name,
                    missing: missing.to_string(),
                });
                continue;
            }
        };
        match mode {
            Mode::Queues => {
                plan.links.insert(Link::Bind { outport, inport });
            }
            Mode::Participants => {
                let transient =
                    !dead && edge_mode(graph, src, &route.to) == Some(DeliveryMode::Transient);
                for entry in registry.of_role(&route.to.process) {
                    if let Some(port) = find(&entry.participant.inports, &route.to.port) {
                        let (participant, port) = (&entry.participant.id, port.id.to_string());
                        let key = (participant.clone(), outport.clone(), port.clone());
                        *transient_routes.entry(key).or_insert(true) &= transient;
                        plan.links.insert(Link::ConnectInport {
                            participant: participant.clone(),
                            outport: outport.clone(),
                            port,
                        });
                    }
                }
            }
        }
    }
    if mode == Mode::Queues {
        plan.links.extend(delivery_links(graph, registry));
    }
    // A subscription carrying a route that is not transient stays QoS 1.
    let transient = transient_routes.into_iter().filter(|(_, all)| *all);
    plan.links.extend(
        transient.map(|((participant, outport, port), _)| Link::InportDelivery {
            participant,
            outport,
            port,
            mode: DeliveryMode::Transient,
        }),
    );
    plan
}

/// [`Link::OutportDelivery`] for every participant of a role whose outport's edges
/// decide a mode ([`outport_modes`]).
fn delivery_links<'a>(graph: &'a Graph, registry: &'a Registry) -> impl Iterator<Item = Link> + 'a {
    outport_modes(graph)
        .into_iter()
        .flat_map(move |((role, port), mode)| {
            registry.of_role(&role).filter_map(move |entry| {
                let found = find(&entry.participant.outports, &port)?;
                Some(Link::OutportDelivery {
                    participant: entry.participant.id.clone(),
                    port: found.id.to_string(),
                    mode,
                })
            })
        })
}

/// `links` with every `connectinport` to a participant of `silent` (it
/// answered none) replaced by the coordinator forwarding to its inport; a
/// role's participants share one inport queue, so one forward serves them.
/// A participant of such a role that does take `connectinport` (a Rust one
/// beside msgflo-nodejs ones) is not told to take the outport as well: the
/// forwarded copies reach it on its own inport, and a `connectinport` would
/// give it every message twice. A `setinportdelivery` goes only with a
/// `connectinport` kept.
pub fn forwarding(
    links: BTreeSet<Link>,
    silent: &BTreeSet<ParticipantId>,
    registry: &Registry,
) -> BTreeSet<Link> {
    let inport_of = |participant: &ParticipantId, port: &str| {
        registry
            .entries()
            .map(|e| &e.participant)
            .find(|p| p.id == *participant)
            .and_then(|p| queue_of(p, port, true))
    };
    let forwarded: BTreeSet<Link> = links
        .iter()
        .filter_map(|link| match link {
            Link::ConnectInport {
                participant,
                outport,
                port,
            } if silent.contains(participant) => Some(Link::Forward {
                outport: outport.clone(),
                inport: inport_of(participant, port)?,
            }),
            _ => None,
        })
        .collect();
    let kept: BTreeSet<Link> = links
        .into_iter()
        .filter(|link| match link {
            Link::ConnectInport {
                participant,
                outport,
                port,
            } => inport_of(participant, port).is_none_or(|inport| {
                !forwarded.contains(&Link::Forward {
                    outport: outport.clone(),
                    inport,
                })
            }),
            _ => true,
        })
        .chain(forwarded.iter().cloned())
        .collect();
    // A transient subscription only where the subscription is made.
    let connected = |participant: &ParticipantId, outport: &QueueName, port: &String| {
        kept.contains(&Link::ConnectInport {
            participant: participant.clone(),
            outport: outport.clone(),
            port: port.clone(),
        })
    };
    kept.iter()
        .filter(|link| match link {
            Link::InportDelivery {
                participant,
                outport,
                port,
                ..
            } => connected(participant, outport, port),
            _ => true,
        })
        .cloned()
        .collect()
}

/// `DEADLETTER(worker JOB) -> IN drop()`: the route of an inport's rejected
/// messages, named like an edge.
pub fn dead_letter_name(inport: &Endpoint, tgt: &Endpoint) -> String {
    format!(
        "DEADLETTER({} {}) -> {} {}()",
        inport.process,
        inport.port.to_uppercase(),
        tgt.port.to_uppercase(),
        tgt.process
    )
}

/// What to add and remove to get from `actual` to `desired`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Links to apply.
    pub add: Vec<Link>,
    /// Links to undo.
    pub remove: Vec<Link>,
}

/// The difference between what is wanted and what was applied.
pub fn diff(desired: &BTreeSet<Link>, actual: &BTreeSet<Link>) -> Diff {
    Diff {
        add: desired.difference(actual).cloned().collect(),
        remove: actual.difference(desired).cloned().collect(),
    }
}

/// `A() OUT -> IN B()`, as noflo names edges (`network:data` ids too).
pub use msgflo_protocol::graph::edge_name;

/// The queue a route's messages are read from: the outport's, or the dead
/// letters of the inport; named by the participants, else by msgflo's
/// default names.
pub fn source_queue(registry: &Registry, source: &Source) -> Result<QueueName, PortError> {
    let queue = |end: &Endpoint, inport: bool| {
        port_queue(registry, end, inport).or_else(|_| default_queue(end, inport))
    };
    match source {
        Source::Outport(end) => queue(end, false),
        Source::DeadLetters(inport) => queue(inport, true).map(|q| dead_letter_queue(&q)),
    }
}

/// msgflo's default queue of a node's port: `ROLE.PORT`, upper-cased port.
pub fn default_queue(end: &Endpoint, inport: bool) -> Result<QueueName, PortError> {
    let _either_direction = inport;
    QueueName::new(format!("{}.{}", end.process, end.port.to_uppercase())).map_err(|reason| {
        PortError::NotAQueueName {
            role: end.process.clone(),
            port: end.port.clone(),
            reason,
        }
    })
}

/// The queue of a node's port, from the first participant of the node's role.
pub fn port_queue(
    registry: &Registry,
    end: &Endpoint,
    inport: bool,
) -> Result<QueueName, PortError> {
    let Some(participant) = registry.any_of_role(&end.process) else {
        return Err(PortError::NoParticipant {
            role: end.process.clone(),
        });
    };
    queue_of(participant, &end.port, inport).ok_or_else(|| PortError::NoPort {
        participant: participant.id.clone(),
        role: end.process.clone(),
        direction: if inport { "inport" } else { "outport" },
        port: end.port.clone(),
    })
}

/// The queue of `participant`'s port `port` (case-insensitive, as graph
/// port names are lower-cased): its explicit queue, else `ROLE.PORT`.
pub fn queue_of(participant: &Participant, port: &str, inport: bool) -> Option<QueueName> {
    let ports = if inport {
        &participant.inports
    } else {
        &participant.outports
    };
    let found = find(ports, port)?;
    match &found.queue {
        Some(queue) => Some(queue.clone()),
        None => QueueName::default_for(&participant.role, &found.id).ok(),
    }
}

fn find<'a>(ports: &'a [Port], name: &str) -> Option<&'a Port> {
    ports.iter().find(|p| p.id.as_str() == name).or_else(|| {
        ports
            .iter()
            .find(|p| p.id.as_str().eq_ignore_ascii_case(name))
    })
}

#[cfg(test)]
#[path = "bindings_tests.rs"]
mod tests;
