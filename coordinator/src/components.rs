//! The component catalogue: what `component:list` and `component:getsource`
//! answer, from the participants that announced themselves, the library's
//! components and the components the graph uses. Pure: a [`Catalogue`]
//! reads the registry, the library and the graph and returns protocol
//! payloads (a source file is named for the caller to read).
//!
//! # The list (`component:list`)
//! The participants' components, then the library's. A library component
//! that no participant names as its own (msgflo's hello example: `Hello`
//! in the library, `example/Hello` announced) gets the ports, label and
//! icon of a participant playing a graph node of it, so the editor draws
//! every port of such a node, also one no edge uses yet.
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
//!   participant (the one [`Catalogue::played_by`] finds); `{}` when nobody
//!   announced one yet.
//! - a graph participant's component (one that announced itself as an FBP
//!   runtime, `type` and `inqueue`): once the coordinator has asked the
//!   participant for it, its graph as JSON (`language: "json"`), which
//!   noflo-ui opens as a subgraph; such a component is listed with
//!   `subgraph: true`. Until then, as any participant's.
//! - an unknown name: [`SourceError::NotFound`].

use crate::library::Library;
use crate::registry::Registry;
use crate::routes;
use msgflo_protocol::discovery::{Participant, Port};
use msgflo_protocol::graph::Graph;
use msgflo_protocol::messages::{ComponentInfo, ComponentSource, PortDef};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
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

/// The catalogue as the library, the participants known now and the graph
/// (whose nodes count as users of components) make it.
#[derive(Clone, Copy)]
pub struct Catalogue<'a> {
    /// The component library.
    pub library: &'a Library,
    /// The participants known now.
    pub registry: &'a Registry,
    /// The graph whose nodes use components (the main graph).
    pub graph: Option<&'a Graph>,
    /// Graph participants' graphs (JSON text), by component name.
    pub subgraphs: &'a HashMap<String, String>,
}

impl Catalogue<'_> {
    /// `component:list`: the participants' components, then the library's,
    /// one entry per name.
    pub fn list(&self) -> Vec<ComponentInfo> {
        let mut listed = HashSet::new();
        let mut infos: Vec<ComponentInfo> = Vec::new();
        for entry in self.registry.entries() {
            let p = &entry.participant;
            if listed.insert(p.component.clone()) {
                infos.push(self.described(p));
            }
        }
        for name in self.library.names() {
            if listed.insert(name.clone()) {
                infos.push(self.of_library(name));
            }
        }
        for info in wiring() {
            if listed.insert(info.name.clone()) {
                infos.push(info);
            }
        }
        infos
    }

    /// The entries of [`list`](Self::list) that a participant of `role`
    /// describes: its own component, and the library component of the graph
    /// node it plays. One pass, not a whole list per discovery message.
    pub fn of_role(&self, role: &str) -> Vec<ComponentInfo> {
        let Some(participant) = self.registry.any_of_role(role) else {
            return Vec::new();
        };
        let own = participant.component.as_str();
        let mut infos = self.discovered(own).into_iter().collect::<Vec<_>>();
        let node = self.graph.and_then(|g| g.processes.get(role));
        let played = node.and_then(|n| self.resolve(&n.component, |c| self.in_library(c)));
        if let Some(name) = played.filter(|name| name != own && !self.is_announced(name)) {
            infos.push(self.of_library(name));
        }
        infos
    }

    /// A participant's component, marked a subgraph when its graph is known.
    fn described(&self, participant: &Participant) -> ComponentInfo {
        let mut info = of_participant(participant);
        info.subgraph = self.subgraphs.contains_key(&participant.component);
        info
    }

    /// `component`'s entry when a participant announces it as its own.
    fn discovered(&self, component: &str) -> Option<ComponentInfo> {
        self.registry
            .of_component(component)
            .next()
            .map(|e| self.described(&e.participant))
    }

    /// A library component's entry: a participant playing a node of it
    /// describes it, else only its name is known.
    fn of_library(&self, name: String) -> ComponentInfo {
        match self.played_by(&name) {
            Some(participant) => ComponentInfo {
                subgraph: self.subgraphs.contains_key(&participant.component),
                name,
                ..of_participant(participant)
            },
            None => ComponentInfo {
                name,
                description: None,
                icon: None,
                subgraph: false,
                in_ports: Vec::new(),
                out_ports: Vec::new(),
            },
        }
    }

    /// The graph participant whose graph `name` (a component name, as
    /// editors use it for a graph id) is: its own component, or the
    /// library's name for it.
    /// The name may lack the library prefix (`Pipeline` for
    /// `demo/Pipeline`: the name a `component:source` gives, which noflo-ui
    /// uses as the graph id).
    pub fn subgraph_owner(&self, name: &str) -> Option<&Participant> {
        let base = |c: &str| c.rsplit('/').next().unwrap_or(c).to_owned();
        let own = self
            .subgraphs
            .keys()
            .find(|c| c.as_str() == name || base(c) == base(name))
            .cloned();
        let key = own.or_else(|| self.resolve(name, |c| self.is_known(c)))?;
        let participant = self.played_by(&key)?;
        self.subgraphs
            .contains_key(&participant.component)
            .then_some(participant)
    }

    /// A participant that plays component `name` but runs no graph the
    /// coordinator knows (msgflo-nodejs, msgflo-python, `--component`): there
    /// is nothing inside it to open.
    pub fn plain_player(&self, name: &str) -> Option<&Participant> {
        let key = self.resolve(name, |c| self.is_known(c))?;
        let participant = self.played_by(&key)?;
        (!self.subgraphs.contains_key(&participant.component)).then_some(participant)
    }

    /// The graph of `component` when a graph participant plays it: one
    /// announcing it as its own, else one playing a graph node of it (the
    /// library's name for the participant, say `Pipeline` for a participant
    /// announcing `pipeline`).
    fn subgraph(&self, component: &str) -> Option<&String> {
        self.subgraphs.get(component).or_else(|| {
            let participant = self.played_by(component)?;
            self.subgraphs.get(&participant.component)
        })
    }

    /// A participant of `component`: one announcing it as its own, else one
    /// whose role is a graph node of that component.
    pub fn played_by(&self, component: &str) -> Option<&Participant> {
        let own = self
            .registry
            .of_component(component)
            .next()
            .map(|e| &e.participant);
        own.or_else(|| {
            self.graph?
                .processes
                .iter()
                .filter(|(_, node)| self.resolve(&node.component, |c| c == component).is_some())
                .find_map(|(role, _)| self.registry.any_of_role(role))
        })
    }

    /// The source of component `name` (see the module docs).
    pub fn source(&self, name: &str) -> Result<Source, SourceError> {
        let key = self
            .resolve(name, |c| self.is_known(c))
            .ok_or_else(|| SourceError::NotFound(name.to_owned()))?;
        let (base, prefix) = match name.rsplit_once('/') {
            Some((prefix, base)) => (base, Some(prefix)),
            None => (name, self.library.namespace()),
        };
        let mut answer = ComponentSource {
            name: base.to_owned(),
            language: DISCOVERY.to_owned(),
            library: prefix.map(str::to_owned),
            code: String::new(),
            tests: None,
        };
        let file = self
            .library
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
        if let Some(code) = self.subgraph(&key) {
            answer.language = "json".to_owned();
            answer.code = code.clone();
            return Ok(Source::Ready(answer));
        }
        let wired = wiring().into_iter().find(|w| w.name == key);
        let definition = match (self.played_by(&key), wired) {
            (Some(participant), _) => cleaned(participant),
            (None, Some(info)) => definition_of(&info),
            (None, None) => Value::Object(serde_json::Map::new()),
        };
        answer.code = serde_norway::to_string(&definition).map_err(|e| SourceError::Yaml {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Source::Ready(answer))
    }

    /// The catalogue's name for `name`: as given, by its last segment, or
    /// with the namespace — the first that `known` accepts (msgflo's lookup).
    fn resolve(&self, name: &str, known: impl Fn(&str) -> bool) -> Option<String> {
        if known(name) {
            return Some(name.to_owned());
        }
        let base = name.rsplit('/').next().unwrap_or(name);
        if known(base) {
            return Some(base.to_owned());
        }
        let with_namespace = format!("{}/{name}", self.library.namespace()?);
        (!name.contains('/') && known(&with_namespace)).then_some(with_namespace)
    }

    fn in_library(&self, name: &str) -> bool {
        self.library.names().iter().any(|n| n == name)
    }

    fn is_announced(&self, name: &str) -> bool {
        self.registry.of_component(name).next().is_some()
    }

    fn is_known(&self, name: &str) -> bool {
        wiring().iter().any(|w| w.name == name)
            || self.in_library(name)
            || self.is_announced(name)
            || self
                .graph
                .is_some_and(|g| g.processes.values().any(|p| p.component == name))
    }
}

