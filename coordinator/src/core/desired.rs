//! What the broker should have now, and getting it there.
//!
//! - **Links**: while the network runs, every edge whose participants are
//!   known ([`bindings::plan`]: queue bindings on AMQP, `connectinport` on
//!   MQTT, or the coordinator forwarding for a participant that answered
//!   none: [`bindings::forwarding`]); nothing when it is stopped.
//! - **Taps**: while the network runs, the queues the edges watched by
//!   clients that may watch edges take their messages from
//!   ([`routes::edge_sources`]), and the exported outports some client let
//!   in may receive; nothing otherwise, so no client means no copies of the
//!   traffic.
//!
//! After every event both are reconciled against what is applied
//! ([`super::reconcile`]): missing ones applied, unwanted ones undone,
//! failures retried with back-off. An operation's result comes back as
//! [`super::Event::Done`].

use super::clients::Watched;
use super::reconcile::{Direction, OpId};
use super::{Action, Core, OpError};
use crate::bindings::{self, Link};
use crate::routes::{self, Source};
use msgflo_protocol::graph::Endpoint;
use msgflo_protocol::ids::QueueName;
use std::collections::BTreeSet;
use std::time::Instant;

impl Core {
    /// The links the running network needs now.
    pub(super) fn desired_links(&self) -> BTreeSet<Link> {
        let Some(graph) = self.running_graph() else {
            return BTreeSet::new();
        };
        self.wanted(bindings::plan(graph, &self.registry, self.mode).links)
    }

    /// What the running network's planned `links` become on the broker:
    /// those of participants that take no `connectinport` forwarded.
    pub(super) fn wanted(&self, links: BTreeSet<Link>) -> BTreeSet<Link> {
        bindings::forwarding(links, &self.silent, &self.registry)
    }

    /// `participant` answered no `connectinport`: from now on the
    /// coordinator forwards its edges (the `connectinport`s are taken back,
    /// in case one is answered late). Said once, in the log and to clients.
    pub(super) fn silenced(&mut self, participant: msgflo_protocol::ids::ParticipantId) {
        let role = self
            .registry
            .entries()
            .find(|e| e.participant.id == participant)
            .map(|e| e.participant.role.to_string())
            .unwrap_or_default();
        if !self.silent.insert(participant.clone()) {
            return;
        }
        let message = format!(
            "participant {participant} (role {role}) takes no connectinport: its edges depend on \
             the coordinator, which passes their messages on"
        );
        tracing::warn!("{message}");
        self.tell_output(message);
    }

    /// The queues to watch now.
    pub(super) fn desired_taps(&self) -> BTreeSet<QueueName> {
        let Some(graph) = self.running_graph() else {
            return BTreeSet::new();
        };
        let watched = self.clients.watched();
        let edges: Vec<_> = match &watched {
            Watched::Nothing => Vec::new(),
            Watched::All => graph.edges().collect(),
            Watched::Some(selected) => graph
                .edges()
                .filter(|e| {
                    selected.iter().any(|s| {
                        s.src.node == e.src.process
                            && s.tgt.node == e.tgt.process
                            && s.src.port.eq_ignore_ascii_case(&e.src.port)
                            && s.tgt.port.eq_ignore_ascii_case(&e.tgt.port)
                    })
                })
                .collect(),
        };
        let mut sources: Vec<Source> = edges
            .into_iter()
            .flat_map(|e| routes::edge_sources(graph, e))
            .collect();
        // The exported outports some client may receive.
        sources.extend(
            graph
                .outports
                .iter()
                .filter(|(public, _)| self.clients.receive(public))
                .map(|(_, p)| Source::Outport(Endpoint::new(&p.process, &p.port))),
        );
        sources
            .iter()
            .filter_map(|s| bindings::source_queue(&self.registry, s).ok())
            .collect()
    }

    /// Starts the operations that bring the broker towards what is wanted.
    pub(super) fn reconcile(&mut self, now: Instant) {
        let (links, taps) = (self.desired_links(), self.desired_taps());
        let graph = self.network.graph().to_owned();
        for op in self.links.plan(&links, now, &mut self.next_op) {
            let (id, link, graph) = (op.id, op.item, graph.clone());
            self.out.push(match op.direction {
                Direction::Apply => Action::Link {
                    op: id,
                    link,
                    graph,
                },
                Direction::Undo => Action::Unlink {
                    op: id,
                    link,
                    graph,
                },
            });
        }
        for op in self.taps.plan(&taps, now, &mut self.next_op) {
            self.out.push(match op.direction {
                Direction::Apply => Action::Tap {
                    op: op.id,
                    queue: op.item,
                },
                Direction::Undo => Action::Untap {
                    op: op.id,
                    queue: op.item,
                },
            });
        }
    }

    /// An operation finished.
    pub(super) fn done(&mut self, op: OpId, result: Result<(), OpError>, now: Instant) {
        let ok = result.is_ok();
        if let Some((link, direction)) = self.links.done(op, ok, now) {
            match result {
                Ok(()) => tracing::info!(?link, ?direction, "link done"),
                Err(error) => {
                    tracing::warn!(?link, ?direction, %error, "link failed; will try again")
                }
            }
        } else if let Some((queue, direction)) = self.taps.done(op, ok, now) {
            if let Err(error) = result {
                tracing::warn!(%queue, ?direction, %error, "watching failed; will try again");
            }
        }
    }
}

impl Core {
    /// What of the running network is not applied yet, for a person: the
    /// `awaited` roles (started here, not announced yet), the links and the
    /// taps.
    pub(super) fn not_in_place(&self, awaited: &[String]) -> String {
        let links = self.desired_links();
        let taps = self.desired_taps();
        let mut missing: Vec<String> = awaited
            .iter()
            .map(|role| format!("participant of {role} (started, not announced yet)"))
            .collect();
        missing.extend(
            self.links
                .missing(&links)
                .map(|(link, failed)| format!("{link} ({failed} failed attempts)")),
        );
        missing.extend(
            self.taps
                .missing(&taps)
                .map(|(queue, failed)| format!("watching {queue} ({failed} failed attempts)")),
        );
        missing.join(", ")
    }
}
