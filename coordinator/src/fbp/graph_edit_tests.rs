//! `Graphs::apply`: each command's replies compared as JSON, key for key, as the
//! fbp-protocol suite compares them; errors by their text.

use msgflo_protocol::graph::{Connection, Graph};
use msgflo_protocol::messages::{GraphChange, GraphOutput, Output};
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

// --- Nodes ---

#[test]
fn addnode_without_metadata_echoes_no_metadata_key() {
    let mut g = abc();
    let sent = json!({"id": "D", "component": "core/Drop", "graph": "g"});
    assert_eq!(ok(&mut g, "addnode", sent.clone()), reply("addnode", sent));
    assert_eq!(
        graph_json(&g)["processes"]["D"],
        json!({"component": "core/Drop"})
    );
}

#[test]
fn addnode_of_an_existing_id_is_refused_and_keeps_the_node() {
    let mut g = abc();
    let sent = json!({"id": "A", "component": "other/Thing", "graph": "g"});
    assert_eq!(err(&mut g, "addnode", sent), r#"node "A" already exists"#);
    assert_eq!(graph(&g).processes["A"].component, "core/Repeat");
}

#[test]
fn addnode_with_an_empty_id_is_refused() {
    let mut g = abc();
    let sent = json!({"id": "", "component": "c", "graph": "g"});
    assert_eq!(err(&mut g, "addnode", sent), "No node ID provided");
}

#[test]
fn removenode_of_an_unknown_node_is_refused() {
    let mut g = abc();
    assert_eq!(
        err(&mut g, "removenode", json!({"id": "X", "graph": "g"})),
        r#"node "X" not found"#
    );
    assert_eq!(graph(&g).processes.len(), 3);
}

#[test]
fn removenode_announces_edges_iips_ports_and_emptied_groups_before_the_node() {
    let mut g = abc();
    edge(&mut g, "A", "B");
    edge(&mut g, "B", "C");
    edge(&mut g, "A", "C");
    ok(
        &mut g,
        "addinitial",
        json!({"src": {"data": {"k": 1}}, "tgt": {"node": "B", "port": "in"}, "graph": "g"}),
    );
    ok(
        &mut g,
        "addinitial",
        json!({"src": {"data": 2}, "tgt": {"node": "A", "port": "in"}, "graph": "g"}),
    );
    ok(
        &mut g,
        "addinport",
        json!({"public": "IN", "node": "B", "port": "in", "graph": "g"}),
    );
    ok(
        &mut g,
        "addoutport",
        json!({"public": "OUT", "node": "B", "port": "out", "graph": "g"}),
    );
    ok(
        &mut g,
        "addoutport",
        json!({"public": "OUT2", "node": "C", "port": "out", "graph": "g"}),
    );
    ok(
        &mut g,
        "addgroup",
        json!({"name": "alone", "nodes": ["B"], "graph": "g"}),
    );
    ok(
        &mut g,
        "addgroup",
        json!({"name": "pair", "nodes": ["A", "B"], "graph": "g"}),
    );

    let replies = run(&mut g, "removenode", json!({"id": "B", "graph": "g"}));
    let port = |node: &str, port: &str| json!({"node": node, "port": port});
    assert_eq!(
        replies,
        Ok(vec![
            reply(
                "removeedge",
                json!({"src": port("A", "out"), "tgt": port("B", "in"), "graph": "g"})
            ),
            reply(
                "removeedge",
                json!({"src": port("B", "out"), "tgt": port("C", "in"), "graph": "g"})
            ),
            reply(
                "removeinitial",
                json!({"src": {"data": {"k": 1}}, "tgt": port("B", "in"), "graph": "g"})
            ),
            reply("removeinport", json!({"public": "IN", "graph": "g"})),
            reply("removeoutport", json!({"public": "OUT", "graph": "g"})),
            reply("removegroup", json!({"name": "alone", "graph": "g"})),
            reply("removenode", json!({"id": "B", "graph": "g"})),
        ])
    );
    let after = graph_json(&g);
    assert_eq!(
        after["connections"].as_array().map(Vec::len),
        Some(2),
        "A->C and the IIP to A stay"
    );
    assert_eq!(
        after["outports"],
        json!({"OUT2": {"process": "C", "port": "out"}})
    );
    assert_eq!(after["groups"], json!([{"name": "pair", "nodes": ["A"]}]));
    let ids: Vec<&String> = graph(&g).processes.keys().collect();
    assert_eq!(ids, ["A", "C"]);
}

#[test]
fn removenode_keeps_groups_that_were_already_empty() {
    let mut g = abc();
    ok(
        &mut g,
        "addgroup",
        json!({"name": "empty", "nodes": [], "graph": "g"}),
    );
    let replies = run(&mut g, "removenode", json!({"id": "A", "graph": "g"}));
    assert_eq!(
        replies,
        Ok(vec![reply("removenode", json!({"id": "A", "graph": "g"}))])
    );
    assert_eq!(graph(&g).groups.len(), 1);
}

#[test]
fn renamenode_renames_it_everywhere_and_keeps_its_place() {
    let mut g = abc();
    edge(&mut g, "A", "B");
    edge(&mut g, "B", "B");
    ok(
        &mut g,
        "addinitial",
        json!({"src": {"data": 1}, "tgt": {"node": "B", "port": "in"}, "graph": "g"}),
    );
    ok(
        &mut g,
        "addinport",
        json!({"public": "IN", "node": "B", "port": "in", "graph": "g"}),
    );
    ok(
        &mut g,
        "addoutport",
        json!({"public": "OUT", "node": "B", "port": "out", "graph": "g"}),
    );
    ok(
        &mut g,
        "addgroup",
        json!({"name": "grp", "nodes": ["A", "B"], "graph": "g"}),
    );
    let sent = json!({"from": "B", "to": "Bee", "graph": "g"});
    assert_eq!(
        ok(&mut g, "renamenode", sent.clone()),
        reply("renamenode", sent)
    );

    let after = graph_json(&g);
    let ids: Vec<&String> = graph(&g).processes.keys().collect();
    assert_eq!(ids, ["A", "Bee", "C"]);
    assert_eq!(
        after["connections"],
        json!([
            {"src": {"process": "A", "port": "out"}, "tgt": {"process": "Bee", "port": "in"}},
            {"src": {"process": "Bee", "port": "out"}, "tgt": {"process": "Bee", "port": "in"}},
            {"data": 1, "tgt": {"process": "Bee", "port": "in"}},
        ])
    );
    assert_eq!(after["inports"]["IN"]["process"], "Bee");
    assert_eq!(after["outports"]["OUT"]["process"], "Bee");
    assert_eq!(after["groups"][0]["nodes"], json!(["A", "Bee"]));
}

#[test]
fn renamenode_of_an_unknown_node_is_refused() {
    let mut g = abc();
    let sent = json!({"from": "X", "to": "Y", "graph": "g"});
    assert_eq!(err(&mut g, "renamenode", sent), r#"node "X" not found"#);
}

#[test]
fn renamenode_onto_an_existing_node_is_refused_and_changes_nothing() {
    let mut g = abc();
    let before = graph(&g).clone();
    let sent = json!({"from": "A", "to": "B", "graph": "g"});
    assert_eq!(
        err(&mut g, "renamenode", sent),
        r#"node "B" already exists"#
    );
    assert_eq!(graph(&g), &before);
}

#[test]
fn renamenode_to_itself_is_echoed() {
    let mut g = abc();
    let sent = json!({"from": "A", "to": "A", "graph": "g"});
    assert_eq!(
        ok(&mut g, "renamenode", sent.clone()),
        reply("renamenode", sent)
    );
    assert!(graph(&g).processes.contains_key("A"));
}

#[test]
fn changenode_answers_the_whole_metadata_and_null_deletes() {
    let mut g = Graphs::new();
    ok(&mut g, "clear", json!({"id": "g"}));
    ok(
        &mut g,
        "addnode",
        json!({"id": "N", "component": "c", "metadata": {"x": 1, "y": 2, "label": "n"}, "graph": "g"}),
    );
    let (_, payload) = ok(
        &mut g,
        "changenode",
        json!({"id": "N", "metadata": {"x": 10, "y": null, "z": 3}, "graph": "g"}),
    );
    assert_eq!(
        payload,
        json!({"id": "N", "metadata": {"x": 10, "label": "n", "z": 3}, "graph": "g"})
    );
    assert_eq!(
        graph_json(&g)["processes"]["N"]["metadata"],
        json!({"x": 10, "label": "n", "z": 3})
    );
}

#[test]
fn changenode_of_an_unknown_node_is_refused() {
    let mut g = abc();
    let sent = json!({"id": "X", "metadata": {"x": 1}, "graph": "g"});
    assert_eq!(err(&mut g, "changenode", sent), r#"node "X" not found"#);
}

// --- Edges ---

#[test]
fn addedge_keeps_port_case_and_index_as_sent() {
    let mut g = abc();
    let sent = json!({"src": {"node": "A", "port": "OUT", "index": 1}, "tgt": {"node": "B", "port": "In"}, "graph": "g"});
    assert_eq!(ok(&mut g, "addedge", sent.clone()), reply("addedge", sent));
    assert_eq!(
        graph_json(&g)["connections"][0],
        json!({"src": {"process": "A", "port": "OUT", "index": 1}, "tgt": {"process": "B", "port": "In"}})
    );
}

#[test]
fn addedge_from_an_unknown_node_is_refused() {
    let mut g = abc();
    let sent = json!({"src": {"node": "X", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "graph": "g"});
    assert_eq!(err(&mut g, "addedge", sent), r#"node "X" not found"#);
    let sent = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "Y", "port": "in"}, "graph": "g"});
    assert_eq!(err(&mut g, "addedge", sent), r#"node "Y" not found"#);
    assert!(graph(&g).connections.is_empty());
}

#[test]
fn addedge_twice_is_refused() {
    let mut g = abc();
    edge(&mut g, "A", "B");
    let sent = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "graph": "g"});
    assert_eq!(
        err(&mut g, "addedge", sent),
        r#"edge "A.out -> B.in" already exists"#
    );
    assert_eq!(graph(&g).connections.len(), 1);
}

#[test]
fn addedge_to_another_slot_of_the_same_ports_is_a_new_edge() {
    let mut g = abc();
    edge(&mut g, "A", "B");
    let sent = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in", "index": 0}, "graph": "g"});
    ok(&mut g, "addedge", sent);
    assert_eq!(graph(&g).connections.len(), 2);
}

#[test]
fn port_indices_must_be_whole_numbers_a_graph_file_holds() {
    let mut g = abc();
    let with_index = |index: Value| json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in", "index": index}, "graph": "g"});
    assert_eq!(
        err(&mut g, "addedge", with_index(json!("first"))),
        r#"port index "first" is not a number from 0 to 4294967295"#
    );
    assert_eq!(
        err(&mut g, "addedge", with_index(json!(4_294_967_296_u64))),
        r#"port index "4294967296" is not a number from 0 to 4294967295"#
    );
    ok(&mut g, "addedge", with_index(json!("3")));
    assert_eq!(graph_json(&g)["connections"][0]["tgt"]["index"], 3);
}

#[test]
fn removeedge_answers_the_edge_as_stored() {
    let mut g = abc();
    let sent = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "metadata": {"route": 1}, "graph": "g"});
    ok(&mut g, "addedge", sent);
    let remove = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "graph": "g"});
    assert_eq!(
        ok(&mut g, "removeedge", remove.clone()),
        reply("removeedge", remove)
    );
    assert!(graph(&g).connections.is_empty());
}

