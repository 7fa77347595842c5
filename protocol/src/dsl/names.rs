//! The node and port rules of the grammar: `node`, `component`, `port`.

use super::builder::{Component, NodeRef, PortRef};
use super::cursor::Expected;
use super::parser::Parser;

const NODE_NAME: Expected = Expected::Named("node name");
const PORT_NAME: Expected = Expected::Named("port name");

/// `[a-zA-Z_]`: how node and port names start.
fn is_name_start(ch: char) -> bool {
    ch.is_ascii_alphabetic() || ch == '_'
}

/// `[a-zA-Z0-9_\-]`: the rest of a node name.
fn is_node_name_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'
}

/// `[a-zA-Z.0-9_]`: the rest of a port name.
fn is_port_name_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '_' || ch == '.'
}

/// `[a-zA-Z/\-0-9_]`: a component name.
fn is_component_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '/' | '-' | '_')
}

/// `[a-zA-Z/=_,0-9]`: node metadata.
fn is_meta_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '/' | '=' | '_' | ',')
}

impl<'a> Parser<'a> {
    /// `node = nodeNameAndComponent / nodeName / nodeComponent`.
    pub(crate) fn node(&mut self) -> Option<NodeRef> {
        if let Some(node) = self.node_name_and_component() {
            return Some(node);
        }
        let at = self.cur.pos();
        if let Some(name) = self.node_name() {
            return Some(NodeRef {
                name: name.to_string(),
                at,
            });
        }
        self.node_component()
    }

    /// `nodeWithComponent = nodeNameAndComponent / nodeComponent`.
    pub(crate) fn node_with_component(&mut self) -> Option<NodeRef> {
        self.node_name_and_component()
            .or_else(|| self.node_component())
    }

    /// `nodeName = [a-zA-Z_][a-zA-Z0-9_\-]*`.
    fn node_name(&mut self) -> Option<&'a str> {
        let start = self.cur.pos();
        self.cur.one(is_name_start, NODE_NAME)?;
        self.cur.star(is_node_name_char, NODE_NAME);
        Some(self.cur.slice(start, self.cur.pos()))
    }

    /// `nodeNameAndComponent = nodeName component`: declares the node.
    fn node_name_and_component(&mut self) -> Option<NodeRef> {
        let at = self.cur.pos();
        let (name, component) = self.attempt(|p| Some((p.node_name()?, p.component()?)))?;
        self.build.add_node(name, at, &component);
        Some(NodeRef {
            name: name.to_string(),
            at,
        })
    }

    /// `nodeComponent = component`: an anonymous node, named by position.
    fn node_component(&mut self) -> Option<NodeRef> {
        let at = self.cur.pos();
        let component = self.component()?;
        let name = self.build.add_anonymous_node(&component, at);
        Some(NodeRef { name, at })
    }

    /// `component = "(" [a-zA-Z/\-0-9_]* (":" [a-zA-Z/=_,0-9]+)? ")"`.
    fn component(&mut self) -> Option<Component<'a>> {
        self.attempt(|p| {
            p.cur.lit("(").then_some(())?;
            let comp = p
                .cur
                .star(is_component_char, Expected::Named("component name"));
            let meta = p.attempt(|p| {
                p.cur.lit(":").then_some(())?;
                p.cur.plus(is_meta_char, Expected::Named("metadata"))
            });
            p.cur.lit(")").then_some(Component { comp, meta })
        })
    }

    /// `port = portName portIndex?`, lower-cased unless case sensitive.
    pub(crate) fn port(&mut self) -> Option<PortRef> {
        let name = self.port_name()?;
        let name = self.build.port_case(name);
        let index = self.port_index();
        Some(PortRef { name, index })
    }

    /// `port__ = port __`.
    pub(crate) fn port_spaces(&mut self) -> Option<PortRef> {
        self.attempt(|p| {
            let port = p.port()?;
            p.spaces1()?;
            Some(port)
        })
    }

    /// `__port = __ port`.
    pub(crate) fn spaces_port(&mut self) -> Option<PortRef> {
        self.attempt(|p| {
            p.spaces1()?;
            p.port()
        })
    }

    /// `portName = [a-zA-Z_][a-zA-Z.0-9_]*`.
    pub(crate) fn port_name(&mut self) -> Option<&'a str> {
        let start = self.cur.pos();
        self.cur.one(is_name_start, PORT_NAME)?;
        self.cur.star(is_port_name_char, PORT_NAME);
        Some(self.cur.slice(start, self.cur.pos()))
    }

    /// `portIndex = "[" [0-9]+ "]"`. An index beyond `u32` is remembered and
    /// reported once the text has parsed.
    fn port_index(&mut self) -> Option<u32> {
        let at = self.cur.pos();
        let digits = self.attempt(|p| {
            p.cur.lit("[").then_some(())?;
            let digits = p
                .cur
                .plus(|ch| ch.is_ascii_digit(), Expected::Named("digit"))?;
            p.cur.lit("]").then_some(digits)
        })?;
        let index = digits.parse::<u32>().ok();
        if index.is_none() && self.index_overflow.is_none() {
            self.index_overflow = Some((at + 1, digits.to_string()));
        }
        Some(index.unwrap_or(u32::MAX))
    }
}
