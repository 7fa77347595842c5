//! A copy of a watched queue's message becomes `network:data` on every edge
//! it travels, for the clients that may watch edges, and a
//! `runtime:packet` on every exported outport it leaves by, for the clients
//! that may receive that port (`rights.rs`). Copies of a queue no longer
//! watched (a tap being undone) are dropped.
//!
//! The brackets around a message (its `msgflo-brackets` header, which graph
//! participants write) come around its data, in order: the `before` ones,
//! the data, the `after` ones — on an exported outport as `runtime:packet`
//! `begingroup` / `endgroup` (payload: the group's name, or `null`), on an
//! edge as `network:begingroup` / `network:endgroup` (`group`: the name, or
//! `""` for an unnamed group).

use super::Core;
use crate::bindings;
use crate::routes::{self, Source};
use msgflo_protocol::brackets::{Bracket, Framing};
use msgflo_protocol::graph::{Edge, Endpoint};
use msgflo_protocol::ids::QueueName;
use msgflo_protocol::messages::{
    DataEvent, GroupEvent, NetworkOutput, Output, Packet, PacketEvent, PortRef, RuntimeOutput,
};
use serde_json::Value;

/// One item of a tapped message, in the order it is told.
enum Item<'a> {
    Bracket(&'a Bracket),
    Data,
}

impl Core {
    /// A copy of a message published to a watched queue.
    pub(super) fn tapped(&mut self, queue: &QueueName, payload: &[u8], brackets: &Framing) {
        if !self.taps.applied().contains(queue) {
            return;
        }
        let Some(graph) = self.running_graph() else {
            return;
        };
        let data = payload_value(payload);
        let items: Vec<Item<'_>> = brackets
            .before
            .iter()
            .map(Item::Bracket)
            .chain([Item::Data])
            .chain(brackets.after.iter().map(Item::Bracket))
            .collect();
        let carries = |source: &Source| {
            bindings::source_queue(&self.registry, source).ok().as_ref() == Some(queue)
        };
        let graph_id = self.network.graph().to_owned();
        let mut on_edges = Vec::new();
        for edge in graph.edges() {
            if !routes::edge_sources(graph, edge).iter().any(carries) {
                continue;
            }
            for item in &items {
                on_edges.push(edge_output(edge, &graph_id, item, &data));
            }
        }
        let mut on_ports = Vec::new();
        for (public, port) in &graph.outports {
            if !carries(&Source::Outport(Endpoint::new(&port.process, &port.port))) {
                continue;
            }
            for item in &items {
                let (event, payload) = match item {
                    Item::Bracket(Bracket::Open(name)) => {
                        (PacketEvent::Begingroup, name_value(name))
                    }
                    Item::Bracket(Bracket::Close(name)) => {
                        (PacketEvent::Endgroup, name_value(name))
                    }
                    Item::Data => (PacketEvent::Data, data.clone()),
                };
                let packet = Output::Runtime(RuntimeOutput::Packet(Packet {
                    port: public.clone(),
                    event,
                    kind: None,
                    schema: None,
                    payload: Some(payload),
                    graph: graph_id.clone(),
                }));
                on_ports.push((public.clone(), packet));
            }
        }
        for output in &on_edges {
            self.broadcast_edge(output);
        }
        for (port, output) in &on_ports {
            self.broadcast_to(output, |rights| rights.may_receive(port));
        }
    }
}

/// `network:data`, `network:begingroup` or `network:endgroup` on `edge`.
fn edge_output(edge: &Edge, graph_id: &str, item: &Item<'_>, data: &Value) -> Output {
    let id = bindings::edge_name(&edge.src, &edge.tgt);
    let src = Some(PortRef::new(&edge.src.process, &edge.src.port));
    let tgt = PortRef::new(&edge.tgt.process, &edge.tgt.port);
    let group = |name: &Option<String>| GroupEvent {
        id: id.clone(),
        src: src.clone(),
        tgt: tgt.clone(),
        graph: graph_id.to_owned(),
        subgraph: None,
        group: name.clone().unwrap_or_default(),
    };
    Output::Network(match item {
        Item::Bracket(Bracket::Open(name)) => NetworkOutput::BeginGroup(group(name)),
        Item::Bracket(Bracket::Close(name)) => NetworkOutput::EndGroup(group(name)),
        Item::Data => NetworkOutput::Data(DataEvent {
            id: id.clone(),
            src: src.clone(),
            tgt: tgt.clone(),
            graph: graph_id.to_owned(),
            subgraph: None,
            data: data.clone(),
            kind: None,
            schema: None,
        }),
    })
}

/// A group's name as a packet payload: the name, or `null`.
fn name_value(name: &Option<String>) -> Value {
    name.as_deref()
        .map_or(Value::Null, |n| Value::String(n.to_owned()))
}

/// A payload as JSON when it is JSON, else as a string.
fn payload_value(payload: &[u8]) -> Value {
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}