#[test]
fn removeedge_without_index_removes_every_slot() {
    let mut g = abc();
    for index in [0, 1] {
        let sent = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in", "index": index}, "graph": "g"});
        ok(&mut g, "addedge", sent);
    }
    let remove = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "graph": "g"});
    let replies = run(&mut g, "removeedge", remove).expect("removes");
    let indices: Vec<&Value> = replies.iter().map(|(_, p)| &p["tgt"]["index"]).collect();
    assert_eq!(indices, [&json!(0), &json!(1)]);
}

#[test]
fn removeedge_with_index_removes_only_that_slot() {
    let mut g = abc();
    for index in [0, 1] {
        let sent = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in", "index": index}, "graph": "g"});
        ok(&mut g, "addedge", sent);
    }
    let remove = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in", "index": 1}, "graph": "g"});
    ok(&mut g, "removeedge", remove);
    assert_eq!(graph_json(&g)["connections"][0]["tgt"]["index"], 0);
    assert_eq!(graph(&g).connections.len(), 1);
}

#[test]
fn removeedge_of_an_unknown_edge_is_refused() {
    let mut g = abc();
    edge(&mut g, "A", "B");
    let sent = json!({"src": {"node": "B", "port": "out"}, "tgt": {"node": "A", "port": "in", "index": 2}, "graph": "g"});
    assert_eq!(
        err(&mut g, "removeedge", sent),
        r#"edge "B.out -> A.in[2]" not found"#
    );
    assert_eq!(graph(&g).connections.len(), 1);
}

