//! Starting and stopping the network, its status, and its IIPs.
//!
//! # What `network:start/stop/getstatus` mean here
//! - `start`: the graph's edges are to be bound on the broker (or wait,
//!   pending, for their participants) and watched while a client looks.
//!   `network:started` is said once the participants this coordinator
//!   started for the graph's nodes have announced themselves and those
//!   links and taps are in place — so data sent right after it flows — or
//!   after [`READY_WAIT`], with a `network:output` naming what is still
//!   missing (noflo-ui waits one second for it). Then the IIPs go out.
//! - `stop`: the edges are unbound and no taps remain; participants keep
//!   running (they are services), but data no longer flows between them.
//! - `getstatus`: `started` and `running` are both whether the network is
//!   started, as msgflo 0.12.3 reports them. A msgflo network is a set of
//!   services with no end of its own: once started, it runs until stopped.
//!   noflo-ui shows a network as running, with a stop button, only when
//!   `running` is true; `started: true, running: false` would read
//!   "finished", with a play button, for a network that carries data. (The
//!   fbp-protocol suite expects that noflo form after its test graph has
//!   drained: the one case of its 22 answered differently, on purpose.)
//!
//! # IIPs
//! A participant that handles its IIP before the participants after it are
//! bound loses the result (an MQTT topic keeps nothing; an AMQP exchange
//! with no queue bound drops it). So the start's IIPs wait until the
//! participants this coordinator started for the graph's nodes have
//! announced themselves and every link of the network is applied (on MQTT:
//! each `connectinport` answered), or until `--wait-timeout`. Nodes nobody
//! here started hold nothing: they may never come.
//!
//! Each IIP goes to its target's inport queue, as discovery names it. A
//! role whose participant is not there yet gets its IIPs when its first
//! participant appears, on every transport: its queue's name is not known
//! before (msgflo-python's is `role/in`), and sending to a guessed `ROLE.IN`
//! would declare a durable queue nobody may ever consume. Each further
//! participant of a role that appears while the network runs (a restart, a
//! new replica) gets the role's IIPs again (msgflo#127); on AMQP one
//! participant of the role takes each copy.
//!
//! That moment is also when the coordinator prints, once, the commands that
//! try the graph ([`crate::try_it`]).

use super::requests::not_found;
use super::{Action, Core};
use crate::bindings::{self, PortError};
use msgflo_protocol::graph::{Endpoint, Graph};
use msgflo_protocol::ids::QueueName;
use msgflo_protocol::messages::{
    DataEvent, NetworkOutput, NetworkStarted, NetworkStopped, Output, OutputMessage, PortDef,
    PortRef, RuntimePorts,
};
use std::time::{Duration, Instant};

/// How long `network:started` waits for the links and taps (noflo-ui gives
/// an answer one second).
pub const READY_WAIT: Duration = Duration::from_millis(800);

/// The network's state.
#[derive(Debug, Default)]
pub(super) struct Network {
    started: bool,
    /// The graph it runs (the one last started).
    graph: String,
    /// A start that has not said `network:started` yet: until when it waits.
    starting: Option<Instant>,
    /// The start's IIPs are held: until when.
    iips_held: Option<Instant>,
}

impl Network {
    /// Whether the network of `graph` is started.
    pub(super) fn runs(&self, graph: &str) -> bool {
        self.started && self.graph == graph
    }

    /// The next moment the start or its IIPs stop waiting.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.starting.into_iter().chain(self.iips_held).min()
    }

    pub(super) fn started(&self) -> bool {
        self.started
    }

    pub(super) fn graph(&self) -> &str {
        &self.graph
    }
}

impl Core {
    /// The graph the network runs, if it is started.
    pub(super) fn running_graph(&self) -> Option<&Graph> {
        if !self.network.started {
            return None;
        }
        self.graphs.get(&self.network.graph)
    }

    /// `network:start`: answered with `network:started` once ready (see
    /// the module docs).
    pub(super) fn start_network(&mut self, graph_id: &str, now: Instant) -> Vec<Output> {
        if self.graphs.get(graph_id).is_none() {
            return vec![not_found()];
        }
        self.network = Network {
            started: true,
            graph: graph_id.to_owned(),
            starting: Some(now + READY_WAIT),
            iips_held: Some(now + self.config.wait_timeout),
        };
        Vec::new()
    }

    /// `network:stop`.
    pub(super) fn stop_network(&mut self, graph_id: &str) -> Vec<Output> {
        if self.graphs.get(graph_id).is_none() {
            return vec![not_found()];
        }
        if self.network.graph == graph_id {
            self.network.started = false;
            self.network.starting = None;
            self.network.iips_held = None;
        }
        vec![Output::Network(NetworkOutput::Stopped(NetworkStopped {
            time: Some(now_text()),
            uptime: None,
            graph: graph_id.to_owned(),
            running: Some(false),
            started: Some(false),
            debug: None,
        }))]
    }

