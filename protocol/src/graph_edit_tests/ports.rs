//! Exported ports, groups, and payloads that do not decode.

use super::*;

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
    let decode = crate::messages::Input::decode(text).expect_err("no graph");
    let error = GraphEditError::from_decode(&decode).map(|e| e.to_string());
    assert_eq!(error.as_deref(), Some("No graph specified"));
}

#[test]
fn a_clear_without_id_is_no_graph_id_provided() {
    let text = r#"{"protocol":"graph","command":"clear","payload":{"name":"x"}}"#;
    let decode = crate::messages::Input::decode(text).expect_err("no id");
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
        let decode = crate::messages::Input::decode(text).expect_err("bad");
        assert_eq!(GraphEditError::from_decode(&decode), None, "{text}");
    }
}
