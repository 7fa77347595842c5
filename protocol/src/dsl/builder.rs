//! What the grammar's actions do: the parser's side-effect state.
//!
//! As in the reference, actions run as soon as a rule matches, even when an
//! enclosing rule later fails: declaring a node (`addNode`) and naming an
//! anonymous node (`addAnonymousNode`, keyed by input offset so that re-parsing
//! the same text gives the same name) are not undone by backtracking. Each
//! line's connection is a flat list of endpoint halves; at the end all lines are
//! concatenated and paired into edges and IIPs, then the graph is validated.

use super::error::{NodeUse, ParseErrorKind};
use super::number::{js_number, js_parse_float};
use super::ParseOptions;
use crate::graph::{Connection, Edge, Endpoint, ExportedPort, Graph, Initial, Metadata, Process};
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A parsed `(component:meta)`.
pub(crate) struct Component<'a> {
    /// The component name; empty when none was written.
    pub comp: &'a str,
    /// The metadata text after `:`, if any.
    pub meta: Option<&'a str>,
}

/// A node mentioned in a connection or export, with where it was written.
#[derive(Clone)]
pub(crate) struct NodeRef {
    pub name: String,
    pub at: usize,
}

/// A port as the `port` rule returns it: name (lower-cased unless case
/// sensitive) and optional index.
pub(crate) struct PortRef {
    pub name: String,
    pub index: Option<u32>,
}

/// One half of a connection: `{tgt}`, `{src}` or `{data}` in the reference.
pub(crate) enum Half {
    Tgt(Endpoint, usize),
    Src(Endpoint, usize),
    Data(Value),
}

struct Node {
    component: String,
    metadata: Option<Metadata>,
    at: usize,
}

/// Everything the actions have recorded so far.
pub(crate) struct Builder {
    case_sensitive: bool,
    default_in: String,
    default_out: String,
    nodes: IndexMap<String, Node>,
    anonymous_counts: HashMap<String, u64>,
    anonymous_names: HashMap<usize, String>,
    properties: Option<Map<String, Value>>,
    inports: IndexMap<String, (ExportedPort, usize)>,
    outports: IndexMap<String, (ExportedPort, usize)>,
    halves: Vec<Half>,
}

impl Builder {
    pub(crate) fn new(options: &ParseOptions) -> Self {
        Builder {
            case_sensitive: options.case_sensitive,
            default_in: "IN".into(),
            default_out: "OUT".into(),
            nodes: IndexMap::new(),
            anonymous_counts: HashMap::new(),
            anonymous_names: HashMap::new(),
            properties: None,
            inports: IndexMap::new(),
            outports: IndexMap::new(),
            halves: Vec::new(),
        }
    }

    /// Lower-cases a port or public name unless the graph is case sensitive.
    pub(crate) fn port_case(&self, name: &str) -> String {
        if self.case_sensitive {
            name.to_string()
        } else {
            name.to_ascii_lowercase()
        }
    }

    /// `addNode`: creates the node if new; sets the component only if one is
    /// written; replaces the metadata wholesale only if `:meta` is written.
    pub(crate) fn add_node(&mut self, name: &str, at: usize, component: &Component<'_>) {
        let node = self.nodes.entry(name.to_string()).or_insert_with(|| Node {
            component: String::new(),
            metadata: None,
            at,
        });
        if !component.comp.is_empty() {
            node.component = component.comp.to_string();
        }
        if let Some(meta) = component.meta {
            node.metadata = Some(parse_metadata(meta));
        }
    }

    /// `addAnonymousNode`: `(core/Repeat)` at `offset` is `_core_Repeat_<n>`,
    /// counting per name. Only the first run of non-alphanumeric characters
    /// becomes `_` (the reference's `replace` is not global).
    pub(crate) fn add_anonymous_node(
        &mut self,
        component: &Component<'_>,
        offset: usize,
    ) -> String {
        if let Some(name) = self.anonymous_names.get(&offset) {
            return name.clone();
        }
        let base = replace_first_non_alphanumeric_run(component.comp);
        let count = self.anonymous_counts.entry(base.clone()).or_insert(0);
        *count += 1;
        let name = format!("_{base}_{count}");
        self.anonymous_names.insert(offset, name.clone());
        self.add_node(&name, offset, component);
        name
    }

    /// `makeInPort`: the written port, or the current default inport.
    pub(crate) fn tgt(&self, node: &NodeRef, port: Option<PortRef>) -> Half {
        Half::Tgt(self.endpoint(node, port, &self.default_in), node.at)
    }

