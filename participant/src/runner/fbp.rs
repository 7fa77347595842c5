//! A graph participant as an FBP runtime: it answers FBP protocol messages
//! (`{protocol, command, payload}`, optional `requestId`) taken from its
//! control queue `.fbp.<id>.receive`, on `.fbp.<id>.send` — the queues
//! noflo-runtime-msgflo names its FBP channel by, announced as `inqueue` /
//! `outqueue` with `type` and `version` in its discovery message (msgflo's
//! keys for FBP-capable participants). The same answers come from the
//! built-in call `fbp` (args: the message; result: the answer frames), which
//! is how the coordinator asks without sharing `.fbp.<id>.send` with anyone;
//! events (`network:data`) then go to the caller's own reply queue.
//!
//! Answered:
//! - `runtime:getruntime`; `runtime:packet` to an exported inport (its data
//!   is published to the inport's queue, so it goes the way of any message:
//!   acked once handled; brackets and connect/disconnect are acknowledged
//!   and otherwise ignored); from then on what it publishes on its exported
//!   outports comes back to the sender as `runtime:packet` (`fbp_packets.rs`).
//! - `component:list` (the components its graph uses, then
//!   `componentsready`); `component:getsource` of its graph (`language:
//!   "json"`, the graph as JSON, as edited so far — what noflo-ui opens as a
//!   subgraph).
//! - `graph:*` on its own graph, applied **live** (`fbp_graph.rs`).
//! - `network:getstatus` (and a `network:output` per `core/Remote` node
//!   saying how its link is), `network:start` (it is always running),
//!   `network:edges` (watch inner edges: `fbp_watch.rs`); `network:stop` is
//!   an error pointing at the `drain` call.

use crate::runtime::{ComponentDecl, Editor, Statuses};
use crate::transport::Transport;
use msgflo_protocol::graph::Graph;
use msgflo_protocol::graph_edit::Graphs;
use msgflo_protocol::ids::QueueName;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::task::AbortHandle;

/// The FBP protocol version spoken.
pub const VERSION: &str = "0.7";
/// The runtime `type` announced.
pub const TYPE: &str = "msgflo-rs";
/// What the runtime answers (`runtime:runtime` and the discovery message).
pub const CAPABILITIES: [&str; 7] = [
    "protocol:runtime",
    "protocol:component",
    "protocol:graph",
    "protocol:network",
    "component:getsource",
    "network:status",
    "network:data",
];

/// Finds a component by name (the participant's component library).
pub type Lookup = dyn Fn(&str) -> Option<ComponentDecl> + Send + Sync;

/// What the participant's FBP runtime knows and can change.
pub(crate) struct Runtime {
    /// The participant id.
    pub id: String,
    /// The graph's (component) name: the graph id clients use.
    pub name: String,
    /// The graph as edited so far, under `name`; locked for the whole of
    /// an edit, so edits apply one at a time.
    pub(super) graphs: tokio::sync::Mutex<Graphs>,
    pub(super) lookup: Arc<Lookup>,
    pub(super) editor: Editor,
    pub(super) transport: Arc<dyn Transport>,
    /// Exported inport -> its queue (`runtime:packet`).
    pub(super) inports: HashMap<String, QueueName>,
    /// The edges watched now and where their data goes.
    pub(super) watch: Watching,
    /// Where the graph came from: the `save` call writes it there.
    pub(super) file: Option<PathBuf>,
    /// Copies of the outputs for a client that sent packets in.
    pub(super) packets: Arc<super::fbp_packets::PacketWatch>,
    /// The links of the graph's `core/Remote` nodes.
    pub(super) links: Statuses,
}

/// How a runtime is made (see [`Runtime::new`]).
pub(crate) struct Parts {
    pub id: String,
    pub name: String,
    pub graph: Graph,
    pub lookup: Arc<Lookup>,
    pub editor: Editor,
    pub transport: Arc<dyn Transport>,
    pub inports: HashMap<String, QueueName>,
    pub file: Option<PathBuf>,
    pub packets: Arc<super::fbp_packets::PacketWatch>,
    pub links: Statuses,
}

impl Runtime {
    pub(crate) fn new(parts: Parts) -> Self {
        Self {
            graphs: tokio::sync::Mutex::new(Graphs::with_main(&parts.name, parts.graph)),
            id: parts.id,
            name: parts.name,
            lookup: parts.lookup,
            editor: parts.editor,
            transport: parts.transport,
            inports: parts.inports,
            watch: Default::default(),
            file: parts.file,
            packets: parts.packets,
            links: parts.links,
        }
    }

    /// The answer frames to one FBP message; events it starts (watched
    /// edges) go to `events_to`.
    pub(crate) async fn answer(&self, message: &Value, events_to: &QueueName) -> Vec<Value> {
        let protocol = message["protocol"].as_str().unwrap_or_default();
        let command = message["command"].as_str().unwrap_or_default();
        let payload = &message["payload"];
        let mut frames = match (protocol, command) {
            ("runtime", "getruntime") => vec![self.runtime_info()],
            ("runtime", "packet") => vec![self.packet(payload, events_to).await],
            ("component", "list") => self.component_list().await,
            ("component", "getsource") => vec![self.source(payload).await],
            ("graph", command) => self.edit(command, payload).await,
            ("network", "getstatus") => {
                let mut frames = vec![self.status("status", payload)];
                frames.extend(self.link_outputs());
                frames
            }
            ("network", "start") => vec![self.status("started", payload)],
            ("network", "stop") => vec![error(
                "network",
                "a participant's network runs as long as the participant: stop it with the drain call".into(),
            )],
            ("network", "edges") => vec![self.watch(payload, events_to).await],
            ("", _) | (_, "") => vec![error(
                "runtime",
                "an FBP message needs a protocol and a command".into(),
            )],
            _ => vec![error(
                protocol,
                format!("{protocol}:{command} is not supported by a msgflo-rs participant"),
            )],
        };
        if let Some(id) = message.get("requestId").filter(|id| !id.is_null()) {
            for frame in &mut frames {
                frame["responseTo"] = id.clone();
            }
        }
        frames
    }

