//! `graph:*` commands on exported ports and groups.

use crate::graph::{ExportedPort, Graph, Group};
use crate::messages::{
    AddGroup, AddPort, ChangeGroup, GraphChange, RemoveGroup, RemovePort, Rename,
};
use indexmap::IndexMap;
use serde_json::Map;

use super::{merge, rename_key, GraphEditError as E};

type Changes = Result<Vec<GraphChange>, E>;

/// Which side of the graph an exported port is on.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    In,
    Out,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::In => "inport",
            Kind::Out => "outport",
        }
    }

    fn ports(self, graph: &mut Graph) -> &mut IndexMap<String, ExportedPort> {
        match self {
            Kind::In => &mut graph.inports,
            Kind::Out => &mut graph.outports,
        }
    }

    fn not_found(self, name: &str) -> E {
        E::PortNotFound {
            kind: self.name(),
            name: name.to_owned(),
        }
    }
}

/// Exports a node's port; a public name exported again is replaced in place.
pub(super) fn add_port(graph: &mut Graph, kind: Kind, p: AddPort) -> Changes {
    if !graph.processes.contains_key(&p.node) {
        return Err(E::NodeNotFound(p.node));
    }
    let port = ExportedPort {
        process: p.node.clone(),
        port: p.port.clone(),
        metadata: p.metadata.clone(),
        extra: Map::new(),
    };
    kind.ports(graph).insert(p.public.clone(), port);
    Ok(vec![match kind {
        Kind::In => GraphChange::AddInport(p),
        Kind::Out => GraphChange::AddOutport(p),
    }])
}

pub(super) fn remove_port(graph: &mut Graph, kind: Kind, p: RemovePort) -> Changes {
    if kind.ports(graph).shift_remove(&p.public).is_none() {
        return Err(kind.not_found(&p.public));
    }
    Ok(vec![match kind {
        Kind::In => GraphChange::RemoveInport(p),
        Kind::Out => GraphChange::RemoveOutport(p),
    }])
}

pub(super) fn rename_port(graph: &mut Graph, kind: Kind, p: Rename) -> Changes {
    let ports = kind.ports(graph);
    if !ports.contains_key(&p.from) {
        return Err(kind.not_found(&p.from));
    }
    if p.from != p.to && ports.contains_key(&p.to) {
        return Err(E::PortExists {
            kind: kind.name(),
            name: p.to,
        });
    }
    rename_key(ports, &p.from, &p.to);
    Ok(vec![match kind {
        Kind::In => GraphChange::RenameInport(p),
        Kind::Out => GraphChange::RenameOutport(p),
    }])
}

/// Adds a group of existing nodes.
pub(super) fn add_group(graph: &mut Graph, p: AddGroup) -> Changes {
    if graph.groups.iter().any(|g| g.name == p.name) {
        return Err(E::GroupExists(p.name));
    }
    if let Some(missing) = p.nodes.iter().find(|n| !graph.processes.contains_key(*n)) {
        return Err(E::NodeNotFound(missing.clone()));
    }
    graph.groups.push(Group {
        name: p.name.clone(),
        nodes: p.nodes.clone(),
        metadata: p.metadata.clone(),
        extra: Map::new(),
    });
    Ok(vec![GraphChange::AddGroup(p)])
}

pub(super) fn remove_group(graph: &mut Graph, p: RemoveGroup) -> Changes {
    let index = group_index(graph, &p.name)?;
    graph.groups.remove(index);
    Ok(vec![GraphChange::RemoveGroup(p)])
}

pub(super) fn rename_group(graph: &mut Graph, p: Rename) -> Changes {
    let index = group_index(graph, &p.from)?;
    if p.from != p.to && graph.groups.iter().any(|g| g.name == p.to) {
        return Err(E::GroupExists(p.to));
    }
    graph.groups[index].name.clone_from(&p.to);
    Ok(vec![GraphChange::RenameGroup(p)])
}

/// Merges metadata into the group's; the reply carries the whole result.
pub(super) fn change_group(graph: &mut Graph, p: ChangeGroup) -> Changes {
    let index = group_index(graph, &p.name)?;
    let metadata = merge(&mut graph.groups[index].metadata, p.metadata);
    Ok(vec![GraphChange::ChangeGroup(ChangeGroup {
        metadata,
        ..p
    })])
}

fn group_index(graph: &Graph, name: &str) -> Result<usize, E> {
    graph
        .groups
        .iter()
        .position(|g| g.name == name)
        .ok_or_else(|| E::GroupNotFound(name.to_owned()))
}
