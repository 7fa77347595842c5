//! Whether two graph participants run the same graph: the nodes with their
//! components, the edges and the IIPs — not where a node is drawn, nor any
//! other metadata, nor the order of `connections`. Used to decide whether a
//! participant that joined a role needs the role's live edits (`replay.rs`).

use msgflo_protocol::graph::{Connection, Endpoint, Graph};
use std::collections::BTreeMap;

/// A port of a node as compared: node, port (lower-cased unless the graph
/// is case-sensitive), slot.
type End = (String, String, Option<u32>);

/// What of a graph decides how its participant handles messages.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    nodes: BTreeMap<String, String>,
    edges: Vec<(End, End)>,
    /// Each IIP's data as JSON text, and its target.
    iips: Vec<(String, End)>,
}

impl Shape {
    fn of(graph: &Graph) -> Self {
        let end = |e: &Endpoint| {
            let port = if graph.case_sensitive {
                e.port.clone()
            } else {
                e.port.to_lowercase()
            };
            (e.process.clone(), port, e.index)
        };
        let nodes = graph
            .processes
            .iter()
            .map(|(name, p)| (name.clone(), p.component.clone()))
            .collect();
        let (mut edges, mut iips) = (Vec::new(), Vec::new());
        for connection in &graph.connections {
            match connection {
                Connection::Edge(e) => edges.push((end(&e.src), end(&e.tgt))),
                Connection::Initial(i) => iips.push((i.data.to_string(), end(&i.tgt))),
            }
        }
        edges.sort();
        iips.sort();
        Self { nodes, edges, iips }
    }
}

/// Whether the JSON graphs `a` and `b` have the same nodes, edges and IIPs;
/// `false` when either is no graph.
pub(super) fn same_graph(a: &str, b: &str) -> bool {
    match (Graph::from_json(a), Graph::from_json(b)) {
        (Ok(a), Ok(b)) => Shape::of(&a) == Shape::of(&b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::same_graph;

    const GRAPH: &str = r#"{"processes": {
            "a": {"component": "core/Repeat", "metadata": {"x": 1, "y": 2}},
            "b": {"component": "core/Repeat"}},
        "connections": [
            {"src": {"process": "a", "port": "out"}, "tgt": {"process": "b", "port": "in"}},
            {"data": 5, "tgt": {"process": "a", "port": "in"}}]}"#;

    #[test]
    fn position_metadata_and_connection_order_do_not_count() {
        let moved = r#"{"processes": {
                "b": {"component": "core/Repeat", "metadata": {"x": 9}},
                "a": {"component": "core/Repeat"}},
            "connections": [
                {"data": 5, "tgt": {"process": "a", "port": "in"}},
                {"src": {"process": "a", "port": "out"}, "tgt": {"process": "b", "port": "in"},
                 "metadata": {"route": 3}}]}"#;
        assert!(same_graph(GRAPH, moved));
    }

    #[test]
    fn a_component_an_edge_or_an_iip_more_or_less_counts() {
        let other_component = GRAPH.replacen(
            r#""b": {"component": "core/Repeat""#,
            r#""b": {"component": "core/Drop""#,
            1,
        );
        let other_iip = GRAPH.replace(r#""data": 5"#, r#""data": 6"#);
        let no_edge = r#"{"processes": {"a": {"component": "core/Repeat"},
            "b": {"component": "core/Repeat"}},
            "connections": [{"data": 5, "tgt": {"process": "a", "port": "in"}}]}"#;
        for other in [
            other_component.as_str(),
            other_iip.as_str(),
            no_edge,
            "not json",
        ] {
            assert!(!same_graph(GRAPH, other), "{other}");
        }
    }
}
