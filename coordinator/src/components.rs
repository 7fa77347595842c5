//! The component catalogue: what `component:list` answers, from the
//! participants that announced themselves and the library's components.
//! Pure: it reads the registry and the library and returns protocol
//! payloads.

use crate::library::Library;
use crate::registry::Registry;
use msgflo_protocol::discovery::{Participant, Port};
use msgflo_protocol::messages::{ComponentInfo, PortDef};
use std::collections::HashSet;

/// The discovered participants' components, then the library's: one entry
/// per name, a participant's description winning over a bare library name.
pub fn list(registry: &Registry, library: &Library) -> Vec<ComponentInfo> {
    let mut listed = HashSet::new();
    let mut infos: Vec<ComponentInfo> = Vec::new();
    for entry in registry.entries() {
        let p = &entry.participant;
        if listed.insert(p.component.clone()) {
            infos.push(of_participant(p));
        }
    }
    for name in library.names() {
        if listed.insert(name.clone()) {
            infos.push(ComponentInfo {
                name,
                description: None,
                icon: None,
                subgraph: false,
                in_ports: Vec::new(),
                out_ports: Vec::new(),
            });
        }
    }
    infos
}

/// `component` as [`list`] gives it when a participant has it: one pass,
/// not a whole list per discovery message.
pub fn discovered(registry: &Registry, component: &str) -> Option<ComponentInfo> {
    registry
        .entries()
        .find(|e| e.participant.component == component)
        .map(|e| of_participant(&e.participant))
}

/// The component a participant describes.
pub fn of_participant(p: &Participant) -> ComponentInfo {
    let port = |port: &Port| {
        let mut def = PortDef::new(port.id.as_str(), &port.datatype);
        def.description = port.description.clone();
        def
    };
    ComponentInfo {
        name: p.component.clone(),
        description: (!p.label.is_empty()).then(|| p.label.clone()),
        icon: (!p.icon.is_empty()).then(|| p.icon.clone()),
        subgraph: false,
        in_ports: p.inports.iter().map(port).collect(),
        out_ports: p.outports.iter().map(port).collect(),
    }
}
