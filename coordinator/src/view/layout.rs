//! Where the live view draws each node: a layered layout (Sugiyama's, by
//! the `rust-sugiyama` crate), flowing left to right as FBP editors draw
//! graphs. Computed on the server so the page carries no layout library;
//! for a new graph shape only (the page keeps it while the numbers change).
//! Pure.

use super::topology::Topology;
use rust_sugiyama::configure::Config;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// A node box's size.
pub const NODE_WIDTH: f64 = 200.0;
/// A node box's height.
pub const NODE_HEIGHT: f64 = 64.0;
/// Space between layers (columns).
const LAYER_GAP: f64 = 110.0;
/// Space between nodes of one layer.
const NODE_GAP: f64 = 26.0;
/// Space between the layouts of unconnected parts of the graph.
const PART_GAP: f64 = 60.0;

/// A laid out part of the graph: its nodes (index, left, top) relative to
/// its own corner, its width and height.
type Part = (Vec<(usize, f64, f64)>, f64, f64);

/// Where each node goes: its box's top-left corner, by node id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layout {
    /// Every node box's width (the page draws them this size).
    pub node_width: f64,
    /// Every node box's height.
    pub node_height: f64,
    /// Top-left corners.
    pub nodes: HashMap<String, (f64, f64)>,
    /// The whole drawing's size.
    pub width: f64,
    /// The whole drawing's size.
    pub height: f64,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            node_width: NODE_WIDTH,
            node_height: NODE_HEIGHT,
            nodes: HashMap::new(),
            width: 0.0,
            height: 0.0,
        }
    }
}

/// The layout of `topology`'s nodes and edges: each connected part of the
/// graph layered left to right, the parts on shelves; nodes
/// without edges, then roles outside the graph (`in_graph: false`), in a
/// grid below them.
pub fn layout(topology: &Topology) -> Layout {
    let index: HashMap<&str, u32> = topology
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.in_graph)
        .filter_map(|(i, n)| Some((n.id.as_str(), u32::try_from(i).ok()?)))
        .collect();
    // Self-loops and repeated edges do not change a layered layout; the
    // crate wants neither.
    let edges: BTreeSet<(u32, u32)> = topology
        .edges
        .iter()
        .filter_map(|e| {
            Some((
                *index.get(e.src.node.as_str())?,
                *index.get(e.tgt.node.as_str())?,
            ))
        })
        .filter(|(a, b)| a != b)
        .collect();
    let linked: BTreeSet<u32> = edges.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let edges: Vec<(u32, u32)> = edges.into_iter().collect();
    // The crate lays layers top to bottom, spacing a layer's vertices by
    // their width and layers by their height: sizes go in turned, and the
    // coordinates come out turned back.
    let vertices: Vec<(u32, (f64, f64))> = linked
        .iter()
        .map(|i| (*i, (NODE_HEIGHT + NODE_GAP, NODE_WIDTH + LAYER_GAP)))
        .collect();
    let config = Config {
        vertex_spacing: 0.0,
        ..Config::default()
    };
    let parts = match vertices.is_empty() {
        true => Vec::new(),
        // A panic in the crate leaves every node to the grid below.
        false => std::panic::catch_unwind(|| {
            rust_sugiyama::from_vertices_and_edges(&vertices, &edges, &config)
        })
        .unwrap_or_default(),
    };
    // Each part's nodes relative to its own top-left corner, and its size.
    let mut boxes: Vec<Part> = Vec::new();
    for (positions, _, _) in parts {
        let (min_x, min_y) = positions
            .iter()
            .fold((f64::MAX, f64::MAX), |(mx, my), (_, (x, y))| {
                (mx.min(*x), my.min(*y))
            });
        let nodes: Vec<(usize, f64, f64)> = positions
            .into_iter()
            .map(|(i, (x, y))| (i, y - min_y, x - min_x))
            .collect();
        let width = nodes.iter().map(|n| n.1).fold(0.0, f64::max) + NODE_WIDTH;
        let height = nodes.iter().map(|n| n.2).fold(0.0, f64::max) + NODE_HEIGHT;
        boxes.push((nodes, width, height));
    }
    // The parts on shelves, left to right, about as wide as a screen is
    // wide for their total area (so many small parts do not make one tall
    // column).
    let area: f64 = boxes
        .iter()
        .map(|(_, w, h)| (w + PART_GAP) * (h + PART_GAP))
        .sum();
    let widest = boxes.iter().map(|(_, w, _)| *w).fold(0.0, f64::max);
    let shelf_width = widest.max((area * 1.6).sqrt());
    let mut placed = Layout::default();
    let (mut left, mut top, mut shelf_height) = (0.0_f64, 0.0_f64, 0.0_f64);
    for (nodes, width, height) in boxes {
        if left > 0.0 && left + width > shelf_width {
            (left, top, shelf_height) = (0.0, top + shelf_height + PART_GAP, 0.0);
        }
        for (i, x, y) in nodes {
            if let Some(node) = topology.nodes.get(i) {
                placed.nodes.insert(node.id.clone(), (left + x, top + y));
            }
        }
        placed.width = placed.width.max(left + width);
        shelf_height = shelf_height.max(height);
        left += width + PART_GAP;
    }
    if shelf_height > 0.0 {
        top += shelf_height + PART_GAP;
    }
    let loose: Vec<&str> = topology
        .nodes
        .iter()
        .filter(|n| !placed.nodes.contains_key(&n.id))
        .map(|n| n.id.as_str())
        .collect();
    let columns = (loose.len() as f64).sqrt().ceil().max(1.0) as usize;
    for (k, id) in loose.iter().enumerate() {
        let (column, row) = ((k % columns) as f64, (k / columns) as f64);
        let (left, down) = (
            column * (NODE_WIDTH + NODE_GAP),
            top + row * (NODE_HEIGHT + NODE_GAP),
        );
        placed.nodes.insert((*id).to_owned(), (left, down));
        placed.width = placed.width.max(left + NODE_WIDTH);
        placed.height = placed.height.max(down + NODE_HEIGHT);
    }
    placed.height = placed.height.max(top - PART_GAP).max(NODE_HEIGHT);
    placed
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