    /// Whether `asked` names this graph (with or without a library prefix).
    pub(super) fn is_own(&self, asked: &str) -> bool {
        let bare = asked.rsplit('/').next().unwrap_or(asked);
        let own = self.name.rsplit('/').next().unwrap_or(&self.name);
        asked == self.name || bare == own
    }

    /// The graph as edited so far.
    pub(crate) async fn graph(&self) -> Graph {
        let graphs = self.graphs.lock().await;
        graphs.get(&self.name).cloned().unwrap_or_default()
    }

    fn runtime_info(&self) -> Value {
        let capabilities = CAPABILITIES;
        json!({"protocol": "runtime", "command": "runtime", "payload": {
            "id": self.id, "type": TYPE, "version": VERSION, "label": self.name,
            "graph": self.name, "capabilities": capabilities, "allCapabilities": capabilities}})
    }

    /// `runtime:packet` into an exported inport: published to its queue;
    /// from now on, the outputs go to `events_to` as `runtime:packet`.
    async fn packet(&self, payload: &Value, events_to: &QueueName) -> Value {
        let port = payload["port"].as_str().unwrap_or_default();
        let Some(queue) = self.inports.get(port) else {
            let known: Vec<&str> = self.inports.keys().map(String::as_str).collect();
            return error(
                "runtime",
                format!("no exported inport {port:?} (it has {})", known.join(", ")),
            );
        };
        let graph = payload["graph"].as_str().unwrap_or(&self.name).to_owned();
        let transport = self.transport.clone();
        self.packets.send_to(transport, events_to.clone(), graph);
        if payload["event"] == "data" {
            let data = serde_json::to_vec(&payload["payload"]).unwrap_or_default();
            if let Err(e) = self.transport.send_to_inport(queue, data.into()).await {
                return error("runtime", format!("cannot send to {queue}: {e}"));
            }
        }
        let mut sent = payload.clone();
        if let Some(sent) = sent.as_object_mut() {
            sent.remove("secret");
        }
        json!({"protocol": "runtime", "command": "packetsent", "payload": sent})
    }

    async fn component_list(&self) -> Vec<Value> {
        let graph = self.graph().await;
        let mut seen = std::collections::BTreeMap::new();
        for process in graph.processes.values() {
            if let Some(decl) = (self.lookup)(&process.component) {
                seen.entry(decl.name.clone()).or_insert(decl);
            }
        }
        let mut frames: Vec<Value> = seen.values().map(component).collect();
        frames.push(
            json!({"protocol": "component", "command": "componentsready",
                           "payload": frames.len()}),
        );
        frames
    }

    /// The graph's source for its name (with or without a library prefix);
    /// an error naming what was asked for otherwise.
    async fn source(&self, payload: &Value) -> Value {
        let asked = payload["name"].as_str().unwrap_or_default();
        if !self.is_own(asked) {
            return error("component", format!("Component not found for {asked}"));
        }
        let own = self.name.rsplit('/').next().unwrap_or(&self.name);
        let library = self.name.rsplit_once('/').map(|(library, _)| library);
        let mut source = Map::new();
        source.insert("name".into(), json!(own));
        if let Some(library) = library {
            source.insert("library".into(), json!(library));
        }
        source.insert("language".into(), json!("json"));
        source.insert("code".into(), json!(self.graph().await.to_json_pretty()));
        json!({"protocol": "component", "command": "source", "payload": source})
    }

    /// A `network:output` per `core/Remote` node, saying how its link is.
    fn link_outputs(&self) -> Vec<Value> {
        self.links
            .snapshot()
            .into_iter()
            .map(|(node, state)| {
                json!({"protocol": "network", "command": "output", "payload": {
                    "type": "message", "message": format!("{node}: {state}")}})
            })
            .collect()
    }

    fn status(&self, command: &str, payload: &Value) -> Value {
        let graph = payload["graph"].as_str().unwrap_or(&self.name);
        json!({"protocol": "network", "command": command, "payload": {
            "graph": graph, "running": true, "started": true}})
    }
}

/// The task sending the events of the edges watched now (`fbp_watch.rs`).
#[derive(Debug, Default)]
pub(crate) struct Watching(Mutex<Option<AbortHandle>>);

impl Watching {
    pub(super) fn replace(&self, task: Option<AbortHandle>) {
        let mut current = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = std::mem::replace(&mut *current, task) {
            old.abort();
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.replace(None);
    }
}

/// `component:component` of one component.
fn component(decl: &ComponentDecl) -> Value {
    let ports = |ports: &[crate::runtime::PortDecl]| -> Vec<Value> {
        ports
            .iter()
            .map(|p| {
                let mut port = json!({"id": p.id.as_str(), "type": p.datatype});
                if let Some(description) = &p.description {
                    port["description"] = json!(description);
                }
                port
            })
            .collect()
    };
    json!({"protocol": "component", "command": "component", "payload": {
        "name": decl.name, "description": decl.description, "icon": decl.icon,
        "subgraph": false, "inPorts": ports(&decl.inports), "outPorts": ports(&decl.outports)}})
}

/// An `error` frame of `protocol`.
pub(super) fn error(protocol: &str, message: String) -> Value {
    json!({"protocol": protocol, "command": "error", "payload": {"message": message}})
}

#[cfg(test)]
#[path = "fbp_tests.rs"]
mod tests;
