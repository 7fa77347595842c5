//! Starting and stopping the network: links on the broker, IIPs, and the
//! taps that feed `network:data` and outgoing `runtime:packet`s. Also what
//! follows a graph change (spawning, re-planning, auto-save) and the
//! component list.

use super::requests::not_found;
use super::Coordinator;
use crate::bindings::{self, Link, Mode};
use crate::routes::{self, Source};
use msgflo_participant::transport::Delivery;
use msgflo_protocol::graph::{Endpoint, Graph};
use msgflo_protocol::ids::QueueName;
use msgflo_protocol::messages::{
    DataEvent, GraphChange, NetworkOutput, NetworkStarted, NetworkStopped, Output, Packet,
    PacketEvent, PortDef, PortRef, RuntimeOutput, RuntimePorts,
};
use serde_json::Value;
use std::collections::BTreeSet;

/// What a graph change asks of the coordinator besides editing the graph.
pub(super) enum Effect {
    None,
    /// A node was added: start its participant from the library.
    Spawn {
        role: String,
        component: String,
    },
    /// A node was removed: stop the participant started for it.
    Stop {
        role: String,
    },
}

impl Coordinator {
    /// The id of the main graph (the one `--graph` loaded, or the last
    /// `graph:clear` with `main: true`).
    pub(super) fn main_graph_id(&self) -> String {
        self.graphs
            .main_id()
            .map_or_else(|| self.config.graph_id.clone(), str::to_owned)
    }

    fn network_graph(&self) -> Option<&Graph> {
        self.graphs.get(&self.network_graph)
    }

    pub(super) fn graph_effects(&self, change: &GraphChange) -> Effect {
        match change {
            GraphChange::AddNode(node) => Effect::Spawn {
                role: node.id.clone(),
                component: node.component.clone(),
            },
            GraphChange::RemoveNode(node) => Effect::Stop {
                role: node.id.clone(),
            },
            _ => Effect::None,
        }
    }