/// msgflo's wiring components (`msgflo/RoundRobin`, `msgflo/PubSub`),
/// which the coordinator turns into bindings: listed so that the editor
/// draws their ports and offers them for new nodes.
pub fn wiring() -> Vec<ComponentInfo> {
    let ports = |names: &[&str]| names.iter().map(|n| PortDef::new(*n, "all")).collect();
    let component = |name: &str, description: &str, outports: &[&str]| ComponentInfo {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        icon: Some("random".to_owned()),
        subgraph: false,
        in_ports: ports(&["in"]),
        out_ports: ports(outports),
    };
    vec![
        component(
            routes::ROUND_ROBIN,
            "Wiring: the participants of the role on OUT share its messages; \
             what they reject goes to DEADLETTER",
            &["out", "deadletter"],
        ),
        component(
            routes::PUB_SUB,
            "Wiring: every source feeds every target",
            &["out"],
        ),
    ]
}

/// A component's definition in discovery's form (for a source's YAML).
fn definition_of(info: &ComponentInfo) -> Value {
    let ports = |ports: &[PortDef]| -> Vec<Value> {
        ports
            .iter()
            .map(|p| serde_json::json!({"id": p.id, "type": p.kind}))
            .collect()
    };
    serde_json::json!({
        "component": info.name,
        "label": info.description,
        "icon": info.icon,
        "inports": ports(&info.in_ports),
        "outports": ports(&info.out_ports),
    })
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

/// A participant's description without what belongs to one instance (as
/// msgflo's library cleans a discovered definition).
fn cleaned(participant: &Participant) -> Value {
    let mut value = serde_json::to_value(participant).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        for key in ["id", "role", "extra"] {
            object.shift_remove(key);
        }
        for ports in ["inports", "outports"] {
            let Some(Value::Array(ports)) = object.get_mut(ports) else {
                continue;
            };
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                port.shift_remove("queue");
            }
        }
    }
    value
}

#[cfg(test)]
#[path = "components_tests.rs"]
mod tests;
