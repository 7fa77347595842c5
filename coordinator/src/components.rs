//! The component catalogue: what `component:list` and `component:getsource`
//! answer, from the participants that announced themselves, the library's
//! components and the components the graph uses. Pure: it reads the
//! registry, the library and the graph and returns protocol payloads (a
//! source file is named for the caller to read).
//!
//! # Sources (`component:getsource`), as msgflo 0.12.3 answers them
//! A name is found as given, then by its last segment (`ns/Hello` ->
//! `Hello`), then with the library's namespace (`Hello` -> `ns/Hello`),
//! among the library's components, the participants' components and the
//! graph's. The answer names the component without its library, and the
//! library as the name's prefix, else the namespace: noflo-ui asks for
//! every un-namespaced component of the list when the runtime has a
//! namespace, then again with the namespace, and opens the live graph only
//! when every answer is a source.
//! - a library component with a file (`--componentdir`): the file, in its
//!   language.
//! - any other (a command in the library, a discovered participant, a node
//!   of the graph waiting for one): `language: "discovery"`, and as `code`
//!   the YAML of the definition its participants announce (msgflo's form:
//!   without `id`, `role`, `extra` and the ports' queues), found by the
//!   component's name or by a graph node of it whose role has a
//!   participant; `{}` when nobody announced one yet.
//! - an unknown name: [`SourceError::NotFound`].

use crate::library::Library;
use crate::registry::Registry;
use msgflo_protocol::discovery::{Participant, Port};
use msgflo_protocol::graph::Graph;
use msgflo_protocol::messages::{ComponentInfo, ComponentSource, PortDef};
use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;

/// The language of a source that is a participant's definition.
pub const DISCOVERY: &str = "discovery";

/// What `component:getsource` answers for a component (not a graph).
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The answer as it is.
    Ready(ComponentSource),
    /// A library component in a file: its `code` is the file's text, which
    /// the caller reads.
    File {
        /// The file.
        path: PathBuf,
        /// The answer, without its code.
        source: ComponentSource,
    },
}

/// Why a component has no source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Neither the library, the participants nor the graph know the name.
    #[error("Component not found for {0}")]
    NotFound(String),
    /// The definition could not be written as YAML.
    #[error("cannot write the definition of {name} as YAML: {reason}")]
    Yaml {
        /// The component.
        name: String,
        /// What the YAML writer said.
        reason: String,
    },
}

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

/// The source of component `name` (see the module docs); `graph` is the
/// graph whose nodes count as users of a component.
pub fn source(
    name: &str,
    library: &Library,
    registry: &Registry,
    graph: Option<&Graph>,
) -> Result<Source, SourceError> {
    let known = |candidate: &str| {
        library.names().iter().any(|n| n == candidate)
            || registry
                .entries()
                .any(|e| e.participant.component == candidate)
            || graph.is_some_and(|g| g.processes.values().any(|p| p.component == candidate))
    };
    let key = resolve(name, library.namespace(), known)
        .ok_or_else(|| SourceError::NotFound(name.to_owned()))?;
    let (base, prefix) = match name.rsplit_once('/') {
        Some((prefix, base)) => (base, Some(prefix)),
        None => (name, library.namespace()),
    };
    let mut answer = ComponentSource {
        name: base.to_owned(),
        language: DISCOVERY.to_owned(),
        library: prefix.map(str::to_owned),
        code: String::new(),
        tests: None,
    };
    let file = library
        .find(&key)
        .filter(|entry| entry.name() == key)
        .and_then(|entry| Some((entry.file()?, entry.language())));
    if let Some((path, language)) = file {
        answer.language = language.unwrap_or("text").to_owned();
        return Ok(Source::File {
            path: path.to_path_buf(),
            source: answer,
        });
    }
    let definition = definition(&key, registry, graph, |c| {
        resolve(c, library.namespace(), |n| n == key).is_some()
    });
    answer.code = serde_norway::to_string(&definition).map_err(|e| SourceError::Yaml {
        name: name.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(Source::Ready(answer))
}

/// The catalogue's name for `name`: as given, by its last segment, or with
/// the namespace — the first that `known` accepts (msgflo's lookup).
fn resolve(name: &str, namespace: Option<&str>, known: impl Fn(&str) -> bool) -> Option<String> {
    if known(name) {
        return Some(name.to_owned());
    }
    let base = name.rsplit('/').next().unwrap_or(name);
    if known(base) {
        return Some(base.to_owned());
    }
    let with_namespace = format!("{}/{name}", namespace?);
    (!name.contains('/') && known(&with_namespace)).then_some(with_namespace)
}

/// What the participants of `component` announce, in msgflo's cleaned
/// form: a participant of that component, else one whose role is a graph
/// node of a component `is_it` accepts; `{}` when there is none.
fn definition(
    component: &str,
    registry: &Registry,
    graph: Option<&Graph>,
    is_it: impl Fn(&str) -> bool,
) -> Value {
    let by_name = registry
        .entries()
        .map(|e| &e.participant)
        .find(|p| p.component == component);
    let by_node = || {
        let graph = graph?;
        graph
            .processes
            .iter()
            .filter(|(_, node)| is_it(&node.component))
            .find_map(|(role, _)| registry.any_of_role(role))
    };
    match by_name.or_else(by_node) {
        Some(participant) => cleaned(participant),
        None => Value::Object(serde_json::Map::new()),
    }
}

/// A participant's description without what belongs to one instance (as
/// msgflo's library cleans a discovered definition).
fn cleaned(participant: &Participant) -> Value {
    let mut value = serde_json::to_value(participant).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        for key in ["id", "role", "extra"] {
            object.remove(key);
        }
        for ports in ["inports", "outports"] {
            let Some(Value::Array(ports)) = object.get_mut(ports) else {
                continue;
            };
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                port.remove("queue");
            }
        }
    }
    value
}

#[cfg(test)]
#[path = "components_tests.rs"]
mod tests;
