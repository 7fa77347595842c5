//! Writing a [`Graph`] as `.fbp` text that this crate's parser and the
//! reference parser both read back as the same graph.
//!
//! The text has up to four blocks: `# @key value` annotations for the
//! properties, one `name(Component:meta)` declaration per node in `processes`
//! order, `INPORT=`/`OUTPORT=` lines, then one connection per line using plain
//! node names and explicit ports (`a OUT[1] -> IN b`). Ports and public names
//! are upper-cased when the graph is case insensitive (they must then be lower
//! case in the graph) and written as they are when it is case sensitive.
//! Numbers come back as JavaScript numbers do: integral values below 2^53 as
//! integers, others as floats.
//!
//! Unlike the reference serializer, nothing is renamed or guessed: a graph that
//! cannot be written faithfully is a [`SerializeError`], and what `.fbp` cannot
//! carry at all is listed in [`Serialized::lost`]. Node names the reference
//! parser mishandles (`Object.prototype` properties such as `constructor`) are
//! refused; a `__proto__` key in metadata, properties or IIP data is written and
//! read back by our parser, but the reference parser drops it.

use super::check::{
    annotation_lines, depth, iip_text, inexact_numbers, is_component, is_js_object_name,
    is_node_name, is_port_name, metadata_text,
};
use super::json::MAX_DEPTH;
use crate::graph::{Connection, Endpoint, ExportedPort, Graph};
use serde_json::Map;

/// A graph written as `.fbp`, with what could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialized {
    /// The `.fbp` text.
    pub text: String,
    /// What the text leaves out, one entry each (edge and IIP metadata, groups,
    /// exported-port metadata, unknown keys, properties and node metadata the
    /// grammar cannot express, integers a JavaScript number cannot hold).
    /// Empty when parsing `text` gives back the graph (with numbers in their
    /// JavaScript form: `2.0` comes back as `2`).
    pub lost: Vec<String>,
}

/// A graph that cannot be written as `.fbp` at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerializeError {
    /// Node names must match `[a-zA-Z_][a-zA-Z0-9_-]*`.
    #[error(
        "node name \"{node}\" cannot be written in .fbp (it must match [a-zA-Z_][a-zA-Z0-9_-]*)"
    )]
    NodeName {
        /// The node.
        node: String,
    },
    /// The reference parser mishandles nodes named like `Object.prototype`
    /// properties (`constructor`, `toString`, `__proto__`, ...).
    #[error("node name \"{node}\" is a JavaScript Object property, which the reference .fbp parser mishandles")]
    JsObjectName {
        /// The node.
        node: String,
    },
    /// Components must be non-empty and match `[a-zA-Z/\-0-9_]*`.
    #[error("node \"{node}\": component \"{component}\" cannot be written in .fbp (it must match [a-zA-Z/-0-9_]+)")]
    Component {
        /// The node.
        node: String,
        /// Its component.
        component: String,
    },
    /// Port and public names must match `[a-zA-Z_][a-zA-Z.0-9_]*`.
    #[error("{at}: port name \"{port}\" cannot be written in .fbp (it must match [a-zA-Z_][a-zA-Z.0-9_]*)")]
    PortName {
        /// Where the port is used.
        at: String,
        /// The port.
        port: String,
    },
    /// In a case-insensitive graph, parsing lower-cases port names.
    #[error("{at}: port name \"{port}\" is not lower case in a case-insensitive graph")]
    PortCase {
        /// Where the port is used.
        at: String,
        /// The port.
        port: String,
    },
    /// A connection or export refers to a node that is not in `processes`.
    #[error("{at}: node \"{node}\" is not in the graph's processes")]
    UndefinedNode {
        /// Where the node is used.
        at: String,
        /// The missing node.
        node: String,
    },
    /// IIP data nests deeper than the parser reads back.
    #[error("{at}: data nests more than {limit} levels deep")]
    TooDeep {
        /// Which IIP.
        at: String,
        /// The parser's limit.
        limit: usize,
    },
}

/// Writes `graph` as `.fbp`. Read it back with
/// `parse_with(&text, &ParseOptions { case_sensitive: graph.case_sensitive })`.
pub fn serialize(graph: &Graph) -> Result<Serialized, SerializeError> {
    let mut writer = Writer {
        graph,
        lost: Vec::new(),
    };
    let annotations = match &graph.properties {
        Some(properties) => annotation_lines(properties, &mut writer.lost),
        None => Vec::new(),
    };
    let blocks = [
        annotations,
        writer.declarations()?,
        writer.exports()?,
        writer.connections()?,
    ];
    if !graph.groups.is_empty() {
        writer.lost.push(format!("groups ({})", graph.groups.len()));
    }
    writer.lost_keys("graph", &graph.extra);
    let text = blocks
        .iter()
        .filter(|lines| !lines.is_empty())
        .map(|lines| {
            lines
                .iter()
                .map(|line| format!("{line}\n"))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Serialized {
        text,
        lost: writer.lost,
    })
}

struct Writer<'g> {
    graph: &'g Graph,
    lost: Vec<String>,
}