    /// `makeOutPort`: the written port, or the current default outport.
    pub(crate) fn src(&self, node: &NodeRef, port: Option<PortRef>) -> Half {
        Half::Src(self.endpoint(node, port, &self.default_out), node.at)
    }

    fn endpoint(&self, node: &NodeRef, port: Option<PortRef>, default: &str) -> Endpoint {
        let mut endpoint = Endpoint::new(node.name.clone(), self.port_case(default));
        if let Some(port) = port {
            endpoint.port = port.name;
            endpoint.index = port.index;
        }
        endpoint
    }

    /// `DEFAULT_INPORT=name`, for the lines that follow.
    pub(crate) fn set_default_in(&mut self, name: &str) {
        self.default_in = name.to_string();
    }

    /// `DEFAULT_OUTPORT=name`, for the lines that follow.
    pub(crate) fn set_default_out(&mut self, name: &str) {
        self.default_out = name.to_string();
    }

    /// `# @key value`: `runtime` sets `environment` to `{type: value}`.
    pub(crate) fn annotation(&mut self, key: &str, value: &str) {
        let properties = self.properties.get_or_insert_with(Map::new);
        if key == "runtime" {
            let mut environment = Map::new();
            environment.insert("type".into(), Value::String(value.into()));
            properties.insert("environment".into(), Value::Object(environment));
        } else {
            properties.insert(key.into(), Value::String(value.into()));
        }
    }

    /// `INPORT=node.port:public` (`outport == false`) or `OUTPORT=...`.
    pub(crate) fn export(&mut self, outport: bool, node: &NodeRef, port: &str, public: &str) {
        let exported = ExportedPort {
            process: node.name.clone(),
            port: self.port_case(port),
            ..ExportedPort::default()
        };
        let public = self.port_case(public);
        let ports = if outport {
            &mut self.outports
        } else {
            &mut self.inports
        };
        ports.insert(public, (exported, node.at));
    }

    /// A line's connection halves, in order.
    pub(crate) fn register(&mut self, halves: Vec<Half>) {
        self.halves.extend(halves);
    }

    /// Pairs the halves into connections, builds the graph and validates it
    /// in the reference's order. Errors carry a byte offset.
    pub(crate) fn finish(self) -> Result<Graph, (usize, ParseErrorKind)> {
        let connections = pair(self.halves);
        validate(&self.nodes, &self.inports, &self.outports, &connections)?;
        let processes = self.nodes.into_iter().map(|(name, node)| {
            let metadata = node.metadata;
            let process = Process {
                component: node.component,
                metadata,
                extra: Map::new(),
            };
            (name, process)
        });
        let exports = |ports: IndexMap<String, (ExportedPort, usize)>| {
            ports
                .into_iter()
                .map(|(public, (port, _))| (public, port))
                .collect()
        };
        Ok(Graph {
            case_sensitive: self.case_sensitive,
            properties: self.properties,
            inports: exports(self.inports),
            outports: exports(self.outports),
            groups: Vec::new(),
            processes: processes.collect(),
            connections: connections
                .into_iter()
                .map(|(connection, ..)| connection)
                .collect(),
            extra: Map::new(),
        })
    }
}

/// A connection with the offsets of its source and target node names.
type Located = (Connection, usize, usize);

/// The reference's pairing: a `{src}` or `{data}` directly followed by a
/// `{tgt}` makes a connection and both are used up; anything else is skipped.
fn pair(halves: Vec<Half>) -> Vec<Located> {
    let mut connections = Vec::new();
    let mut halves = halves.into_iter().peekable();
    while let Some(first) = halves.next() {
        if matches!(first, Half::Tgt(..)) || !matches!(halves.peek(), Some(Half::Tgt(..))) {
            continue;
        }
        let Some(Half::Tgt(tgt, tgt_at)) = halves.next() else {
            continue;
        };
        let extra = Map::new();
        connections.push(match first {
            Half::Src(src, src_at) => {
                let edge = Edge {
                    src,
                    tgt,
                    metadata: None,
                    extra,
                };
                (Connection::Edge(edge), src_at, tgt_at)
            }
            Half::Data(data) => {
                let iip = Initial {
                    data,
                    tgt,
                    metadata: None,
                    extra,
                };
                (Connection::Initial(iip), tgt_at, tgt_at)
            }
            Half::Tgt(..) => continue,
        });
    }
    connections
}

