//! A graph participant as an FBP runtime: it answers FBP protocol messages
//! (`{protocol, command, payload}`, optional `requestId`) taken from its
//! control queue `.fbp.<id>.receive`, on `.fbp.<id>.send` — the queues
//! noflo-runtime-msgflo names its FBP channel by, announced as `inqueue` /
//! `outqueue` with `type` and `version` in its discovery message (msgflo's
//! keys for FBP-capable participants). The same answers come from the
//! built-in call `fbp` (args: the message; result: the answer frames), which
//! is how the coordinator asks without sharing `.fbp.<id>.send` with anyone.
//!
//! Answered: `runtime:getruntime`; `component:list` (the components of its
//! graph, then `componentsready`); `component:getsource` of its graph
//! (`language: "json"`, the graph as JSON — what noflo-ui opens as a
//! subgraph); `network:getstatus`. Graph edits and other commands are
//! answered with an error saying they are not supported here (yet).

use crate::runtime::ComponentDecl;
use msgflo_protocol::graph::Graph;
use serde_json::{json, Map, Value};

/// The FBP protocol version spoken.
pub const VERSION: &str = "0.7";
/// The runtime `type` announced.
pub const TYPE: &str = "msgflo-rs";
/// What the runtime answers (`runtime:runtime` and the discovery message).
pub const CAPABILITIES: [&str; 4] = [
    "protocol:runtime",
    "protocol:component",
    "component:getsource",
    "network:status",
];

/// What the participant's FBP runtime knows.
#[derive(Debug, Clone)]
pub(crate) struct Runtime {
    /// The participant id.
    pub id: String,
    /// The graph's (component) name: the graph id clients use.
    pub name: String,
    pub graph: Graph,
    /// The components its nodes use.
    pub components: Vec<ComponentDecl>,
}

impl Runtime {
    /// The answer frames to one FBP message.
    pub(crate) fn answer(&self, message: &Value) -> Vec<Value> {
        let protocol = message["protocol"].as_str().unwrap_or_default();
        let command = message["command"].as_str().unwrap_or_default();
        let payload = &message["payload"];
        let mut frames = match (protocol, command) {
            ("runtime", "getruntime") => vec![self.runtime_info()],
            ("component", "list") => self.component_list(),
            ("component", "getsource") => vec![self.source(payload)],
            ("network", "getstatus") => vec![self.status(payload)],
            ("", _) | (_, "") => vec![error(
                "runtime",
                "an FBP message needs a protocol and a command".into(),
            )],
            _ => vec![error(
                protocol,
                format!("{protocol}:{command} is not supported by a msgflo-rs participant yet"),
            )],
        };
        if let Some(id) = message.get("requestId").filter(|id| !id.is_null()) {
            for frame in &mut frames {
                frame["responseTo"] = id.clone();
            }
        }
        frames
    }

    fn runtime_info(&self) -> Value {
        let capabilities = CAPABILITIES;
        json!({"protocol": "runtime", "command": "runtime", "payload": {
            "id": self.id, "type": TYPE, "version": VERSION, "label": self.name,
            "graph": self.name, "capabilities": capabilities, "allCapabilities": capabilities}})
    }

    fn component_list(&self) -> Vec<Value> {
        let mut frames: Vec<Value> = self.components.iter().map(component).collect();
        frames.push(
            json!({"protocol": "component", "command": "componentsready",
                           "payload": frames.len()}),
        );
        frames
    }

    /// The graph's source for its name (with or without a library prefix);
    /// an error naming what was asked for otherwise.
    fn source(&self, payload: &Value) -> Value {
        let asked = payload["name"].as_str().unwrap_or_default();
        let bare = asked.rsplit('/').next().unwrap_or(asked);
        let own = self.name.rsplit('/').next().unwrap_or(&self.name);
        if asked != self.name && bare != own {
            return error("component", format!("Component not found for {asked}"));
        }
        let library = self.name.rsplit_once('/').map(|(library, _)| library);
        let mut source = Map::new();
        source.insert("name".into(), json!(own));
        if let Some(library) = library {
            source.insert("library".into(), json!(library));
        }
        source.insert("language".into(), json!("json"));
        source.insert("code".into(), json!(self.graph.to_json_pretty()));
        json!({"protocol": "component", "command": "source", "payload": source})
    }

    fn status(&self, payload: &Value) -> Value {
        let graph = payload["graph"].as_str().unwrap_or(&self.name);
        json!({"protocol": "network", "command": "status", "payload": {
            "graph": graph, "running": true, "started": true}})
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

fn error(protocol: &str, message: String) -> Value {
    json!({"protocol": protocol, "command": "error", "payload": {"message": message}})
}

#[cfg(test)]
#[path = "fbp_tests.rs"]
mod tests;
