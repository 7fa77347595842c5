//! `graph:*` commands on nodes, edges and IIPs.

use crate::delivery;
use crate::graph::{Connection, Edge, Endpoint, Graph, Initial, Process};
use crate::messages::{
    AddEdge, AddInitial, AddNode, ChangeEdge, ChangeNode, GraphChange, Iip, PortIndex, PortRef,
    RemoveEdge, RemoveGroup, RemoveInitial, RemoveNode, RemovePort, Rename,
};
use serde_json::Map;

use super::{describe, merge, GraphEditError as E};

type Changes = Result<Vec<GraphChange>, E>;

pub(super) fn add_node(graph: &mut Graph, p: AddNode) -> Changes {
    if p.id.is_empty() {
        return Err(E::NoNodeId);
    }
    if graph.processes.contains_key(&p.id) {
        return Err(E::NodeExists(p.id));
    }
    let process = Process {
        component: p.component.clone(),
        metadata: p.metadata.clone(),
        extra: Map::new(),
    };
    graph.processes.insert(p.id.clone(), process);
    Ok(vec![GraphChange::AddNode(p)])
}

/// Removes the node and everything attached to it, announcing each removal
/// before the node's own (see the module docs for the order).
pub(super) fn remove_node(graph: &mut Graph, p: RemoveNode) -> Changes {
    node(graph, &p.id)?;
    let (id, name) = (p.id.as_str(), p.graph.as_str());
    let mut out = Vec::new();
    graph.connections.retain(|c| match c {
        Connection::Edge(e) if e.src.process == id || e.tgt.process == id => {
            out.push(removed_edge(e, name));
            false
        }
        _ => true,
    });
    graph.connections.retain(|c| match c {
        Connection::Initial(iip) if iip.tgt.process == id => {
            out.push(removed_initial(iip, name));
            false
        }
        _ => true,
    });
    for (inport, exported) in [(true, &mut graph.inports), (false, &mut graph.outports)] {
        exported.retain(|public, port| {
            if port.process != id {
                return true;
            }
            let removal = RemovePort {
                public: public.clone(),
                graph: name.to_owned(),
            };
            out.push(if inport {
                GraphChange::RemoveInport(removal)
            } else {
                GraphChange::RemoveOutport(removal)
            });
            false
        });
    }
    graph.groups.retain_mut(|group| {
        let before = group.nodes.len();
        group.nodes.retain(|member| member != id);
        if before == group.nodes.len() || !group.nodes.is_empty() {
            return true;
        }
        out.push(GraphChange::RemoveGroup(RemoveGroup {
            name: group.name.clone(),
            graph: name.to_owned(),
        }));
        false
    });
    graph.processes.shift_remove(id);
    out.push(GraphChange::RemoveNode(p));
    Ok(out)
}

/// Renames the node everywhere it is named.
pub(super) fn rename_node(graph: &mut Graph, p: Rename) -> Changes {
    node(graph, &p.from)?;
    if p.to.is_empty() {
        return Err(E::NoNodeId);
    }
    if p.from != p.to && graph.processes.contains_key(&p.to) {
        return Err(E::NodeExists(p.to));
    }
    super::rename_key(&mut graph.processes, &p.from, &p.to);
    let rename = |name: &mut String| {
        if *name == p.from {
            name.clone_from(&p.to);
        }
    };
    for connection in &mut graph.connections {
        match connection {
            Connection::Edge(e) => {
                rename(&mut e.src.process);
                rename(&mut e.tgt.process);
            }
            Connection::Initial(iip) => rename(&mut iip.tgt.process),
        }
    }
    let exported = graph
        .inports
        .values_mut()
        .chain(graph.outports.values_mut());
    exported.for_each(|port| rename(&mut port.process));
    let members = graph.groups.iter_mut().flat_map(|g| g.nodes.iter_mut());
    members.for_each(rename);
    Ok(vec![GraphChange::RenameNode(p)])
}

/// Merges metadata into the node's; the reply carries the whole result.
pub(super) fn change_node(graph: &mut Graph, p: ChangeNode) -> Changes {
    let process = graph
        .processes
        .get_mut(&p.id)
        .ok_or_else(|| E::NodeNotFound(p.id.clone()))?;
    let metadata = merge(&mut process.metadata, p.metadata);
    Ok(vec![GraphChange::ChangeNode(ChangeNode { metadata, ..p })])
}

pub(super) fn add_edge(graph: &mut Graph, mut p: AddEdge) -> Changes {
    let (src, tgt) = (endpoint(&p.src)?, endpoint(&p.tgt)?);
    // A `null` is no value (noflo-ui draws a new edge with `route: null`,
    // which its own schema check then refuses in the reply).
    if let Some(metadata) = &mut p.metadata {
        metadata.retain(|_, value| !value.is_null());
    }
    delivery::in_metadata(p.metadata.as_ref()).map_err(E::BadDelivery)?;
    node(graph, &src.process)?;
    node(graph, &tgt.process)?;
    if graph
        .edges()
        .any(|e| same(&e.src, &src) && same(&e.tgt, &tgt))
    {
        return Err(E::EdgeExists(describe_edge(&src, &tgt)));
    }
    graph.connections.push(Connection::Edge(Edge {
        src,
        tgt,
        metadata: p.metadata.clone(),
        extra: Map::new(),
    }));
    Ok(vec![GraphChange::AddEdge(p)])
}

