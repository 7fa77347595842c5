use super::*;
use serde_json::json;

/// What saving must give for `input`: the same value, with the always-written
/// collections filled in where the input had none.
fn saved_form(mut input: Value) -> Value {
    let defaults = [
        ("caseSensitive", json!(false)),
        ("inports", json!({})),
        ("outports", json!({})),
        ("groups", json!([])),
        ("processes", json!({})),
        ("connections", json!([])),
    ];
    let object = input.as_object_mut().expect("fixture is an object");
    for (key, value) in defaults {
        object.entry(key).or_insert(value);
    }
    input
}

fn assert_round_trip(input: Value) {
    let graph = Graph::from_value(input.clone()).expect("fixture loads");
    assert_eq!(graph.to_value(), saved_form(input.clone()));
    let reparsed = Graph::from_json(&graph.to_json_pretty()).expect("saved graph loads");
    assert_eq!(reparsed, graph, "save -> load gives the same graph");
}

#[test]
fn flowhub_graph_with_everything_round_trips() {
    assert_round_trip(json!({
        "caseSensitive": true,
        "properties": {"name": "imgflo", "environment": {"type": "msgflo", "content": ""},
                       "description": "Image processing", "icon": "picture-o", "id": "7d3c"},
        "inports": {"in": {"process": "api", "port": "IN", "metadata": {"x": 36, "y": 108}}},
        "outports": {"out": {"process": "worker", "port": "OUT"}},
        "groups": [{"name": "workers", "nodes": ["worker"], "metadata": {"description": "all"}}],
        "processes": {
            "api": {"component": "api/Web", "metadata": {"label": "api", "x": 180, "y": 72.5}},
            "worker": {"component": "api/Worker", "metadata": {}}
        },
        "connections": [
            {"src": {"process": "api", "port": "OUT", "index": 2}, "tgt": {"process": "worker", "port": "IN"},
             "metadata": {"route": 5, "secure": true}},
            {"data": {"nested": [1, 2.5, null, "x"]}, "tgt": {"process": "worker", "port": "CONFIG", "index": 0}},
            {"data": null, "tgt": {"process": "api", "port": "RESET"}},
            {"data": "8081", "tgt": {"process": "api", "port": "PORT"}, "metadata": {}}
        ]
    }));
}

#[test]
fn msgflo_hello_json_round_trips_with_collections_filled_in() {
    assert_round_trip(json!({
        "properties": {"environment": {"runtime": "msgflo"}},
        "processes": {"helloA": {"component": "Hello"}, "helloB": {"component": "Hello"}},
        "connections": [
            {"data": "World", "tgt": {"process": "helloA", "port": "name"}},
            {"src": {"process": "helloA", "port": "out"}, "tgt": {"process": "helloB", "port": "name"}}
        ]
    }));
}

#[test]
fn unknown_keys_everywhere_are_kept() {
    assert_round_trip(json!({
        "version": 2, "x-editor": {"zoom": 1.5},
        "inports": {"in": {"process": "a", "port": "in", "hint": "h"}},
        "groups": [{"name": "g", "nodes": [], "color": 3}],
        "processes": {"a": {"component": "A", "labelColor": "red"}},
        "connections": [
            {"src": {"process": "a", "port": "out", "portType": "x"},
             "tgt": {"process": "a", "port": "in"}, "weight": 3}
        ]
    }));
}

#[test]
fn order_of_processes_and_connections_is_preserved() {
    let text = r#"{"processes": {"zeta": {"component": "Z"}, "alpha": {"component": "A"},
                   "mid": {"component": "M"}}, "connections": []}"#;
    let graph = Graph::from_json(text).unwrap();
    let names: Vec<_> = graph.processes.keys().map(String::as_str).collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
    let saved = graph.to_json_pretty();
    assert!(saved.find("zeta").unwrap() < saved.find("alpha").unwrap());
}

#[test]
fn accessors_see_edges_iips_name_and_runtime() {
    let mut graph = Graph::from_value(json!({
        "properties": {"name": "hello"},
        "processes": {"a": {"component": "A"}, "b": {"component": "B"}},
        "connections": [
            {"data": 1, "tgt": {"process": "a", "port": "in"}},
            {"src": {"process": "a", "port": "out"}, "tgt": {"process": "b", "port": "in"}}
        ]
    }))
    .unwrap();
    assert_eq!(graph.name(), Some("hello"));
    assert_eq!(graph.runtime(), None);
    assert_eq!(graph.edges().count(), 1);
    assert_eq!(
        graph.initials().map(|i| &i.data).collect::<Vec<_>>(),
        [&json!(1)]
    );
    assert_eq!(graph.connections[1].tgt(), &Endpoint::new("b", "in"));

    graph.set_runtime("msgflo");
    assert_eq!(graph.runtime(), Some("msgflo"));
    assert_eq!(
        graph.to_value()["properties"],
        json!({"name": "hello", "environment": {"type": "msgflo"}})
    );
}

#[test]
fn bad_graphs_are_errors_that_say_where_and_what() {
    let cases = [
        (
            r#"{"processes": []}"#,
            "invalid type: sequence, expected a map",
        ),
        (
            r#"{"connections": [{"tgt": {"process": "a", "port": "in"}}]}"#,
            "connection has neither `src` (an edge) nor `data` (an IIP)",
        ),
        (
            r#"{"connections": [{"src": {"process": "a"}, "tgt": {"process": "b", "port": "in"}}]}"#,
            "connections[0]: invalid edge: missing field `port`",
        ),
        (
            r#"{"connections": [{"data": 5}]}"#,
            "invalid IIP: missing field `tgt`",
        ),
        (r#"{"processes": {"#, "EOF while parsing"),
    ];
    for (input, expected) in cases {
        let err = Graph::from_json(input).unwrap_err().to_string();
        assert!(err.starts_with("invalid JSON graph: "), "{err}");
        assert!(err.contains(expected), "{input}: {err}");
        assert!(err.contains("line 1 column"), "error has a position: {err}");
    }
}

#[test]
fn an_error_with_no_known_place_names_none() {
    let err = Graph::from_json("{bad").unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid JSON graph: key must be a string at line 1 column 2"
    );
    let err = Graph::from_json(r#"{"processes": {"a": {"component": "A"}, 5: 1}}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("invalid JSON graph: processes: key must be"),
        "{err}"
    );
}
