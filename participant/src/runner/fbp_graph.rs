//! `graph:*` on a graph participant's own graph, applied live: each change
//! is first made to a copy of the graph (`msgflo_protocol::graph_edit`, the
//! coordinator's own rules and replies), then to the running network
//! ([`Editor`](crate::runtime::Editor): nothing in flight is lost, see
//! `runtime/live.rs`), and the copy is kept only if both agree. The graph
//! file is not touched until the `save` call asks for it.
//!
//! Live: `addnode`, `removenode`, `addedge`, `removeedge`, `addinitial`.
//! Graph only (nothing runs differently): `changenode`, `changeedge`,
//! `removeinitial` (an IIP was sent once already), groups. Refused: exported
//! ports (they are the participant's queues, fixed while it runs),
//! `renamenode`, `clear`, and removing a node an exported port is on.

use super::fbp::{error, Runtime};
use crate::runtime::Edit;
use bytes::Bytes;
use msgflo_protocol::graph::Graph;
use msgflo_protocol::graph_edit::{endpoint, GraphEditError};
use msgflo_protocol::messages::{GraphChange, GraphOutput};
use serde_json::{json, Value};

impl Runtime {
    /// Applies `graph:<command>`; the answer frames.
    pub(super) async fn edit(&self, command: &str, payload: &Value) -> Vec<Value> {
        let asked = payload["graph"].as_str().unwrap_or_default().to_owned();
        if !self.is_own(&asked) {
            return vec![error(
                "graph",
                format!(
                    "graph {asked:?} is not this participant's graph ({})",
                    self.name
                ),
            )];
        }
        let mut payload = payload.clone();
        payload["graph"] = json!(self.name);
        if let Some(payload) = payload.as_object_mut() {
            payload.remove("secret");
        }
        let case_sensitive = self
            .graphs
            .lock()
            .await
            .get(&self.name)
            .map(|g| g.case_sensitive);
        if case_sensitive == Some(false) {
            lower_ports(&mut payload);
        }
        let change = match GraphChange::decode(command, payload) {
            Ok(change) => change,
            Err(e) => {
                let text = GraphEditError::from_decode(&e)
                    .map_or_else(|| e.to_string(), |e| e.to_string());
                return vec![error("graph", text)];
            }
        };
        match self.apply(change).await {
            Ok(outputs) => outputs.iter().map(|output| frame(output, &asked)).collect(),
            Err(text) => vec![error("graph", text)],
        }
    }

    /// The change, made to a copy of the graph and to the network.
    async fn apply(&self, change: GraphChange) -> Result<Vec<GraphOutput>, String> {
        let mut graphs = self.graphs.lock().await;
        let refusal = graphs
            .get(&self.name)
            .and_then(|graph| refused(&change, graph));
        if let Some(why) = refusal {
            return Err(why);
        }
        let mut edited = graphs.clone();
        let outputs = edited.apply(change.clone()).map_err(|e| e.to_string())?;
        for edit in self.edits(&change, &outputs)? {
            self.editor.apply(edit).await.map_err(|e| e.to_string())?;
        }
        *graphs = edited;
        Ok(outputs)
    }

    /// What the network must do for `change` (whose replies are `outputs`).
    fn edits(&self, change: &GraphChange, outputs: &[GraphOutput]) -> Result<Vec<Edit>, String> {
        let end = |port| endpoint(port).map_err(|e| e.to_string());
        Ok(match change {
            GraphChange::AddNode(node) => {
                let Some(component) = (self.lookup)(&node.component) else {
                    return Err(format!(
                        "node {}: unknown component {:?} (this participant cannot run it)",
                        node.id, node.component
                    ));
                };
                vec![Edit::AddNode {
                    name: node.id.clone(),
                    component,
                }]
            }
            // Its edges go with it (the network disconnects them itself).
            GraphChange::RemoveNode(node) => vec![Edit::RemoveNode {
                name: node.id.clone(),
            }],
            GraphChange::AddEdge(edge) => vec![Edit::AddEdge {
                src: end(&edge.src)?,
                tgt: end(&edge.tgt)?,
            }],
            // Each edge removed, as the graph stored it (the request may
            // leave the index out).
            GraphChange::RemoveEdge(_) => outputs
                .iter()
                .filter_map(|output| match output {
                    GraphOutput::Change(GraphChange::RemoveEdge(edge)) => Some(edge),
                    _ => None,
                })
                .map(|edge| {
                    Ok(Edit::RemoveEdge {
                        src: end(&edge.src)?,
                        tgt: end(&edge.tgt)?,
                    })
                })
                .collect::<Result<_, String>>()?,
            GraphChange::AddInitial(iip) => vec![Edit::AddInitial {
                tgt: end(&iip.tgt)?,
                data: Bytes::from(serde_json::to_vec(&iip.src.data).unwrap_or_default()),
            }],
            _ => Vec::new(),
        })
    }

    /// `save`: writes the graph as edited so far to the file it came from
    /// (`.json` as JSON, anything else as `.fbp`).
    pub(crate) async fn save(&self) -> Result<Value, String> {
        let Some(file) = &self.file else {
            return Err("save: this participant's graph did not come from a file".into());
        };
        let graph = self.graph().await;
        let json = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let text = if json {
            graph.to_json_pretty()
        } else {
            msgflo_protocol::dsl::serialize(&graph)
                .map_err(|e| format!("save: the graph cannot be written as .fbp: {e}"))?
                .text
        };
        let path = file.clone();
        tokio::task::spawn_blocking(move || std::fs::write(path, text))
            .await
            .map_err(|e| format!("save: {e}"))?
            .map_err(|e| format!("save: cannot write {}: {e}", file.display()))?;
        tracing::info!(file = %file.display(), "graph saved");
        Ok(json!({"saved": file.display().to_string()}))
    }
}

/// Why `change` cannot be made to a running participant, if it cannot.
fn refused(change: &GraphChange, graph: &Graph) -> Option<String> {
    let ports = "exported ports are the participant's queues: they cannot change while it runs";
    match change {
        GraphChange::AddInport(_)
        | GraphChange::RemoveInport(_)
        | GraphChange::RenameInport(_)
        | GraphChange::AddOutport(_)
        | GraphChange::RemoveOutport(_)
        | GraphChange::RenameOutport(_) => Some(ports.into()),
        GraphChange::Clear(_) => Some("a running participant's graph cannot be cleared".into()),
        GraphChange::RenameNode(_) => Some(
            "renaming a node of a running participant is not supported: remove it and add it again"
                .into(),
        ),
        GraphChange::RemoveNode(node) => {
            let exported = graph
                .inports
                .iter()
                .chain(&graph.outports)
                .find(|(_, port)| port.process == node.id);
            exported.map(|(public, _)| {
                format!("node {} is exported as port {public}: {ports}", node.id)
            })
        }
        _ => None,
    }
}

/// Port names in lower case, as a graph that is not case sensitive keeps
/// them (the `.fbp` parser's default): `OUT` and `out` are one port there.
fn lower_ports(payload: &mut Value) {
    for end in ["src", "tgt"] {
        if let Some(port) = payload[end]["port"].as_str() {
            payload[end]["port"] = json!(port.to_lowercase());
        }
    }
}

/// An answer frame, naming the graph as the client did.
fn frame(output: &GraphOutput, graph: &str) -> Value {
    let mut payload = output.payload();
    if payload.get("graph").is_some() {
        payload["graph"] = json!(graph);
    }
    json!({"protocol": "graph", "command": output.command(), "payload": payload})
}