/// Removes every edge between the two ports (any index, unless one is given).
pub(super) fn remove_edge(graph: &mut Graph, p: RemoveEdge) -> Changes {
    let (src, tgt) = (endpoint(&p.src)?, endpoint(&p.tgt)?);
    let mut out = Vec::new();
    graph.connections.retain(|c| match c {
        Connection::Edge(e) if matches(&e.src, &src) && matches(&e.tgt, &tgt) => {
            out.push(removed_edge(e, &p.graph));
            false
        }
        _ => true,
    });
    if out.is_empty() {
        return Err(E::EdgeNotFound(describe_edge(&src, &tgt)));
    }
    Ok(out)
}

/// Merges metadata into the first edge between the two ports.
pub(super) fn change_edge(graph: &mut Graph, p: ChangeEdge) -> Changes {
    let (src, tgt) = (endpoint(&p.src)?, endpoint(&p.tgt)?);
    let edge = graph.connections.iter_mut().find_map(|c| match c {
        Connection::Edge(e) if matches(&e.src, &src) && matches(&e.tgt, &tgt) => Some(e),
        _ => None,
    });
    let edge = edge.ok_or_else(|| E::EdgeNotFound(describe_edge(&src, &tgt)))?;
    delivery::in_metadata(p.metadata.as_ref()).map_err(E::BadDelivery)?;
    let metadata = merge(&mut edge.metadata, p.metadata.unwrap_or_default());
    Ok(vec![GraphChange::ChangeEdge(AddEdge {
        src: port_ref(&edge.src),
        tgt: port_ref(&edge.tgt),
        metadata: Some(metadata),
        graph: p.graph,
    })])
}

pub(super) fn add_initial(graph: &mut Graph, p: AddInitial) -> Changes {
    let tgt = endpoint(&p.tgt)?;
    node(graph, &tgt.process)?;
    graph.connections.push(Connection::Initial(Initial {
        data: p.src.data.clone(),
        tgt,
        metadata: p.metadata.clone(),
        extra: Map::new(),
    }));
    Ok(vec![GraphChange::AddInitial(p)])
}

/// Removes every IIP to the port (any index, unless one is given); each reply
/// carries the removed IIP's data.
pub(super) fn remove_initial(graph: &mut Graph, p: RemoveInitial) -> Changes {
    let tgt = endpoint(&p.tgt)?;
    let mut out = Vec::new();
    graph.connections.retain(|c| match c {
        Connection::Initial(iip) if matches(&iip.tgt, &tgt) => {
            out.push(removed_initial(iip, &p.graph));
            false
        }
        _ => true,
    });
    if out.is_empty() {
        return Err(E::InitialNotFound(describe(&tgt)));
    }
    Ok(out)
}

fn node<'g>(graph: &'g Graph, id: &str) -> Result<&'g Process, E> {
    graph
        .processes
        .get(id)
        .ok_or_else(|| E::NodeNotFound(id.to_owned()))
}

fn removed_edge(edge: &Edge, graph: &str) -> GraphChange {
    GraphChange::RemoveEdge(RemoveEdge {
        src: port_ref(&edge.src),
        tgt: port_ref(&edge.tgt),
        graph: graph.to_owned(),
    })
}

fn removed_initial(iip: &Initial, graph: &str) -> GraphChange {
    GraphChange::RemoveInitial(RemoveInitial {
        src: Some(Iip {
            data: iip.data.clone(),
        }),
        tgt: port_ref(&iip.tgt),
        graph: graph.to_owned(),
    })
}

/// Whether a stored endpoint is the one asked for; no index asks for any.
fn matches(stored: &Endpoint, wanted: &Endpoint) -> bool {
    stored.process == wanted.process
        && stored.port == wanted.port
        && (wanted.index.is_none() || wanted.index == stored.index)
}

/// Whether two endpoints are the same port slot.
fn same(a: &Endpoint, b: &Endpoint) -> bool {
    a.process == b.process && a.port == b.port && a.index == b.index
}

fn describe_edge(src: &Endpoint, tgt: &Endpoint) -> String {
    format!("{} -> {}", describe(src), describe(tgt))
}

/// The graph-file form of a port reference. String indices must be numerals.
pub fn endpoint(port: &PortRef) -> Result<Endpoint, E> {
    let index = match &port.index {
        None => None,
        Some(PortIndex::Number(n)) => {
            Some(u32::try_from(*n).map_err(|_| E::BadIndex(n.to_string()))?)
        }
        Some(PortIndex::Name(s)) => Some(s.parse().map_err(|_| E::BadIndex(s.clone()))?),
    };
    let endpoint = Endpoint::new(port.node.as_str(), port.port.as_str());
    Ok(match index {
        Some(index) => endpoint.at(index),
        None => endpoint,
    })
}

fn port_ref(endpoint: &Endpoint) -> PortRef {
    PortRef {
        node: endpoint.process.clone(),
        port: endpoint.port.clone(),
        index: endpoint.index.map(|i| PortIndex::Number(i.into())),
    }
}
