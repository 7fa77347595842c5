//! `msgflo-procfile`: a Heroku/foreman Procfile from a graph — one line
//! `ROLE: COMMAND` per node, the command from the component library, then
//! the `--include` lines as given. The text is msgflo 0.12.3's, byte for byte
//! (it prints the lines, a newline, the includes joined by newlines, and one
//! more newline; so without includes the output ends in a blank line).
//!
//! # Differences from msgflo
//! - Nodes of `msgflo/RoundRobin` and `msgflo/PubSub` are broker bindings, not
//!   participants (msgflo-setup treats them so), and get no line; msgflo fails
//!   with `No component msgflo/RoundRobin defined for role …` unless they are
//!   `--ignore`d.
//! - The command lines come from [`Library::command`], which shell-quotes
//!   roles and IIPs that need it (see the library's docs); plain values come
//!   out as msgflo writes them.
//! - `#IIPS` is the IIPs as compact JSON as serde_json writes it; msgflo's
//!   `JSON.stringify` differs for numbers written with a fraction of zero in a
//!   JSON graph (`1.0`: msgflo prints `1`).

use crate::library::Library;
use msgflo_protocol::graph::Graph;
use serde_json::{Map, Value};

pub use crate::routes::is_participant;

/// A node whose component the library does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("No component {component} defined for role {role}")]
pub struct MissingComponent {
    /// The node's component.
    pub component: String,
    /// The node (role).
    pub role: String,
}

/// The Procfile for `graph`: nodes in msgflo's order (see [`node_order`])
/// except those in `ignore`, then `include` verbatim.
pub fn generate(
    graph: &Graph,
    library: &Library,
    ignore: &[String],
    include: &[String],
) -> Result<String, MissingComponent> {
    let mut lines = Vec::new();
    for role in node_order(graph) {
        let Some(process) = graph.processes.get(role) else {
            continue;
        };
        if ignore.iter().any(|i| i == role) || !is_participant(&process.component) {
            continue;
        }
        let iips = iips_for_role(graph, role);
        let command = library
            .command(&process.component, role, &iips)
            .ok_or_else(|| MissingComponent {
                component: process.component.clone(),
                role: role.to_owned(),
            })?;
        lines.push(format!("{role}: {command}"));
    }
    Ok(format!("{}\n{}\n", lines.join("\n"), include.join("\n")))
}

/// The IIPs sent to `role`, port -> data (a later IIP to the same port wins,
/// as in msgflo's `iipsForRole`; `null` data is no IIP).
pub fn iips_for_role(graph: &Graph, role: &str) -> Map<String, Value> {
    let mut iips = Map::new();
    for iip in graph.initials() {
        if iip.tgt.process == role && !iip.data.is_null() {
            iips.insert(iip.tgt.port.clone(), iip.data.clone());
        }
    }
    iips
}

/// The graph's nodes in the order msgflo visits them: a JavaScript object's
/// key order, so names that are array indices (`0`, `17`) come first in
/// numeric order, then the others as they appear in the graph.
pub fn node_order(graph: &Graph) -> Vec<&str> {
    let mut indices: Vec<(u32, &str)> = Vec::new();
    let mut names = Vec::new();
    for name in graph.processes.keys() {
        match array_index(name) {
            Some(index) => indices.push((index, name)),
            None => names.push(name.as_str()),
        }
    }
    indices.sort_unstable();
    indices.into_iter().map(|(_, n)| n).chain(names).collect()
}

/// `name` as a JavaScript array index: canonical decimal below 2^32 - 1.
fn array_index(name: &str) -> Option<u32> {
    let canonical = name == "0" || (!name.starts_with('0') && !name.is_empty());
    if !canonical || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse::<u32>().ok().filter(|&i| i != u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph_file::{parse, Format};

    fn library() -> Library {
        let doc = serde_json::json!({"components": {
            "W": "work --name #ROLE --iips #IIPS",
            "X": "x #ROLE",
        }});
        Library::from_json(&doc).unwrap()
    }

    #[test]
    fn lines_in_node_order_then_includes() {
        let json = r#"{"processes": {"b": {"component": "W"}, "a": {"component": "X"},
            "2": {"component": "X"}}, "connections": [
            {"data": "5", "tgt": {"process": "b", "port": "port"}}]}"#;
        let graph = parse(json, Format::Json, false).unwrap();
        let out = generate(&graph, &library(), &[], &["web: w".into(), "x: y".into()]).unwrap();
        assert_eq!(
            out,
            "2: x 2\nb: work --name b --iips '{\"port\":\"5\"}'\na: x a\nweb: w\nx: y\n"
        );
    }

    #[test]
    fn no_includes_end_in_a_blank_line_and_ignored_nodes_are_left_out() {
        let graph = parse("a(X) OUT -> IN b(X)\n", Format::Fbp, false).unwrap();
        let out = generate(&graph, &library(), &["b".into()], &[]).unwrap();
        assert_eq!(out, "a: x a\n\n");
    }

    #[test]
    fn binding_nodes_get_no_line_and_missing_components_name_the_role() {
        let graph = parse(
            "a(X) OUT -> IN rr(msgflo/RoundRobin) OUT -> IN b(Nope)\n",
            Format::Fbp,
            false,
        )
        .unwrap();
        let err = generate(&graph, &library(), &[], &[]).unwrap_err();
        assert_eq!(err.to_string(), "No component Nope defined for role b");
        let out = generate(&graph, &library(), &["b".into()], &[]).unwrap();
        assert_eq!(out, "a: x a\n\n");
    }

    #[test]
    fn array_indices_are_canonical_decimals() {
        assert_eq!(array_index("0"), Some(0));
        assert_eq!(array_index("17"), Some(17));
        assert_eq!(array_index("017"), None);
        assert_eq!(array_index("4294967295"), None);
        assert_eq!(array_index("a1"), None);
        assert_eq!(array_index(""), None);
    }
}
