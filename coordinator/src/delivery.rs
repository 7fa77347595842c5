//! The delivery mode each outport of a graph publishes in, from the
//! `delivery` its edges name in their metadata (`"persistent"` or
//! `"transient"`, [`msgflo_protocol::delivery`]). Pure.
//!
//! On AMQP the mode is a property of each message, set when it is
//! published, and one publish to an outport's exchange reaches every edge
//! from it: an outport has one mode, so its edges decide together.
//! - Any edge saying `persistent`: persistent (an edge that asks for disk is
//!   never given less).
//! - Every edge saying `transient`: transient.
//! - Otherwise (an edge that names none): the participant's own choice
//!   (`--delivery`, or its input's mode), so the outport gets no mode.
//!
//! [`crate::bindings::plan`] turns each into a `setoutportdelivery` for every
//! participant of the source role.
//!
//! On MQTT a participant publishes QoS 1 whatever the mode, but each edge
//! is a subscription of its own, with a QoS of its own: an edge saying
//! `transient` ([`edge_mode`]) is subscribed QoS 0 (`setinportdelivery`), so
//! the broker sends its messages without waiting for acks and keeps none
//! while the participant is away, and what the participant holds when it
//! dies is lost.

use crate::routes;
use msgflo_protocol::delivery::{self, DeliveryMode};
use msgflo_protocol::graph::{Endpoint, Graph};
use std::collections::BTreeMap;

/// A node's outport, as the graph names it: (node, port lower-cased).
pub type Outport = (String, String);

/// The mode each outport of `graph` publishes in, where its edges decide
/// one (see the module docs). A `delivery` that is no mode's name (graph
/// edits refuse one; a graph file may hold it) counts as naming none.
pub fn outport_modes(graph: &Graph) -> BTreeMap<Outport, DeliveryMode> {
    let mut named: BTreeMap<Outport, Vec<Option<DeliveryMode>>> = BTreeMap::new();
    for edge in graph.edges() {
        if !routes::is_participant_node(graph, &edge.src.process) {
            continue;
        }
        let outport = (edge.src.process.clone(), edge.src.port.to_lowercase());
        let mode = delivery::in_metadata(edge.metadata.as_ref()).unwrap_or(None);
        named.entry(outport).or_default().push(mode);
    }
    named
        .into_iter()
        .filter_map(|(outport, modes)| Some((outport, together(&modes)?)))
        .collect()
}

/// The mode the graph names for messages from `from` to `to`: that of the
/// edge between them, and of each edge from `from` into a wiring node that
/// leads to `to` (the edge leaving the participant decides, as on AMQP).
/// One subscription carries them all, so they decide together, as an
/// outport's edges do: any persistent wins, transient only if all say so.
pub fn edge_mode(graph: &Graph, from: &Endpoint, to: &Endpoint) -> Option<DeliveryMode> {
    let same = |a: &Endpoint, b: &Endpoint| {
        a.process == b.process && a.port.eq_ignore_ascii_case(&b.port) && a.index == b.index
    };
    let through = |node: &str| {
        routes::is_wiring_node(graph, node)
            && graph
                .edges()
                .any(|e| e.src.process == node && same(&e.tgt, to))
    };
    let modes: Vec<Option<DeliveryMode>> = graph
        .edges()
        .filter(|e| same(&e.src, from) && (same(&e.tgt, to) || through(&e.tgt.process)))
        .map(|e| delivery::in_metadata(e.metadata.as_ref()).unwrap_or(None))
        .collect();
    together(&modes)
}

/// The mode of edges that decide together (see the module docs).
fn together(modes: &[Option<DeliveryMode>]) -> Option<DeliveryMode> {
    if modes.contains(&Some(DeliveryMode::Persistent)) {
        Some(DeliveryMode::Persistent)
    } else if !modes.is_empty() && modes.iter().all(|m| *m == Some(DeliveryMode::Transient)) {
        Some(DeliveryMode::Transient)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(edges: serde_json::Value) -> Graph {
        let processes = json!({
            "a": {"component": "core/Repeat"}, "b": {"component": "core/Repeat"},
            "c": {"component": "core/Repeat"}, "rr": {"component": "msgflo/RoundRobin"}});
        Graph::from_value(json!({"processes": processes, "connections": edges})).unwrap()
    }

    fn edge(src: &str, port: &str, tgt: &str, delivery: Option<&str>) -> serde_json::Value {
        let mut e = json!({"src": {"process": src, "port": port},
                           "tgt": {"process": tgt, "port": "in"}});
        if let Some(mode) = delivery {
            e["metadata"] = json!({"delivery": mode});
        }
        e
    }

    fn modes(edges: serde_json::Value) -> Vec<(String, String, DeliveryMode)> {
        outport_modes(&graph(edges))
            .into_iter()
            .map(|((node, port), mode)| (node, port, mode))
            .collect()
    }

    #[test]
    fn the_edges_from_an_outport_decide_its_mode_together() {
        use DeliveryMode::{Persistent, Transient};
        let t = Some("transient");
        let p = Some("persistent");
        assert_eq!(modes(json!([edge("a", "out", "b", None)])), vec![]);
        assert_eq!(
            modes(json!([edge("a", "OUT", "b", t), edge("a", "out", "c", t)])),
            vec![("a".into(), "out".into(), Transient)]
        );
        // One edge naming none: the participant's own choice.
        assert_eq!(
            modes(json!([
                edge("a", "out", "b", t),
                edge("a", "out", "c", None)
            ])),
            vec![]
        );
        // One edge asking for disk gets it.
        assert_eq!(
            modes(json!([edge("a", "out", "b", t), edge("a", "out", "c", p)])),
            vec![("a".into(), "out".into(), Persistent)]
        );
        // Each outport on its own; a wiring node publishes nothing itself.
        assert_eq!(
            modes(json!([
                edge("a", "out", "b", t),
                edge("a", "error", "c", p),
                edge("b", "out", "rr", t),
                edge("rr", "out", "c", p)
            ])),
            vec![
                ("a".into(), "error".into(), Persistent),
                ("a".into(), "out".into(), Transient),
                ("b".into(), "out".into(), Transient),
            ]
        );
        // No mode's name: as if none were named.
        assert_eq!(modes(json!([edge("a", "out", "b", Some("fast"))])), vec![]);
    }

    #[test]
    fn an_edge_s_own_mode_and_through_a_wiring_node_the_mode_of_the_edge_into_it() {
        let g = graph(json!([
            edge("a", "out", "b", Some("transient")),
            edge("a", "error", "rr", Some("persistent")),
            edge("rr", "out", "c", Some("transient"))
        ]));
        let end = |node: &str, port: &str| Endpoint::new(node, port);
        assert_eq!(
            edge_mode(&g, &end("a", "OUT"), &end("b", "in")),
            Some(DeliveryMode::Transient)
        );
        // Through the wiring node: the edge leaving the participant.
        assert_eq!(
            edge_mode(&g, &end("a", "error"), &end("c", "in")),
            Some(DeliveryMode::Persistent)
        );
        // Only the route's own edges count: b has none to c.
        assert_eq!(edge_mode(&g, &end("b", "out"), &end("c", "in")), None);
        assert_eq!(edge_mode(&g, &end("a", "out"), &end("a", "in")), None);
    }
}
