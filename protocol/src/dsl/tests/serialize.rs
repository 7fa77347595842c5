//! The serializer: exact output, what it reports as lost, what it refuses.

use crate::dsl::{parse_with, serialize, ParseOptions, SerializeError, Serialized};
use crate::graph::Graph;
use serde_json::{json, Value};

fn graph(value: Value) -> Graph {
    Graph::from_value(value).expect("fixture is a graph")
}

fn written(value: Value) -> Serialized {
    let g = graph(value);
    serialize(&g).unwrap_or_else(|e| panic!("serializes: {e}"))
}

fn refused(value: Value) -> SerializeError {
    match serialize(&graph(value)) {
        Ok(out) => panic!("should not serialize, got {:?}", out.text),
        Err(error) => error,
    }
}

/// Serializes, checks nothing is lost, and parses the text back.
fn round_trip(value: Value) -> String {
    let g = graph(value);
    let out = serialize(&g).unwrap_or_else(|e| panic!("serializes: {e}"));
    assert_eq!(out.lost, Vec::<String>::new());
    let options = ParseOptions {
        case_sensitive: g.case_sensitive,
    };
    let back =
        parse_with(&out.text, &options).unwrap_or_else(|e| panic!("{:?} parses: {e}", out.text));
    assert_eq!(back, g, "text:\n{}", out.text);
    out.text
}

#[test]
fn a_graph_is_written_as_annotations_declarations_exports_and_connections() {
    let text = round_trip(json!({
        "properties": {"environment": {"type": "msgflo"}, "name": "Hello world"},
        "inports": {"in": {"process": "repeat", "port": "in"}},
        "outports": {"out": {"process": "out", "port": "out"}},
        "processes": {
            "repeat": {"component": "core/Repeat", "metadata": {"x": 10, "y": 20, "routes": "main"}},
            "out": {"component": "core/Output"}
        },
        "connections": [
            {"data": "it's", "tgt": {"process": "repeat", "port": "in"}},
            {"src": {"process": "repeat", "port": "out", "index": 1}, "tgt": {"process": "out", "port": "in", "index": 0}}
        ]
    }));
    let want = "# @runtime msgflo\n# @name Hello world\n\n\
                repeat(core/Repeat:x=10,y=20,routes=main)\nout(core/Output)\n\n\
                INPORT=repeat.IN:IN\nOUTPORT=out.OUT:OUT\n\n\
                'it\\'s' -> IN repeat\nrepeat OUT[1] -> IN[0] out\n";
    assert_eq!(text, want);
}

#[test]
fn an_empty_graph_is_empty_text() {
    assert_eq!(round_trip(json!({})), "");
}

#[test]
fn case_sensitive_graphs_keep_port_case() {
    let text = round_trip(json!({
        "caseSensitive": true,
        "inports": {"FileName": {"process": "a", "port": "Source"}},
        "processes": {"a": {"component": "A"}, "b": {"component": "B"}},
        "connections": [{"src": {"process": "a", "port": "Out"}, "tgt": {"process": "b", "port": "inPut"}}]
    }));
    assert!(
        text.contains("INPORT=a.Source:FileName\n") && text.contains("a Out -> inPut b\n"),
        "{text}"
    );
}

#[test]
fn iip_data_is_written_so_that_it_reads_back() {
    let data = [
        json!("plain"),
        json!("it's \\' tricky"),
        json!("ends in \\"),
        json!("two\nlines"),
        json!(""),
        json!(true),
        json!(false),
        json!(null),
        json!(-1.5e-7),
        json!(1e300),
        json!(9_007_199_254_740_991_i64),
        json!({"a": [1, "x", null, {"b": false}]}),
    ];
    let connections: Vec<Value> = data
        .iter()
        .map(|d| json!({"data": d, "tgt": {"process": "a", "port": "in"}}))
        .collect();
    let text =
        round_trip(json!({"processes": {"a": {"component": "A"}}, "connections": connections}));
    assert!(
        text.contains("\"ends in \\\\\" -> IN a\n"),
        "a trailing backslash needs JSON: {text}"
    );
    assert!(
        text.contains("\ttrue -> IN a\n"),
        "true after a tab is data, not a node: {text}"
    );
}

