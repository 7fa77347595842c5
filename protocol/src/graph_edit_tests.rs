//! `Graphs::apply`: each command's replies compared as JSON, key for key, as the
//! fbp-protocol suite compares them; errors by their text. The suite's graph
//! section and graphs/clear here; nodes, edges and IIPs in
//! `graph_edit_tests/nodes.rs`; exported ports, groups and undecodable
//! payloads in `graph_edit_tests/ports.rs`.

use crate::graph::{Connection, Graph};
use crate::messages::{GraphChange, GraphOutput, Output};
use serde_json::{json, Value};

use super::*;

/// Decodes `command` + `payload` as a client would send them and applies it.
/// Ok: each reply as `(command, payload)`; Err: the `graph:error` text.
fn run(graphs: &mut Graphs, command: &str, payload: Value) -> Result<Vec<(String, Value)>, String> {
    let change = GraphChange::decode(command, payload).expect("test payload decodes");
    let outputs = graphs.apply(change).map_err(|e| e.to_string())?;
    Ok(outputs
        .iter()
        .map(|o| (o.command().to_owned(), o.payload()))
        .collect())
}

/// Applies a command that must succeed with exactly one reply, and returns it.
fn ok(graphs: &mut Graphs, command: &str, payload: Value) -> (String, Value) {
    let mut replies = run(graphs, command, payload).expect("command succeeds");
    assert_eq!(replies.len(), 1, "one reply: {replies:?}");
    replies.remove(0)
}

/// Applies a command that must fail, and returns the error text.
fn err(graphs: &mut Graphs, command: &str, payload: Value) -> String {
    run(graphs, command, payload).expect_err("command is refused")
}

fn reply(command: &str, payload: Value) -> (String, Value) {
    (command.to_owned(), payload)
}

/// Graph `g` with nodes A, B, C (component `core/Repeat`).
fn abc() -> Graphs {
    let mut graphs = Graphs::new();
    ok(&mut graphs, "clear", json!({"id": "g"}));
    for id in ["A", "B", "C"] {
        ok(
            &mut graphs,
            "addnode",
            json!({"id": id, "component": "core/Repeat", "graph": "g"}),
        );
    }
    graphs
}

fn edge(graphs: &mut Graphs, from: &str, to: &str) {
    ok(
        graphs,
        "addedge",
        json!({"src": {"node": from, "port": "out"}, "tgt": {"node": to, "port": "in"}, "graph": "g"}),
    );
}

fn graph(graphs: &Graphs) -> &Graph {
    graphs.get("g").expect("graph g exists")
}

fn graph_json(graphs: &Graphs) -> Value {
    graph(graphs).to_value()
}

// --- The fbp-protocol 0.9.8 "Graph Protocol" section, step by step ---

#[test]
fn conformance_suite_graph_section_gets_the_exact_replies() {
    let mut g = Graphs::new();
    let clear = json!({"baseDir": "/x", "id": "foo", "main": true, "name": "Foo graph"});
    assert_eq!(
        run(&mut g, "clear", clear),
        Ok(vec![reply(
            "clear",
            json!({"id": "foo", "main": true, "name": "Foo graph"})
        )])
    );
    let repeat = json!({"id": "Repeat1", "component": "core/Repeat", "metadata": {"hello": "World"}, "graph": "foo"});
    assert_eq!(
        ok(&mut g, "addnode", repeat.clone()),
        reply("addnode", repeat)
    );
    let drop = json!({"id": "Drop1", "component": "core/Drop", "metadata": {}, "graph": "foo"});
    assert_eq!(ok(&mut g, "addnode", drop.clone()), reply("addnode", drop));
    let edge = json!({"src": {"node": "Repeat1", "port": "out"}, "tgt": {"node": "Drop1", "port": "in"},
                      "metadata": {"route": 5}, "graph": "foo"});
    assert_eq!(ok(&mut g, "addedge", edge.clone()), reply("addedge", edge));

    let changes = [
        (json!({"sort": 1}), json!({"sort": 1})),
        (
            json!({"tag": "awesome"}),
            json!({"sort": 1, "tag": "awesome"}),
        ),
        (json!({}), json!({"sort": 1, "tag": "awesome"})),
        (json!({"sort": null, "tag": null}), json!({})),
    ];
    for (sent, after) in changes {
        assert_eq!(
            ok(
                &mut g,
                "changenode",
                json!({"id": "Drop1", "metadata": sent, "graph": "foo"})
            ),
            reply(
                "changenode",
                json!({"id": "Drop1", "metadata": after, "graph": "foo"})
            )
        );
    }

    let iip = json!({"src": {"data": "Hello, world!"}, "tgt": {"node": "Repeat1", "port": "in"},
                     "metadata": {}, "graph": "foo"});
    assert_eq!(
        ok(&mut g, "addinitial", iip.clone()),
        reply("addinitial", iip)
    );
    assert_eq!(
        run(&mut g, "removenode", json!({"id": "Drop1", "graph": "foo"})),
        Ok(vec![
            reply(
                "removeedge",
                json!({"src": {"node": "Repeat1", "port": "out"}, "tgt": {"node": "Drop1", "port": "in"}, "graph": "foo"})
            ),
            reply("removenode", json!({"id": "Drop1", "graph": "foo"})),
        ])
    );
    assert_eq!(
        ok(
            &mut g,
            "removeinitial",
            json!({"tgt": {"node": "Repeat1", "port": "in"}, "graph": "foo"})
        ),
        reply(
            "removeinitial",
            json!({"src": {"data": "Hello, world!"}, "tgt": {"node": "Repeat1", "port": "in"}, "graph": "foo"})
        )
    );
    let rename = json!({"from": "Repeat1", "to": "RepeatRenamed", "graph": "foo"});
    assert_eq!(
        ok(&mut g, "renamenode", rename.clone()),
        reply("renamenode", rename)
    );
    assert_eq!(
        err(
            &mut g,
            "addnode",
            json!({"id": "Repeat1", "component": "core/Repeat", "graph": "another-graph"})
        ),
        "Requested graph not found"
    );
    let inport = json!({"public": "in", "node": "RepeatRenamed", "port": "in", "graph": "foo"});
    assert_eq!(
        ok(&mut g, "addinport", inport.clone()),
        reply("addinport", inport)
    );
    let outport = json!({"public": "out", "node": "RepeatRenamed", "port": "out", "graph": "foo"});
    assert_eq!(
        ok(&mut g, "addoutport", outport.clone()),
        reply("addoutport", outport)
    );
    let remove = json!({"public": "out", "graph": "foo"});
    assert_eq!(
        ok(&mut g, "removeoutport", remove.clone()),
        reply("removeoutport", remove)
    );
}