impl Writer<'_> {
    fn lost_keys(&mut self, at: &str, extra: &Map<String, serde_json::Value>) {
        for key in extra.keys() {
            self.lost.push(format!("{at}: key \"{key}\""));
        }
    }

    /// `name(Component:meta)`, one per node.
    fn declarations(&mut self) -> Result<Vec<String>, SerializeError> {
        let mut lines = Vec::new();
        for (name, process) in &self.graph.processes {
            if !is_node_name(name) {
                return Err(SerializeError::NodeName { node: name.clone() });
            }
            if is_js_object_name(name) {
                return Err(SerializeError::JsObjectName { node: name.clone() });
            }
            if !is_component(&process.component) {
                let component = process.component.clone();
                return Err(SerializeError::Component {
                    node: name.clone(),
                    component,
                });
            }
            let mut lost = Vec::new();
            let meta = process
                .metadata
                .as_ref()
                .and_then(|meta| metadata_text(meta, &mut lost));
            self.lost.extend(
                lost.into_iter()
                    .map(|what| format!("node \"{name}\": {what}")),
            );
            self.lost_keys(&format!("node \"{name}\""), &process.extra);
            lines.push(match meta {
                Some(meta) => format!("{name}({}:{meta})", process.component),
                None => format!("{name}({})", process.component),
            });
        }
        Ok(lines)
    }

    /// `INPORT=node.PORT:PUBLIC` and `OUTPORT=...`.
    fn exports(&mut self) -> Result<Vec<String>, SerializeError> {
        let mut lines = Vec::new();
        let all = [
            ("INPORT", "inport", &self.graph.inports),
            ("OUTPORT", "outport", &self.graph.outports),
        ];
        for (keyword, kind, ports) in all {
            for (public, exported) in ports {
                let at = format!("{kind} \"{public}\"");
                let ExportedPort {
                    process,
                    port,
                    metadata,
                    extra,
                } = exported;
                self.node(process, &at)?;
                let port = self.port(port, &at)?;
                let public = self.port(public, &at)?;
                if metadata.is_some() {
                    self.lost.push(format!("{at}: metadata"));
                }
                self.lost_keys(&at, extra);
                lines.push(format!("{keyword}={process}.{port}:{public}"));
            }
        }
        Ok(lines)
    }

    /// `src OUT -> IN tgt` and `data -> IN tgt`.
    fn connections(&mut self) -> Result<Vec<String>, SerializeError> {
        let mut lines = Vec::new();
        for connection in &self.graph.connections {
            let (line, at, metadata, extra) = match connection {
                Connection::Edge(edge) => {
                    let at = format!("edge {} -> {}", describe(&edge.src), describe(&edge.tgt));
                    let src = self.endpoint(&edge.src, &at)?;
                    let tgt = self.endpoint(&edge.tgt, &at)?;
                    let (port, node) = (src.1, src.0);
                    (
                        format!("{node} {port} -> {} {}", tgt.1, tgt.0),
                        at,
                        &edge.metadata,
                        &edge.extra,
                    )
                }
                Connection::Initial(iip) => {
                    let at = format!("IIP to {}", describe(&iip.tgt));
                    if depth(&iip.data) > MAX_DEPTH {
                        return Err(SerializeError::TooDeep {
                            at,
                            limit: MAX_DEPTH,
                        });
                    }
                    let mut inexact = Vec::new();
                    inexact_numbers(&iip.data, &mut inexact);
                    for number in inexact {
                        self.lost.push(format!("{at}: exact value of {number}"));
                    }
                    let tgt = self.endpoint(&iip.tgt, &at)?;
                    (
                        format!("{} -> {} {}", iip_text(&iip.data), tgt.1, tgt.0),
                        at,
                        &iip.metadata,
                        &iip.extra,
                    )
                }
            };
            if metadata.is_some() {
                self.lost.push(format!("{at}: metadata"));
            }
            self.lost_keys(&at, extra);
            lines.push(line);
        }
        Ok(lines)
    }

    /// `(node, PORT[index])` for one end of a connection.
    fn endpoint(
        &mut self,
        endpoint: &Endpoint,
        at: &str,
    ) -> Result<(String, String), SerializeError> {
        self.node(&endpoint.process, at)?;
        let mut port = self.port(&endpoint.port, at)?;
        if let Some(index) = endpoint.index {
            port = format!("{port}[{index}]");
        }
        self.lost_keys(
            &format!("{at}: endpoint {}", describe(endpoint)),
            &endpoint.extra,
        );
        Ok((endpoint.process.clone(), port))
    }

    fn node(&self, node: &str, at: &str) -> Result<(), SerializeError> {
        if self.graph.processes.contains_key(node) {
            return Ok(());
        }
        Err(SerializeError::UndefinedNode {
            at: at.to_string(),
            node: node.to_string(),
        })
    }

    /// A port or public name as written: upper case unless case sensitive.
    fn port(&self, port: &str, at: &str) -> Result<String, SerializeError> {
        let error = |make: fn(String, String) -> SerializeError| {
            Err(make(at.to_string(), port.to_string()))
        };
        if !is_port_name(port) {
            return error(|at, port| SerializeError::PortName { at, port });
        }
        if self.graph.case_sensitive {
            return Ok(port.to_string());
        }
        if port != port.to_ascii_lowercase() {
            return error(|at, port| SerializeError::PortCase { at, port });
        }
        Ok(port.to_ascii_uppercase())
    }
}

/// `node.port[index]`, for messages.
fn describe(endpoint: &Endpoint) -> String {
    match endpoint.index {
        Some(index) => format!("{}.{}[{index}]", endpoint.process, endpoint.port),
        None => format!("{}.{}", endpoint.process, endpoint.port),
    }
}