#[test]
fn node_metadata_numbers_and_nulls_read_back() {
    round_trip(
        json!({"processes": {"a": {"component": "A", "metadata": {"x": 0, "y": null, "k": "v/w_1", "": "e"}},
                                    "b": {"component": "B", "metadata": {"x": 1e300}}}}),
    );
}

#[test]
fn what_fbp_cannot_express_is_listed_as_lost() {
    let out = written(json!({
        "properties": {"name": "ok", "icon": 5, "environment": {"type": "msgflo", "content": ""}, "runtime": "x", "bad": " lead"},
        "inports": {"in": {"process": "a", "port": "in", "metadata": {"x": 1}}},
        "groups": [{"name": "g", "nodes": ["a"]}],
        "processes": {"a": {"component": "A", "metadata": {"label": "Hello World", "x": -1, "y": 2.5}, "icon": "x"},
                      "b": {"component": "B", "metadata": {}}},
        "connections": [
            {"src": {"process": "a", "port": "out"}, "tgt": {"process": "b", "port": "in"}, "metadata": {"route": 1}},
            {"data": 18446744073709551615_u64, "tgt": {"process": "b", "port": "in"}, "extra": 1}
        ],
        "id": "7d3c"
    }));
    let want = [
        "property \"icon\"",
        "property \"environment.content\"",
        "property \"runtime\"",
        "property \"bad\"",
        "node \"a\": metadata \"label\"",
        "node \"a\": metadata \"x\"",
        "node \"a\": metadata \"y\"",
        "node \"a\": key \"icon\"",
        "node \"b\": empty metadata",
        "inport \"in\": metadata",
        "edge a.out -> b.in: metadata",
        "IIP to b.in: exact value of 18446744073709551615",
        "IIP to b.in: key \"extra\"",
        "groups (1)",
        "graph: key \"id\"",
    ];
    assert_eq!(out.lost, want);
    assert!(
        out.text
            .starts_with("# @name ok\n# @runtime msgflo\n\na(A)\nb(B)\n"),
        "{}",
        out.text
    );
}

#[test]
fn graphs_that_cannot_be_written_are_refused() {
    let cases = [
        (
            json!({"processes": {"a b": {"component": "A"}}}),
            "node name \"a b\"",
        ),
        (
            json!({"processes": {"_core/Repeat_1": {"component": "A"}}}),
            "node name \"_core/Repeat_1\"",
        ),
        (
            json!({"processes": {"toString": {"component": "A"}}}),
            "JavaScript Object property",
        ),
        (
            json!({"processes": {"a": {"component": ""}}}),
            "component \"\"",
        ),
        (
            json!({"processes": {"a": {"component": "a.b"}}}),
            "component \"a.b\"",
        ),
        (
            json!({"processes": {"a": {"component": "A"}},
                   "connections": [{"data": 1, "tgt": {"process": "a", "port": "in-1"}}]}),
            "IIP to a.in-1: port name \"in-1\" cannot be written",
        ),
        (
            json!({"processes": {"a": {"component": "A"}},
                   "connections": [{"data": 1, "tgt": {"process": "a", "port": "IN"}}]}),
            "IIP to a.IN: port name \"IN\" is not lower case in a case-insensitive graph",
        ),
        (
            json!({"processes": {"a": {"component": "A"}}, "outports": {"Out": {"process": "a", "port": "out"}}}),
            "outport \"Out\": port name \"Out\" is not lower case",
        ),
        (
            json!({"processes": {"a": {"component": "A"}},
                   "connections": [{"src": {"process": "a", "port": "out"}, "tgt": {"process": "b", "port": "in"}}]}),
            "edge a.out -> b.in: node \"b\" is not in the graph's processes",
        ),
        (
            json!({"inports": {"in": {"process": "x", "port": "in"}}}),
            "inport \"in\": node \"x\" is not",
        ),
    ];
    for (value, want) in cases {
        let error = refused(value).to_string();
        assert!(error.contains(want), "{error:?} should contain {want:?}");
    }
}

#[test]
fn iip_data_deeper_than_the_parser_reads_is_refused() {
    let mut data = json!(1);
    for _ in 0..300 {
        data = json!([data]);
    }
    let value = json!({"processes": {"a": {"component": "A"}},
                       "connections": [{"data": data, "tgt": {"process": "a", "port": "in"}}]});
    assert!(matches!(
        refused(value),
        SerializeError::TooDeep { limit: 256, .. }
    ));
}
