//! `network:edges`: watching inner edges of a graph participant. The
//! selected edges get taps in the running network (`runtime/live.rs`); a
//! task turns what they carry into `network:data` (and `begingroup` /
//! `endgroup` for brackets) frames and sends each to the queue the request
//! named for events — `.fbp.<id>.send` for a client on the control queue,
//! the caller's reply queue for the `fbp` call. A later `network:edges`
//! replaces the selection (from whoever sends it); an empty one stops.
//!
//! Watching never slows the graph: a tap hands over a copy of the bytes
//! handle without waiting, and when [`SAMPLES`] copies are waiting to be
//! sent, further ones are skipped (counted in the log).

use super::fbp::{error, Runtime};
use crate::runtime::{Body, Edit, Sample};
use crate::transport::Transport;
use msgflo_protocol::graph::edge_name;
use msgflo_protocol::graph_edit::endpoint;
use msgflo_protocol::ids::QueueName;
use msgflo_protocol::messages::{EdgeRef, SelectedEdges};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Copies of watched packets waiting to be sent, at most.
pub const SAMPLES: usize = 1024;

impl Runtime {
    /// `network:edges`: watch exactly the edges listed.
    pub(super) async fn watch(&self, payload: &Value, events_to: &QueueName) -> Value {
        let selected: SelectedEdges = match serde_json::from_value(payload.clone()) {
            Ok(selected) => selected,
            Err(e) => return error("network", format!("network:edges: {e}")),
        };
        if !self.is_own(&selected.graph) {
            let text = format!(
                "graph {:?} is not this participant's graph ({})",
                selected.graph, self.name
            );
            return error("network", text);
        }
        let mut edges = Vec::new();
        for edge in &selected.edges {
            match (endpoint(&edge.src), endpoint(&edge.tgt)) {
                (Ok(src), Ok(tgt)) => edges.push((src, tgt)),
                (Err(e), _) | (_, Err(e)) => return error("network", e.to_string()),
            }
        }
        let ids = edges.iter().map(|(src, tgt)| edge_name(src, tgt)).collect();
        let (sink, samples) = mpsc::channel(SAMPLES);
        let watching = !edges.is_empty();
        let watched = self.editor.apply(Edit::Watch { edges, sink }).await;
        let task = watching.then(|| {
            let events = Events {
                transport: self.transport.clone(),
                to: events_to.clone(),
                graph: selected.graph.clone(),
                edges: selected.edges.clone(),
                ids,
            };
            tokio::spawn(events.send(samples)).abort_handle()
        });
        self.watch.replace(task);
        match watched {
            Ok(()) => json!({"protocol": "network", "command": "edges", "payload": selected}),
            Err(e) => error("network", e.to_string()),
        }
    }
}

/// Where the events of one selection go.
struct Events {
    transport: Arc<dyn Transport>,
    to: QueueName,
    graph: String,
    /// As the client named them; a sample's `edge` is a position here.
    edges: Vec<EdgeRef>,
    /// Their names (`a() OUT -> IN b()`), in the same order.
    ids: Vec<String>,
}

impl Events {
    async fn send(self, mut samples: mpsc::Receiver<Sample>) {
        while let Some(sample) = samples.recv().await {
            let Some(frame) = self.frame(&sample) else {
                continue;
            };
            let sent = self
                .transport
                .send_to_inport(&self.to, frame.to_string().into())
                .await;
            if let Err(e) = sent {
                tracing::debug!(to = %self.to, error = %e, "cannot send a network:data event");
            }
        }
    }

    fn frame(&self, sample: &Sample) -> Option<Value> {
        let (edge, id) = (self.edges.get(sample.edge)?, self.ids.get(sample.edge)?);
        let mut payload = json!({"id": id, "src": edge.src, "tgt": edge.tgt,
                                 "graph": self.graph});
        let command = match &sample.body {
            Body::Data(bytes) => {
                payload["data"] = serde_json::from_slice(bytes)
                    .unwrap_or_else(|_| json!(String::from_utf8_lossy(bytes)));
                "data"
            }
            Body::Json(json) => {
                payload["data"] = json.value().clone();
                "data"
            }
            Body::Open(group) => {
                payload["group"] = json!(group.as_deref().unwrap_or_default());
                "begingroup"
            }
            Body::Close(group) => {
                payload["group"] = json!(group.as_deref().unwrap_or_default());
                "endgroup"
            }
        };
        Some(json!({"protocol": "network", "command": command, "payload": payload}))
    }
}