#[test]
fn removeedge_leaves_iips_alone() {
    let mut g = abc();
    edge(&mut g, "A", "B");
    ok(
        &mut g,
        "addinitial",
        json!({"src": {"data": 1}, "tgt": {"node": "B", "port": "in"}, "graph": "g"}),
    );
    let remove = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "graph": "g"});
    ok(&mut g, "removeedge", remove);
    assert!(matches!(
        graph(&g).connections[..],
        [Connection::Initial(_)]
    ));
}

#[test]
fn changeedge_merges_and_answers_the_whole_metadata() {
    let mut g = abc();
    let sent = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "metadata": {"route": 1, "secure": true}, "graph": "g"});
    ok(&mut g, "addedge", sent);
    let change = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "metadata": {"route": 4, "secure": null}, "graph": "g"});
    assert_eq!(
        ok(&mut g, "changeedge", change),
        reply(
            "changeedge",
            json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "metadata": {"route": 4}, "graph": "g"})
        )
    );
    assert_eq!(
        graph_json(&g)["connections"][0]["metadata"],
        json!({"route": 4})
    );
}

#[test]
fn changeedge_without_metadata_answers_the_current_metadata() {
    let mut g = abc();
    edge(&mut g, "A", "B");
    let change = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "graph": "g"});
    let (_, payload) = ok(&mut g, "changeedge", change);
    assert_eq!(payload["metadata"], json!({}));
}