    pub(super) async fn after_graph_change(&mut self, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::Spawn { role, component } => self.spawn(&role, &component),
            Effect::Stop { role } => {
                self.children.stop(&role).await;
            }
        }
        if self.started {
            // New edges of the running network are watched from now on.
            self.watch_all().await;
        }
        self.replan().await;
        self.save();
    }

    /// Starts `component` for `role` from the library, unless the role is
    /// ignored, this coordinator already runs one, or the library has no
    /// such component (then the node waits for a participant started
    /// elsewhere). Participants of the role started elsewhere do not stop
    /// it: a role may have several, and an old discovery message waiting on
    /// `fbp` says nothing about whether its sender still runs.
    fn spawn(&mut self, role: &str, component: &str) {
        if !routes::is_participant(component)
            || self.config.ignore.iter().any(|r| r == role)
            || self.children.roles().iter().any(|r| r == role)
        {
            return;
        }
        let iips = serde_json::Map::new();
        let Some(command) = self.library.command(component, role, &iips) else {
            self.unserved(role, component);
            return;
        };
        if let Err(error) = self.children.spawn(role, &command) {
            tracing::warn!(role, %error, "could not start the participant");
        }
    }

    /// Writes the main graph back (`--auto-save`), atomically.
    pub(super) fn save(&self) {
        let Some(path) = &self.config.auto_save else {
            return;
        };
        let Some(graph) = self.graphs.get(&self.main_graph_id()) else {
            return;
        };
        if let Err(error) = crate::graph_file::save_atomically(path, graph) {
            tracing::warn!(path = %path.display(), %error, "auto-save failed");
        }
    }

    /// At start-up with a graph (`--graph`): start the library participants
    /// of its nodes, then the network.
    pub async fn start_main(&mut self) {
        let Some(graph) = self.graphs.get(&self.config.graph_id) else {
            return;
        };
        let nodes: Vec<(String, String)> = graph
            .processes
            .iter()
            .map(|(role, p)| (role.clone(), p.component.clone()))
            .collect();
        for (role, component) in nodes {
            self.spawn(&role, &component);
        }
        let id = self.config.graph_id.clone();
        let _ = self.start(&id).await;
    }

    /// `network:start`.
    pub(super) async fn start(&mut self, graph_id: &str) -> Vec<Output> {
        if self.graphs.get(graph_id).is_none() {
            return vec![not_found()];
        }
        if self.started && self.network_graph != graph_id {
            self.stop_network().await;
        }
        self.network_graph = graph_id.to_owned();
        self.started = true;
        self.iips_waiting.clear();
        let started = Output::Network(NetworkOutput::Started(NetworkStarted {
            time: Some(now()),
            graph: graph_id.to_owned(),
            started: Some(true),
            running: Some(true),
            debug: None,
        }));
        self.broadcast(&started);
        self.watch_all().await;
        self.replan().await;
        self.send_start_iips().await;
        Vec::new()
    }

    /// `network:stop`.
    pub(super) async fn stop(&mut self, graph_id: &str) -> Vec<Output> {
        if self.graphs.get(graph_id).is_none() {
            return vec![not_found()];
        }
        if self.network_graph == graph_id {
            self.stop_network().await;
        }
        vec![Output::Network(NetworkOutput::Stopped(NetworkStopped {
            time: Some(now()),
            uptime: None,
            graph: graph_id.to_owned(),
            running: Some(false),
            started: Some(false),
            debug: None,
        }))]
    }

    /// Unbinds the network's edges. The taps stay for the next start (what
    /// they copy meanwhile is dropped): a new tap per start would leave the
    /// old one's consumer behind, and some brokers (rumqttd) go on sending
    /// an unsubscribed share group's copies, which clients saw twice.
    async fn stop_network(&mut self) {
        self.started = false;
        self.replan().await;
    }

    /// Plans the links the started network needs and applies the difference.
    pub(super) async fn replan(&mut self) {
        let desired = match (self.started, self.network_graph()) {
            (true, Some(graph)) => {
                let plan = bindings::plan(graph, &self.registry, self.mode);
                for pending in &plan.pending {
                    tracing::debug!(edge = %pending.edge, missing = %pending.missing, "edge pending");
                }
                plan.links
            }
            _ => BTreeSet::new(),
        };
        let diff = bindings::diff(&desired, &self.applied);
        for link in diff.remove {
            if self.unlink(&link).await {
                self.applied.remove(&link);
            }
        }
        for link in diff.add {
            if self.link(&link).await {
                self.applied.insert(link);
            }
        }
    }

    async fn link(&self, link: &Link) -> bool {
        let transport = self.transport.as_ref();
        match crate::links::apply(transport, link, &self.network_graph).await {
            Ok(()) => {
                tracing::info!(?link, "bound");
                true
            }
            Err(error) => {
                tracing::warn!(?link, %error, "binding failed; will try again");
                false
            }
        }
    }

    async fn unlink(&self, link: &Link) -> bool {
        let transport = self.transport.as_ref();
        let result = crate::links::undo(transport, link, &self.network_graph).await;
        if let Err(error) = &result {
            tracing::warn!(?link, %error, "unbinding failed");
        }
        result.is_ok()
    }

    /// The queue of a node's port: from its participants, else `ROLE.PORT`.
    pub(super) fn queue_of(&self, end: &Endpoint, inport: bool) -> Result<QueueName, String> {
        bindings::port_queue(&self.registry, end, inport)
            .or_else(|_| bindings::default_queue(end, inport))
    }

    /// Sends the IIPs of the network graph: all of them (`role: None`) or
    /// those of one role that just appeared. IIPs of a role without
    /// participants wait for the first one.
    pub(super) async fn send_iips(&mut self, role: Option<&str>) {
        let Some(graph) = self.network_graph() else {
            return;
        };
        let graph_id = self.network_graph.clone();
        let mut sends = Vec::new();
        // A queue (AMQP) keeps an IIP for a participant still starting; a
        // topic (MQTT) does not, so there IIPs wait for the participant.
        let queues_keep = self.mode == Mode::Queues;
        for iip in graph.initials() {
            let target = iip.tgt.process.as_str();
            if role.is_some_and(|r| r != target) {
                continue;
            }
            let present = self.registry.any_of_role(target).is_some();
            if !present && !queues_keep {
                continue;
            }
            sends.push((iip.tgt.clone(), iip.data.clone(), present));
        }
        for (tgt, data, present) in sends {
            let Ok(queue) = self.queue_of(&tgt, true) else {
                continue;
            };
            if !present {
                if let Err(error) = self.transport.declare_inport(&queue).await {
                    tracing::warn!(%queue, %error, "cannot declare the inport for an IIP");
                    continue;
                }
                // Its first participant takes it from the queue.
                self.iips_waiting.insert(tgt.process.clone());
            }
            let payload = serde_json::to_vec(&data).unwrap_or_default();
            if self.send_to_queue(&queue, payload.into()).await {
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
                self.broadcast(&Output::Network(NetworkOutput::Data(event)));
            }
        }
    }

    /// Watches where each edge's messages come from (an outport, or the
    /// dead letters a round-robin's `DEADLETTER` carries) and every
    /// exported outport, if not watched yet.
    async fn watch_all(&mut self) {
        let Some(graph) = self.network_graph() else {
            return;
        };
        let mut sources: Vec<Source> = graph
            .edges()
            .flat_map(|e| routes::edge_sources(graph, e))
            .collect();
        sources.extend(
            graph
                .outports
                .values()
                .map(|p| Source::Outport(Endpoint::new(&p.process, &p.port))),
        );
        for source in sources {
            let Ok(queue) = bindings::source_queue(&self.registry, &source) else {
                continue;
            };
            if self.taps.contains_key(&queue) {
                continue;
            }
            match self.transport.tap(&queue).await {
                Ok(tap) => {
                    self.taps.insert(queue.clone(), tap.queue.clone());
                    let (events, mut consumer) = (self.tap_events.clone(), tap.consumer);
                    tokio::spawn(async move {
                        while let Some(delivery) = consumer.next().await {
                            if events.send((queue.clone(), delivery)).await.is_err() {
                                break;
                            }
                        }
                    });
                }
                Err(error) => tracing::warn!(%queue, %error, "cannot watch outport"),
            }
        }
    }

    /// A copy of a message published to a watched queue: `network:data` on
    /// every edge it travels, a `runtime:packet` for every exported outport.
    pub(super) async fn tapped(&mut self, queue: &QueueName, delivery: Delivery) {
        let data = payload_value(&delivery.payload);
        if let Err(error) = delivery.ack().await {
            tracing::debug!(%error, "ack of a watched message failed");
        }
        if !self.started || !self.taps.contains_key(queue) {
            return;
        }
        let Some(graph) = self.network_graph() else {
            return;
        };
        let carries = |source: &Source| {
            bindings::source_queue(&self.registry, source).ok().as_ref() == Some(queue)
        };
        let graph_id = self.network_graph.clone();
        let mut outputs = Vec::new();
        for edge in graph.edges() {
            if !routes::edge_sources(graph, edge).iter().any(carries) {
                continue;
            }
            outputs.push(Output::Network(NetworkOutput::Data(DataEvent {
                id: bindings::edge_name(&edge.src, &edge.tgt),
                src: Some(PortRef::new(&edge.src.process, &edge.src.port)),
                tgt: PortRef::new(&edge.tgt.process, &edge.tgt.port),
                graph: graph_id.clone(),
                subgraph: None,
                data: data.clone(),
                kind: None,
                schema: None,
            })));
        }
        for (public, port) in &graph.outports {
            if !carries(&Source::Outport(Endpoint::new(&port.process, &port.port))) {
                continue;
            }
            outputs.push(Output::Runtime(RuntimeOutput::Packet(Packet {
                port: public.clone(),
                event: PacketEvent::Data,
                kind: None,
                schema: None,
                payload: Some(data.clone()),
                graph: graph_id.clone(),
            })));
        }
        for output in &outputs {
            self.broadcast(output);
        }
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
}

/// A payload as JSON when it is JSON, else as a string.
fn payload_value(payload: &[u8]) -> Value {
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}

/// The time now, RFC 3339 in UTC (`2026-11-22T08:15:00Z`).
fn now() -> String {
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