    /// After every event: a start says `network:started` once its links and
    /// taps are in place (or its time is up); held IIPs go out once the
    /// participants started for them are there and the links applied.
    pub(super) fn network_progress(&mut self, now: Instant) {
        if !self.network.started {
            return;
        }
        // Participants started here for the graph are awaited too: their
        // edges are bound only once they announced their queues.
        let awaited = self.awaited_roles();
        let ready = awaited.is_empty()
            && self.links.holds(&self.desired_links())
            && self.taps.holds(&self.desired_taps());
        if let Some(until) = self.network.starting {
            if !ready && now < until {
                return;
            }
            self.network.starting = None;
            self.broadcast(&Output::Network(NetworkOutput::Started(NetworkStarted {
                time: Some(now_text()),
                graph: self.network.graph.clone(),
                started: Some(true),
                running: Some(true),
                debug: None,
            })));
            if !ready {
                let missing = self.not_in_place(&awaited);
                tracing::warn!(graph = %self.network.graph, %missing, "network started before its links were in place");
                self.tell_output(format!(
                    "network {} started; not in place yet (retrying): {missing}",
                    self.network.graph
                ));
            }
        }
        let Some(until) = self.network.iips_held else {
            return;
        };
        if ready {
            self.network.iips_held = None;
            self.iips_now();
        } else if now >= until {
            self.network.iips_held = None;
            tracing::warn!(
                missing = ?awaited,
                wait = ?self.config.wait_timeout,
                "participants started for the graph did not announce themselves (or answer \
                 connectinport) in time; sending the IIPs without them"
            );
            self.iips_now();
        }
    }

    /// Whether the start's IIPs are still held (a participant appearing
    /// now gets them with the others).
    pub(super) fn iips_held(&self) -> bool {
        self.network.iips_held.is_some()
    }

    /// The first participant of `role` appeared while the network runs:
    /// its IIPs.
    pub(super) fn iips_for_new(&mut self, role: &str) {
        self.send_iips(Some(role));
    }

    /// The network is ready: the commands to try it (once), then its IIPs.
    fn iips_now(&mut self) {
        if let (Some(try_it), Some(graph)) = (
            self.config.try_it.take(),
            self.graphs.get(&self.network.graph),
        ) {
            let queue_of = |end: &Endpoint, inport| self.queue_of(end, inport).ok();
            let lines = crate::try_it::commands(graph, &try_it, &queue_of);
            if !lines.is_empty() {
                self.out.push(Action::Print(format!(
                    "Try it from another terminal:\n{}",
                    lines.join("\n")
                )));
            }
        }
        self.send_iips(None);
    }

    /// Sends the IIPs of the network graph: all of them (`role: None`) or
    /// those of one role that just appeared. IIPs of a role without
    /// participants wait for the first one (see the module docs).
    fn send_iips(&mut self, role: Option<&str>) {
        let Some(graph) = self.running_graph() else {
            return;
        };
        let mut sends = Vec::new();
        for iip in graph.initials() {
            let target = iip.tgt.process.as_str();
            if role.is_some_and(|r| r != target) {
                continue;
            }
            if self.registry.any_of_role(target).is_some() {
                sends.push((iip.tgt.clone(), iip.data.clone()));
            }
        }
        let graph_id = self.network.graph.clone();
        for (tgt, data) in sends {
            let Ok(queue) = self.queue_of(&tgt, true) else {
                continue;
            };
            let payload = serde_json::to_vec(&data).unwrap_or_default();
            self.out.push(Action::Send {
                queue,
                payload: payload.into(),
                brackets: msgflo_protocol::brackets::Framing::default(),
            });
            let event = DataEvent {
                id: format!("DATA -> {} {}()", tgt.port.to_uppercase(), tgt.process),
                src: None,
                tgt: PortRef::new(&tgt.process, &tgt.port),
                graph: graph_id.clone(),
                subgraph: None,
                data,
                kind: None,
                schema: None,
            };
            self.broadcast_edge(&Output::Network(NetworkOutput::Data(event)));
        }
    }

    /// Roles of the network graph with a participant process started here
    /// that has not announced itself.
    fn awaited_roles(&self) -> Vec<String> {
        let Some(graph) = self.running_graph() else {
            return Vec::new();
        };
        self.running
            .iter()
            .filter(|role| graph.processes.contains_key(*role))
            .filter(|role| self.registry.any_of_role(role).is_none())
            .cloned()
            .collect()
    }

    /// `runtime:ports` of the main graph.
    pub(super) fn ports(&self) -> RuntimePorts {
        let graph_id = self.main_graph_id();
        let ports =
            |exported: &indexmap::IndexMap<String, msgflo_protocol::graph::ExportedPort>| {
                exported
                    .keys()
                    .map(|name| PortDef::new(name.as_str(), "all"))
                    .collect()
            };
        match self.graphs.get(&graph_id) {
            Some(graph) => RuntimePorts {
                graph: graph_id,
                in_ports: ports(&graph.inports),
                out_ports: ports(&graph.outports),
            },
            None => RuntimePorts {
                graph: graph_id,
                in_ports: Vec::new(),
                out_ports: Vec::new(),
            },
        }
    }

    /// The queue of a node's port: from its participants, else `ROLE.PORT`.
    pub(super) fn queue_of(&self, end: &Endpoint, inport: bool) -> Result<QueueName, PortError> {
        bindings::port_queue(&self.registry, end, inport)
            .or_else(|_| bindings::default_queue(end, inport))
    }

    /// A `network:output` line to every client that may see the network.
    pub(super) fn tell_output(&mut self, message: String) {
        self.broadcast(&Output::Network(NetworkOutput::Output(OutputMessage {
            message,
            kind: None,
            url: None,
        })));
    }
}

/// The time now, RFC 3339 in UTC (`2026-11-22T08:15:00Z`).
fn now_text() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
