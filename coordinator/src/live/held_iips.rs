//! The network's IIPs wait for the participants this coordinator started.
//!
//! A participant that handles its IIP before the participants after it are
//! bound loses the result: an MQTT topic keeps nothing, and an AMQP outport
//! exchange with no queue bound drops it (msgflo's hello graph showed no
//! greeting). So when the network starts while participants that this
//! coordinator started for nodes of the graph have not announced themselves
//! yet, its IIPs are held until
//! 1. they all have (the plan then binds every edge between them), and
//! 2. on MQTT, each participant told to `connectinport` has answered: the
//!    request goes again, with its answer awaited in a task of its own
//!    ([`links::apply_confirmed`]; a participant handles control messages
//!    in order and answers once subscribed, and a second `connectinport` of
//!    the same link changes nothing). On AMQP the coordinator made the
//!    bindings itself, confirmed by the broker.
//!
//! or until `--wait-timeout` has passed: a participant that never comes must
//! not keep the others' IIPs for ever. msgflo's coordinator also waits for
//! the graph's participants before it sends IIPs. Nodes nobody here started
//! (not in the library, `--ignore`) hold nothing: they may never come.
//!
//! That moment is also when the coordinator prints, once, the commands that
//! try the graph ([`crate::try_it`], `Config::try_it`), with the queues the
//! participants announced.

use super::Coordinator;
use crate::bindings::{Link, Mode};
use crate::links;
use msgflo_protocol::graph::Endpoint;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long one participant may take to answer a `connectinport`.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// Whether and until when the IIPs are held.
pub(super) struct IipHold {
    /// `None`: not held.
    until: Option<Instant>,
    /// Counts holds, so that a confirmation for an earlier one is ignored.
    generation: u64,
    confirmed_tx: mpsc::Sender<u64>,
    confirmed_rx: Option<mpsc::Receiver<u64>>,
}

impl IipHold {
    pub(super) fn new() -> Self {
        let (confirmed_tx, confirmed_rx) = mpsc::channel(4);
        IipHold {
            until: None,
            generation: 0,
            confirmed_tx,
            confirmed_rx: Some(confirmed_rx),
        }
    }

    /// The channel on which the links' confirmation arrives (for the event
    /// loop; taken once).
    pub(super) fn confirmations(&mut self) -> Option<mpsc::Receiver<u64>> {
        self.confirmed_rx.take()
    }

    /// When held IIPs stop waiting (`Coordinator::iips_timed_out`).
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.until
    }
}

impl Coordinator {
    /// Sends the network's IIPs at its start, or holds them; see the module
    /// docs.
    pub(super) async fn send_start_iips(&mut self) {
        self.hold.generation += 1;
        self.hold.until = Some(Instant::now() + self.config.wait_timeout);
        let awaited = self.awaited_roles();
        if awaited.is_empty() {
            self.links_then_iips().await;
        } else {
            tracing::debug!(?awaited, "IIPs wait for the participants started for them");
        }
    }

    /// After a participant appeared: once no started participant is
    /// awaited, the held IIPs go out (after the links are confirmed). `true`
    /// if they are held, or were until now: either way the new
    /// participant's role needs no IIPs of its own.
    pub(super) async fn release_iips(&mut self) -> bool {
        if self.hold.until.is_none() {
            return false;
        }
        if !self.started {
            self.hold.until = None;
        } else if self.awaited_roles().is_empty() {
            self.links_then_iips().await;
        }
        true
    }

    /// The links of hold `generation` are confirmed: the IIPs go out.
    pub(super) async fn iips_confirmed(&mut self, generation: u64) {
        if generation == self.hold.generation && self.hold.until.take().is_some() && self.started {
            self.iips_now().await;
        }
    }

    /// `--wait-timeout` passed with IIPs held: they go out now, to the
    /// participants that are there.
    pub(super) async fn iips_timed_out(&mut self) {
        self.hold.until = None;
        if !self.started {
            return;
        }
        tracing::warn!(
            missing = ?self.awaited_roles(),
            wait = ?self.config.wait_timeout,
            "participants started for the graph did not announce themselves (or answer \
             connectinport) in time; sending the IIPs without them"
        );
        self.iips_now().await;
    }

    /// Sends the IIPs, on MQTT once every `connectinport` link has been
    /// answered (in a task; [`Self::iips_confirmed`] follows).
    async fn links_then_iips(&mut self) {
        let control: Vec<Link> = self
            .applied
            .iter()
            .filter(|link| matches!(link, Link::ConnectInport { .. }))
            .cloned()
            .collect();
        if self.mode == Mode::Queues || control.is_empty() {
            self.hold.until = None;
            self.iips_now().await;
            return;
        }
        let (transport, graph) = (self.transport.clone(), self.network_graph.clone());
        let (generation, done) = (self.hold.generation, self.hold.confirmed_tx.clone());
        tokio::spawn(async move {
            let answers = control
                .iter()
                .map(|link| links::apply_confirmed(transport.as_ref(), link, &graph, ANSWER_WAIT));
            for (link, answer) in control
                .iter()
                .zip(futures_util::future::join_all(answers).await)
            {
                match answer {
                    Ok(true) => {}
                    Ok(false) => tracing::debug!(?link, "no connectinport answer in time"),
                    Err(error) => tracing::warn!(?link, %error, "connectinport failed"),
                }
            }
            let _ = done.send(generation).await;
        });
    }

    /// The network is ready: the commands to try it (once), then its IIPs.
    async fn iips_now(&mut self) {
        if let (Some(try_it), Some(graph)) = (
            self.config.try_it.take(),
            self.graphs.get(&self.network_graph),
        ) {
            let queue_of = |end: &Endpoint, inport| self.queue_of(end, inport).ok();
            let lines = crate::try_it::commands(graph, &try_it, &queue_of);
            if !lines.is_empty() {
                println!("Try it from another terminal:\n{}", lines.join("\n"));
            }
        }
        self.send_iips(None).await;
    }

    /// Roles of the network graph with a participant process started here
    /// that has not announced itself.
    fn awaited_roles(&self) -> Vec<String> {
        let Some(graph) = self.graphs.get(&self.network_graph) else {
            return Vec::new();
        };
        self.children
            .roles()
            .into_iter()
            .filter(|role| graph.processes.contains_key(role))
            .filter(|role| self.registry.any_of_role(role).is_none())
            .collect()
    }
}
