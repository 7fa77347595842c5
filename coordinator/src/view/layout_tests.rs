use super::*;
use crate::view::topology::{Edge, End, Node};

fn node(id: &str, in_graph: bool) -> Node {
    Node {
        id: id.into(),
        in_graph,
        ..Node::default()
    }
}

fn edge(a: &str, b: &str) -> Edge {
    Edge {
        id: format!("{a}->{b}"),
        src: End {
            node: a.into(),
            port: "out".into(),
        },
        tgt: End {
            node: b.into(),
            port: "in".into(),
        },
        routes: Vec::new(),
        delivery: None,
    }
}

fn overlap(a: (f64, f64), b: (f64, f64)) -> bool {
    (a.0 - b.0).abs() < NODE_WIDTH && (a.1 - b.1).abs() < NODE_HEIGHT
}

#[test]
fn a_chain_flows_left_to_right_and_nothing_overlaps() {
    let topology = Topology {
        nodes: vec![
            node("a", true),
            node("b", true),
            node("c", true),
            node("d", true),
            node("lonely", true),
            node("outside", false),
        ],
        edges: vec![
            edge("a", "b"),
            edge("b", "c"),
            edge("b", "d"),
            edge("c", "c"),
        ],
        ..Topology::default()
    };
    let placed = layout(&topology);
    assert_eq!(placed.nodes.len(), 6, "{placed:?}");
    let at = |id: &str| placed.nodes[id];
    assert!(at("a").0 < at("b").0 && at("b").0 < at("c").0, "{placed:?}");
    assert_eq!(at("c").0, at("d").0, "c and d are one layer: {placed:?}");
    let all: Vec<(f64, f64)> = placed.nodes.values().copied().collect();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert!(!overlap(*a, *b), "{a:?} and {b:?} overlap: {placed:?}");
        }
    }
    for (x, y) in &all {
        assert!(*x >= 0.0 && *y >= 0.0, "{placed:?}");
        assert!(
            x + NODE_WIDTH <= placed.width && y + NODE_HEIGHT <= placed.height,
            "{placed:?}"
        );
    }
}

#[test]
fn an_empty_graph_and_edges_to_unknown_nodes_lay_out() {
    assert!(layout(&Topology::default()).nodes.is_empty());
    let topology = Topology {
        nodes: vec![node("a", true)],
        edges: vec![edge("a", "ghost")],
        ..Topology::default()
    };
    assert_eq!(layout(&topology).nodes.len(), 1);
}

#[test]
fn many_small_parts_are_shelved_not_stacked() {
    let mut topology = Topology::default();
    for i in 0..100 {
        topology.nodes.push(node(&format!("a{i}"), true));
        topology.nodes.push(node(&format!("b{i}"), true));
        topology
            .edges
            .push(edge(&format!("a{i}"), &format!("b{i}")));
    }
    let placed = layout(&topology);
    assert_eq!(placed.nodes.len(), 200);
    let ratio = placed.height / placed.width;
    assert!(
        (0.2..5.0).contains(&ratio),
        "{} x {}",
        placed.width,
        placed.height
    );
}