#[test]
fn conformance_suite_network_setup_gets_one_reply_per_command() {
    let mut g = Graphs::new();
    let commands = [
        ("clear", json!({"baseDir": "/x", "id": "bar", "main": true})),
        (
            "addnode",
            json!({"id": "Hello", "component": "core/Repeat", "metadata": {}, "graph": "bar"}),
        ),
        (
            "addnode",
            json!({"id": "World", "component": "core/Drop", "metadata": {}, "graph": "bar"}),
        ),
        (
            "addedge",
            json!({"src": {"node": "Hello", "port": "out"}, "tgt": {"node": "World", "port": "in"}, "graph": "bar"}),
        ),
        (
            "addinitial",
            json!({"src": {"data": "Hello, world!"}, "tgt": {"node": "Hello", "port": "in"}, "graph": "bar"}),
        ),
    ];
    for (command, payload) in commands {
        ok(&mut g, command, payload);
    }
    assert_eq!(g.main_id(), Some("bar"));
}

#[test]
fn replies_encode_as_envelopes_without_extra_keys() {
    let mut g = abc();
    let change = GraphChange::decode(
        "addinport",
        json!({"public": "in", "node": "A", "port": "in", "graph": "g"}),
    )
    .expect("decodes");
    let outputs = g.apply(change).expect("applies");
    let text = Output::from(outputs[0].clone()).to_json(Some("r1"));
    let sent: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        sent,
        json!({"protocol": "graph", "command": "addinport", "responseTo": "r1",
               "payload": {"public": "in", "node": "A", "port": "in", "graph": "g"}})
    );
}

// --- Graphs and clear ---

#[test]
fn clear_never_echoes_base_dir() {
    let mut g = Graphs::new();
    let (_, payload) = ok(&mut g, "clear", json!({"id": "x", "baseDir": "/somewhere"}));
    assert_eq!(payload, json!({"id": "x"}));
}

#[test]
fn clear_echoes_every_schema_field_it_was_given() {
    let mut g = Graphs::new();
    let sent = json!({"id": "x", "name": "X", "library": "lib", "main": false, "icon": "cog", "description": "d"});
    assert_eq!(ok(&mut g, "clear", sent.clone()), reply("clear", sent));
}

#[test]
fn clear_keeps_name_and_properties_in_the_graph() {
    let mut g = Graphs::new();
    ok(
        &mut g,
        "clear",
        json!({"id": "x", "name": "X", "library": "lib", "main": true, "icon": "cog", "description": "d"}),
    );
    let graph = g.get("x").expect("created");
    assert_eq!(graph.name(), Some("X"));
    assert_eq!(
        graph.properties.as_ref().map(|p| Value::Object(p.clone())),
        Some(
            json!({"name": "X", "library": "lib", "icon": "cog", "description": "d", "main": true})
        )
    );
    assert!(graph.case_sensitive, "port names are kept as sent");
}