/// The reference's `validateContents`: every node has a component, then every
/// export, edge and IIP names a node that exists; the first problem wins.
fn validate(
    nodes: &IndexMap<String, Node>,
    inports: &IndexMap<String, (ExportedPort, usize)>,
    outports: &IndexMap<String, (ExportedPort, usize)>,
    connections: &[Located],
) -> Result<(), (usize, ParseErrorKind)> {
    if let Some((name, node)) = nodes.iter().find(|(_, node)| node.component.is_empty()) {
        return Err((
            node.at,
            ParseErrorKind::MissingComponent { node: name.clone() },
        ));
    }
    let undefined = |at: usize, node: &str, used_by: NodeUse| {
        let node = node.to_string();
        Err((at, ParseErrorKind::UndefinedNode { node, used_by }))
    };
    for (public, (port, at)) in inports {
        if !nodes.contains_key(&port.process) {
            return undefined(
                *at,
                &port.process,
                NodeUse::Inport {
                    public: public.clone(),
                },
            );
        }
    }
    for (public, (port, at)) in outports {
        if !nodes.contains_key(&port.process) {
            return undefined(
                *at,
                &port.process,
                NodeUse::Outport {
                    public: public.clone(),
                },
            );
        }
    }
    for (connection, src_at, tgt_at) in connections {
        match connection {
            Connection::Initial(iip) if !nodes.contains_key(&iip.tgt.process) => {
                let data = match &iip.data {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                return undefined(*tgt_at, &iip.tgt.process, NodeUse::Iip { data });
            }
            Connection::Edge(Edge { src, tgt, .. }) if !nodes.contains_key(&tgt.process) => {
                let used_by = NodeUse::EdgeFrom {
                    node: src.process.clone(),
                    port: src.port.clone(),
                };
                return undefined(*tgt_at, &tgt.process, used_by);
            }
            Connection::Edge(Edge { src, tgt, .. }) if !nodes.contains_key(&src.process) => {
                let used_by = NodeUse::EdgeTo {
                    node: tgt.process.clone(),
                    port: tgt.port.clone(),
                };
                return undefined(*src_at, &src.process, used_by);
            }
            _ => {}
        }
    }
    Ok(())
}

/// `:a=b,x=10,foo`: items split on `,`, each split on `=`; a lone value is
/// `routes`; more than one `=` ignores the rest; `x` and `y` are `parseFloat`ed.
fn parse_metadata(meta: &str) -> Metadata {
    let mut metadata = Metadata::new();
    for item in meta.split(',') {
        let mut parts = item.split('=');
        let first = parts.next().unwrap_or_default();
        let (key, value) = match parts.next() {
            Some(value) => (first, value),
            None => ("routes", first),
        };
        let value = if key == "x" || key == "y" {
            js_number(js_parse_float(value))
        } else {
            Value::String(value.to_string())
        };
        metadata.insert(key.to_string(), value);
    }
    metadata
}

/// JS `s.replace(/[^a-zA-Z0-9]+/, "_")`: only the first run is replaced.
fn replace_first_non_alphanumeric_run(text: &str) -> String {
    let Some(start) = text.find(|ch: char| !ch.is_ascii_alphanumeric()) else {
        return text.to_string();
    };
    let rest = &text[start..];
    let run = rest
        .find(|ch: char| ch.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    format!("{}_{}", &text[..start], &rest[run..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_first_separator_run_is_replaced() {
        assert_eq!(
            replace_first_non_alphanumeric_run("core/Repeat"),
            "core_Repeat"
        );
        assert_eq!(replace_first_non_alphanumeric_run("a/b-c/d"), "a_b-c/d");
        assert_eq!(replace_first_non_alphanumeric_run("x--/y"), "x_y");
        assert_eq!(replace_first_non_alphanumeric_run("/x"), "_x");
        assert_eq!(replace_first_non_alphanumeric_run("Foo"), "Foo");
        assert_eq!(replace_first_non_alphanumeric_run(""), "");
    }

    #[test]
    fn metadata_items_follow_the_reference() {
        let meta = parse_metadata("r,a=b=c,x=1e5,y=10abc,x2=abc,=v,");
        let want = json!({"routes": "", "a": "b", "x": 100000, "y": 10, "x2": "abc", "": "v"});
        assert_eq!(Value::Object(meta), want);
        assert_eq!(
            Value::Object(parse_metadata("x=abc,y=")),
            json!({"x": null, "y": null})
        );
    }
}
