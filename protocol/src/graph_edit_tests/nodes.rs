//! Nodes, edges and IIPs.

use super::*;

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
fn addedge_drops_null_metadata_as_no_value() {
    let mut g = abc();
    let sent = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"},
        "metadata": {"route": null, "secure": true}, "graph": "g"});
    let mut echoed = sent.clone();
    echoed["metadata"] = json!({"secure": true});
    assert_eq!(ok(&mut g, "addedge", sent), reply("addedge", echoed));
    assert_eq!(
        graph_json(&g)["connections"][0]["metadata"],
        json!({"secure": true})
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

#[test]
fn an_edge_delivery_that_is_no_mode_is_refused_in_addedge_and_changeedge() {
    let mut g = abc();
    let bad = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "metadata": {"delivery": "fast"}, "graph": "g"});
    let refused =
        "edge metadata \"delivery\": unknown delivery mode \"fast\": persistent or transient";
    assert_eq!(err(&mut g, "addedge", bad.clone()), refused);
    assert_eq!(graph_json(&g)["connections"], json!([]), "nothing added");
    let good = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "metadata": {"delivery": "transient"}, "graph": "g"});
    ok(&mut g, "addedge", good);
    assert_eq!(err(&mut g, "changeedge", bad), refused);
    assert_eq!(
        graph_json(&g)["connections"][0]["metadata"],
        json!({"delivery": "transient"}),
        "unchanged"
    );
    let unset = json!({"src": {"node": "A", "port": "out"}, "tgt": {"node": "B", "port": "in"}, "metadata": {"delivery": null}, "graph": "g"});
    ok(&mut g, "changeedge", unset);
    assert_eq!(graph_json(&g)["connections"][0]["metadata"], json!({}));
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