#[test]
fn clear_without_properties_leaves_properties_absent() {
    let mut g = Graphs::new();
    ok(&mut g, "clear", json!({"id": "x"}));
    assert_eq!(g.get("x").and_then(|graph| graph.properties.clone()), None);
}

#[test]
fn clear_empties_an_existing_graph() {
    let mut g = abc();
    edge(&mut g, "A", "B");
    ok(&mut g, "clear", json!({"id": "g"}));
    assert!(graph(&g).processes.is_empty());
    assert!(graph(&g).connections.is_empty());
}

#[test]
fn clear_with_an_empty_id_is_refused() {
    let mut g = Graphs::new();
    assert_eq!(
        err(&mut g, "clear", json!({"id": ""})),
        "No graph ID provided"
    );
    assert_eq!(g.iter().count(), 0);
}

#[test]
fn only_clear_with_main_true_makes_the_main_graph() {
    let mut g = Graphs::new();
    assert_eq!(g.main_id(), None);
    ok(&mut g, "clear", json!({"id": "a"}));
    ok(&mut g, "clear", json!({"id": "b", "main": false}));
    assert_eq!(g.main_id(), None);
    ok(&mut g, "clear", json!({"id": "c", "main": true}));
    ok(&mut g, "clear", json!({"id": "d"}));
    assert_eq!(g.main_id(), Some("c"));
}

#[test]
fn with_main_holds_the_graph_file_as_main() {
    let mut file = Graph::default();
    file.set_runtime("msgflo");
    let mut g = Graphs::with_main("main", file.clone());
    assert_eq!(g.main_id(), Some("main"));
    assert_eq!(g.get("main"), Some(&file));
    ok(
        &mut g,
        "addnode",
        json!({"id": "n", "component": "c", "graph": "main"}),
    );
    assert!(g.get("main").is_some_and(|m| m.processes.contains_key("n")));
}

#[test]
fn iter_lists_graphs_in_creation_order() {
    let mut g = Graphs::new();
    for id in ["z", "a", "m"] {
        ok(&mut g, "clear", json!({"id": id}));
    }
    ok(&mut g, "clear", json!({"id": "z"}));
    let ids: Vec<&str> = g.iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["z", "a", "m"]);
}

#[test]
fn every_command_on_an_unknown_graph_is_graph_not_found() {
    let commands = [
        (
            "addnode",
            json!({"id": "n", "component": "c", "graph": "nope"}),
        ),
        ("removenode", json!({"id": "A", "graph": "nope"})),
        (
            "renamenode",
            json!({"from": "A", "to": "Z", "graph": "nope"}),
        ),
        (
            "changenode",
            json!({"id": "A", "metadata": {}, "graph": "nope"}),
        ),
        (
            "addedge",
            json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "graph": "nope"}),
        ),
        (
            "removeedge",
            json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "graph": "nope"}),
        ),
        (
            "changeedge",
            json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "graph": "nope"}),
        ),
        (
            "addinitial",
            json!({"src": {"data": 1}, "tgt": {"node": "A", "port": "in"}, "graph": "nope"}),
        ),
        (
            "removeinitial",
            json!({"tgt": {"node": "A", "port": "in"}, "graph": "nope"}),
        ),
        (
            "addinport",
            json!({"public": "p", "node": "A", "port": "in", "graph": "nope"}),
        ),
        ("removeinport", json!({"public": "p", "graph": "nope"})),
        (
            "renameinport",
            json!({"from": "p", "to": "q", "graph": "nope"}),
        ),
        (
            "addoutport",
            json!({"public": "p", "node": "A", "port": "out", "graph": "nope"}),
        ),
        ("removeoutport", json!({"public": "p", "graph": "nope"})),
        (
            "renameoutport",
            json!({"from": "p", "to": "q", "graph": "nope"}),
        ),
        (
            "addgroup",
            json!({"name": "G", "nodes": [], "graph": "nope"}),
        ),
        ("removegroup", json!({"name": "G", "graph": "nope"})),
        (
            "renamegroup",
            json!({"from": "G", "to": "H", "graph": "nope"}),
        ),
        (
            "changegroup",
            json!({"name": "G", "metadata": {}, "graph": "nope"}),
        ),
    ];
    assert_eq!(
        commands.len() + 1,
        GraphChange::COMMANDS.len(),
        "all but clear"
    );
    let mut g = abc();
    for (command, payload) in commands {
        assert_eq!(
            err(&mut g, command, payload),
            "Requested graph not found",
            "{command}"
        );
    }
}

#[test]
fn an_empty_graph_id_is_no_graph_specified() {
    let mut g = abc();
    let payload = json!({"id": "n", "component": "c", "graph": ""});
    assert_eq!(err(&mut g, "addnode", payload), "No graph specified");
    assert_eq!(GraphEditError::NoGraph.to_string(), "No graph specified");
}

#[path = "graph_edit_tests/nodes.rs"]
mod nodes;
#[path = "graph_edit_tests/ports.rs"]
mod ports;