#[test]
fn changeedge_of_an_unknown_edge_is_refused() {
    let mut g = abc();
    let change = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "metadata": {}, "graph": "g"});
    assert_eq!(
        err(&mut g, "changeedge", change),
        r#"edge "A.out -> B.in" not found"#
    );
}

// --- IIPs ---

#[test]
fn addinitial_without_metadata_echoes_no_metadata_key_and_keeps_null_data() {
    let mut g = abc();
    let sent = json!({"src": {"data": null}, "tgt": {"node": "A", "port": "in", "index": 2}, "graph": "g"});
    assert_eq!(
        ok(&mut g, "addinitial", sent.clone()),
        reply("addinitial", sent)
    );
    assert_eq!(
        graph_json(&g)["connections"][0],
        json!({"data": null, "tgt": {"process": "A", "port": "in", "index": 2}})
    );
}

#[test]
fn addinitial_to_an_unknown_node_is_refused() {
    let mut g = abc();
    let sent = json!({"src": {"data": 1}, "tgt": {"node": "X", "port": "in"}, "graph": "g"});
    assert_eq!(err(&mut g, "addinitial", sent), r#"node "X" not found"#);
}

#[test]
fn removeinitial_removes_every_iip_to_the_port_each_with_its_data() {
    let mut g = abc();
    for data in [json!("first"), json!([1, 2])] {
        ok(
            &mut g,
            "addinitial",
            json!({"src": {"data": data}, "tgt": {"node": "A", "port": "in"}, "graph": "g"}),
        );
    }
    ok(
        &mut g,
        "addinitial",
        json!({"src": {"data": 3}, "tgt": {"node": "A", "port": "other"}, "graph": "g"}),
    );
    let replies = run(
        &mut g,
        "removeinitial",
        json!({"tgt": {"node": "A", "port": "in"}, "graph": "g"}),
    );
    let tgt = json!({"node": "A", "port": "in"});
    assert_eq!(
        replies,
        Ok(vec![
            reply(
                "removeinitial",
                json!({"src": {"data": "first"}, "tgt": tgt, "graph": "g"})
            ),
            reply(
                "removeinitial",
                json!({"src": {"data": [1, 2]}, "tgt": tgt, "graph": "g"})
            ),
        ])
    );
    assert_eq!(
        graph_json(&g)["connections"],
        json!([{"data": 3, "tgt": {"process": "A", "port": "other"}}])
    );
}

#[test]
fn removeinitial_of_an_unknown_iip_is_refused() {
    let mut g = abc();
    edge(&mut g, "B", "A");
    let sent = json!({"tgt": {"node": "A", "port": "in"}, "graph": "g"});
    assert_eq!(
        err(&mut g, "removeinitial", sent),
        r#"IIP to "A.in" not found"#
    );
    assert_eq!(graph(&g).connections.len(), 1, "the edge to A.in stays");
}

// --- Exported ports ---

#[test]
fn addinport_with_metadata_echoes_and_stores_it() {
    let mut g = abc();
    let sent =
        json!({"public": "in", "node": "A", "port": "in", "metadata": {"x": 1}, "graph": "g"});
    assert_eq!(
        ok(&mut g, "addinport", sent.clone()),
        reply("addinport", sent)
    );
    assert_eq!(
        graph_json(&g)["inports"],
        json!({"in": {"process": "A", "port": "in", "metadata": {"x": 1}}})
    );
}

#[test]
fn addoutport_of_an_unknown_node_is_refused() {
    let mut g = abc();
    let sent = json!({"public": "out", "node": "X", "port": "out", "graph": "g"});
    assert_eq!(err(&mut g, "addoutport", sent), r#"node "X" not found"#);
    assert!(graph(&g).outports.is_empty());
}

#[test]
fn exporting_a_public_name_again_replaces_it_in_place() {
    let mut g = abc();
    for (public, node) in [("a", "A"), ("b", "B"), ("a", "C")] {
        ok(
            &mut g,
            "addinport",
            json!({"public": public, "node": node, "port": "in", "graph": "g"}),
        );
    }
    let after = graph_json(&g);
    assert_eq!(
        after["inports"],
        json!({"a": {"process": "C", "port": "in"}, "b": {"process": "B", "port": "in"}})
    );
}

#[test]
fn removing_an_unknown_exported_port_is_refused() {
    let mut g = abc();
    ok(
        &mut g,
        "addinport",
        json!({"public": "x", "node": "A", "port": "in", "graph": "g"}),
    );
    assert_eq!(
        err(&mut g, "removeinport", json!({"public": "y", "graph": "g"})),
        r#"inport "y" not found"#
    );
    assert_eq!(
        err(
            &mut g,
            "removeoutport",
            json!({"public": "x", "graph": "g"})
        ),
        r#"outport "x" not found"#
    );
    let sent = json!({"public": "x", "graph": "g"});
    assert_eq!(
        ok(&mut g, "removeinport", sent.clone()),
        reply("removeinport", sent)
    );
    assert!(graph(&g).inports.is_empty());
}

#[test]
fn renameinport_keeps_its_place_and_echoes() {
    let mut g = abc();
    for public in ["a", "b", "c"] {
        ok(
            &mut g,
            "addinport",
            json!({"public": public, "node": "A", "port": public, "graph": "g"}),
        );
    }
    let sent = json!({"from": "b", "to": "B2", "graph": "g"});
    assert_eq!(
        ok(&mut g, "renameinport", sent.clone()),
        reply("renameinport", sent)
    );
    let names: Vec<&String> = graph(&g).inports.keys().collect();
    assert_eq!(names, ["a", "B2", "c"]);
    assert_eq!(graph(&g).inports["B2"].port, "b");
}

#[test]
fn renameoutport_errors_name_the_port() {
    let mut g = abc();
    for public in ["a", "b"] {
        ok(
            &mut g,
            "addoutport",
            json!({"public": public, "node": "A", "port": "out", "graph": "g"}),
        );
    }
    let onto = json!({"from": "a", "to": "b", "graph": "g"});
    assert_eq!(
        err(&mut g, "renameoutport", onto),
        r#"outport "b" already exists"#
    );
    let unknown = json!({"from": "z", "to": "y", "graph": "g"});
    assert_eq!(
        err(&mut g, "renameoutport", unknown),
        r#"outport "z" not found"#
    );
    let sent = json!({"from": "a", "to": "A", "graph": "g"});
    assert_eq!(
        ok(&mut g, "renameoutport", sent.clone()),
        reply("renameoutport", sent)
    );
}

// --- Groups ---

#[test]
fn addgroup_echoes_and_stores_the_group() {
    let mut g = abc();
    let sent =
        json!({"name": "grp", "nodes": ["A", "C"], "metadata": {"description": "d"}, "graph": "g"});
    assert_eq!(
        ok(&mut g, "addgroup", sent.clone()),
        reply("addgroup", sent)
    );
    let bare = json!({"name": "bare", "nodes": ["B"], "graph": "g"});
    assert_eq!(
        ok(&mut g, "addgroup", bare.clone()),
        reply("addgroup", bare)
    );
    assert_eq!(
        graph_json(&g)["groups"],
        json!([{"name": "grp", "nodes": ["A", "C"], "metadata": {"description": "d"}}, {"name": "bare", "nodes": ["B"]}])
    );
}

#[test]
fn addgroup_twice_or_with_an_unknown_node_is_refused() {
    let mut g = abc();
    ok(
        &mut g,
        "addgroup",
        json!({"name": "grp", "nodes": ["A"], "graph": "g"}),
    );
    let again = json!({"name": "grp", "nodes": ["B"], "graph": "g"});
    assert_eq!(
        err(&mut g, "addgroup", again),
        r#"group "grp" already exists"#
    );
    let unknown = json!({"name": "other", "nodes": ["A", "X"], "graph": "g"});
    assert_eq!(err(&mut g, "addgroup", unknown), r#"node "X" not found"#);
    assert_eq!(graph(&g).groups.len(), 1);
}

#[test]
fn removegroup_echoes_or_names_the_missing_group() {
    let mut g = abc();
    ok(
        &mut g,
        "addgroup",
        json!({"name": "grp", "nodes": ["A"], "graph": "g"}),
    );
    assert_eq!(
        err(&mut g, "removegroup", json!({"name": "nope", "graph": "g"})),
        r#"group "nope" not found"#
    );
    let sent = json!({"name": "grp", "graph": "g"});
    assert_eq!(
        ok(&mut g, "removegroup", sent.clone()),
        reply("removegroup", sent)
    );
    assert!(graph(&g).groups.is_empty());
    assert_eq!(graph(&g).processes.len(), 3, "the nodes stay");
}

#[test]
fn renamegroup_echoes_and_refuses_unknown_or_taken_names() {
    let mut g = abc();
    for name in ["one", "two"] {
        ok(
            &mut g,
            "addgroup",
            json!({"name": name, "nodes": [], "graph": "g"}),
        );
    }
    let taken = json!({"from": "one", "to": "two", "graph": "g"});
    assert_eq!(
        err(&mut g, "renamegroup", taken),
        r#"group "two" already exists"#
    );
    let unknown = json!({"from": "three", "to": "four", "graph": "g"});
    assert_eq!(
        err(&mut g, "renamegroup", unknown),
        r#"group "three" not found"#
    );
    let sent = json!({"from": "one", "to": "uno", "graph": "g"});
    assert_eq!(
        ok(&mut g, "renamegroup", sent.clone()),
        reply("renamegroup", sent)
    );
    assert_eq!(graph(&g).groups[0].name, "uno");
}

#[test]
fn changegroup_merges_and_answers_the_whole_metadata() {
    let mut g = abc();
    ok(
        &mut g,
        "addgroup",
        json!({"name": "grp", "nodes": [], "metadata": {"description": "d", "color": 1}, "graph": "g"}),
    );
    let sent = json!({"name": "grp", "metadata": {"color": null, "x": 5}, "graph": "g"});
    assert_eq!(
        ok(&mut g, "changegroup", sent),
        reply(
            "changegroup",
            json!({"name": "grp", "metadata": {"description": "d", "x": 5}, "graph": "g"})
        )
    );
    let unknown = json!({"name": "nope", "metadata": {}, "graph": "g"});
    assert_eq!(
        err(&mut g, "changegroup", unknown),
        r#"group "nope" not found"#
    );
}

#[test]
fn graph_outputs_wrap_every_reply_as_a_change() {
    let mut g = Graphs::new();
    let change = GraphChange::decode("clear", json!({"id": "x"})).expect("decodes");
    let outputs = g.apply(change).expect("applies");
    assert!(matches!(
        outputs[..],
        [GraphOutput::Change(GraphChange::Clear(_))]
    ));
}

// --- Payloads that do not decode ---

#[test]
fn a_graph_payload_without_graph_is_no_graph_specified() {
    let text = r#"{"protocol":"graph","command":"addnode","payload":{"id":"Repeat1","component":"core/Repeat"}}"#;
    let decode = msgflo_protocol::messages::Input::decode(text).expect_err("no graph");
    let error = GraphEditError::from_decode(&decode).map(|e| e.to_string());
    assert_eq!(error.as_deref(), Some("No graph specified"));
}

#[test]
fn a_clear_without_id_is_no_graph_id_provided() {
    let text = r#"{"protocol":"graph","command":"clear","payload":{"name":"x"}}"#;
    let decode = msgflo_protocol::messages::Input::decode(text).expect_err("no id");
    assert_eq!(
        GraphEditError::from_decode(&decode),
        Some(GraphEditError::NoGraphId)
    );
}

#[test]
fn other_decode_errors_keep_their_own_text() {
    let texts = [
        r#"{"protocol":"graph","command":"addnode","payload":{"graph":"g","component":"c"}}"#,
        r#"{"protocol":"network","command":"start","payload":{}}"#,
        r#"{"protocol":"graph","command":"nosuch","payload":{"graph":"g"}}"#,
    ];
    for text in texts {
        let decode = msgflo_protocol::messages::Input::decode(text).expect_err("bad");
        assert_eq!(GraphEditError::from_decode(&decode), None, "{text}");
    }
}
