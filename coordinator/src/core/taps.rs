//! A copy of a watched queue's message becomes `network:data` on every edge
//! it travels and a `runtime:packet` on every exported outport it leaves
//! by. Copies of a queue no longer watched (a tap being undone) are dropped.

use super::Core;
use crate::bindings;
use crate::routes::{self, Source};
use msgflo_protocol::graph::Endpoint;
use msgflo_protocol::ids::QueueName;
use msgflo_protocol::messages::{
    DataEvent, NetworkOutput, Output, Packet, PacketEvent, PortRef, RuntimeOutput,
};
use serde_json::Value;

impl Core {
    /// A copy of a message published to a watched queue.
    pub(super) fn tapped(&mut self, queue: &QueueName, payload: &[u8]) {
        if !self.taps.applied().contains(queue) {
            return;
        }
        let Some(graph) = self.running_graph() else {
            return;
        };
        let data = payload_value(payload);
        let carries = |source: &Source| {
            bindings::source_queue(&self.registry, source).ok().as_ref() == Some(queue)
        };
        let graph_id = self.network.graph().to_owned();
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
}

/// A payload as JSON when it is JSON, else as a string.
fn payload_value(payload: &[u8]) -> Value {
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}
