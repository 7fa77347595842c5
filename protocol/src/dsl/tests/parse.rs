//! One test per language feature; expected values are what npm `fbp` 1.8 gives.

use crate::dsl::{parse, parse_with, ParseOptions};
use serde_json::{json, Value};

fn graph(text: &str) -> Value {
    parse(text)
        .unwrap_or_else(|e| panic!("{text:?} parses: {e}"))
        .to_value()
}

fn graph_cs(text: &str) -> Value {
    let options = ParseOptions {
        case_sensitive: true,
    };
    parse_with(text, &options)
        .unwrap_or_else(|e| panic!("{text:?} parses: {e}"))
        .to_value()
}

fn edge(src: (&str, &str), tgt: (&str, &str)) -> Value {
    json!({"src": {"process": src.0, "port": src.1}, "tgt": {"process": tgt.0, "port": tgt.1}})
}

fn iip(data: Value, tgt: (&str, &str)) -> Value {
    json!({"data": data, "tgt": {"process": tgt.0, "port": tgt.1}})
}

#[test]
fn empty_text_is_an_empty_graph() {
    let want = json!({"caseSensitive": false, "inports": {}, "outports": {}, "groups": [],
                      "processes": {}, "connections": []});
    assert_eq!(graph(""), want);
    assert_eq!(graph("\n  \n# nothing\n"), want);
}

#[test]
fn declarations_and_chains_make_nodes_and_edges() {
    let g = graph("'f' -> SOURCE Read(ReadFile) OUT -> IN Display(Output)");
    assert_eq!(
        g["processes"],
        json!({"Read": {"component": "ReadFile"}, "Display": {"component": "Output"}})
    );
    assert_eq!(
        g["connections"],
        json!([
            iip(json!("f"), ("Read", "source")),
            edge(("Read", "out"), ("Display", "in"))
        ])
    );
    assert_eq!(g.get("properties"), None, "no annotation, no properties");
    assert_eq!(
        g["processes"]["Read"].get("metadata"),
        None,
        "no :meta, no metadata"
    );
}

#[test]
fn a_lone_declaration_connects_nothing() {
    let g = graph("a(A)\nb(B)");
    assert_eq!(g["processes"].as_object().map(|p| p.len()), Some(2));
    assert_eq!(g["connections"], json!([]));
}

#[test]
fn later_declarations_keep_the_component_and_replace_metadata() {
    let g = graph("a(A:x=1,k=v)\na()\na(:y=2)\na -> b(B)");
    assert_eq!(
        g["processes"]["a"],
        json!({"component": "A", "metadata": {"y": 2}})
    );
}

#[test]
fn comments_and_commas_separate_statements() {
    let g = graph(
        "# a comment\na(A) -> b(B), c(C) -> d(D) # trailing\n  # indented\nx(X), 'hi' -> IN x",
    );
    let want = json!([
        edge(("a", "out"), ("b", "in")),
        edge(("c", "out"), ("d", "in")),
        iip(json!("hi"), ("x", "in"))
    ]);
    assert_eq!(g["connections"], want);
}

#[test]
fn statements_may_follow_each_other_on_one_line() {
    let g = graph("a(X) -> b(Y) c(Z) -> d(W)");
    assert_eq!(
        g["connections"],
        json!([
            edge(("a", "out"), ("b", "in")),
            edge(("c", "out"), ("d", "in"))
        ])
    );
}

#[test]
fn default_ports_are_in_and_out_until_changed() {
    let g = graph("a(A) -> b(B)\nDEFAULT_INPORT=Data\nDEFAULT_OUTPORT=Result\nc(C) -> d(D)\nDEFAULT_INPORT=x\ne(E) -> f(F)");
    let want = json!([
        edge(("a", "out"), ("b", "in")),
        edge(("c", "result"), ("d", "data")),
        edge(("e", "result"), ("f", "x"))
    ]);
    assert_eq!(g["connections"], want);
    let cs = graph_cs("DEFAULT_INPORT=Data\na(A) -> b(B)");
    assert_eq!(
        cs["connections"],
        json!([edge(("a", "OUT"), ("b", "Data"))])
    );
}

#[test]
fn anonymous_nodes_are_numbered_per_component() {
    let g = graph("(core/Repeat) -> (core/Repeat) -> (Foo)\n(a/b-c/d) -> (x--y)");
    let names: Vec<&String> = g["processes"]
        .as_object()
        .map(|p| p.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        [
            "_core_Repeat_1",
            "_core_Repeat_2",
            "_Foo_1",
            "_a_b-c/d_1",
            "_x_y_1"
        ]
    );
    assert_eq!(
        g["processes"]["_a_b-c/d_1"],
        json!({"component": "a/b-c/d"}),
        "only the first run is replaced"
    );
}

#[test]
fn string_iips_only_unescape_quotes() {
    let g = graph(
        r"'it\'s' -> IN a(A), 'a\nb\\c' -> IN a, '' -> IN a, 'two
lines' -> IN a",
    );
    let data: Vec<&Value> = g["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| &c["data"])
        .collect();
    assert_eq!(
        data,
        [
            &json!("it's"),
            &json!(r"a\nb\\c"),
            &json!(""),
            &json!("two\nlines")
        ]
    );
}

#[test]
fn json_iips_are_any_json_value() {
    let g = graph(
        "{\"s\": \"x\", \"n\": [1, 2.5, -0, 1e400]} -> IN a(A)\n5 -> IN a\n\"q\\\"\" -> IN a\n\ttrue -> IN a\n[] -> IN a",
    );
    let data: Vec<&Value> = g["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| &c["data"])
        .collect();
    let want = [
        json!({"s": "x", "n": [1, 2.5, 0, null]}),
        json!(5),
        json!("q\""),
        json!(true),
        json!([]),
    ];
    assert_eq!(data, want.iter().collect::<Vec<_>>());
}

#[test]
fn bare_true_and_null_are_node_names_not_iips() {
    let g = graph("null -> IN a(A)\nnull(N)");
    assert_eq!(
        g["connections"],
        json!([edge(("null", "out"), ("a", "in"))])
    );
}

#[test]
fn an_iip_in_the_middle_of_a_chain_drops_the_edge_before_it() {
    let g = graph("a(X) -> 5 -> IN b(Y)");
    assert_eq!(g["connections"], json!([iip(json!(5), ("b", "in"))]));
}

#[test]
fn addressable_ports_keep_their_index() {
    let g = graph("a(A) OUT[1] -> IN[0] b(B)\n'x' -> IN[007] b");
    let want = json!([
        {"src": {"process": "a", "port": "out", "index": 1}, "tgt": {"process": "b", "port": "in", "index": 0}},
        {"data": "x", "tgt": {"process": "b", "port": "in", "index": 7}}
    ]);
    assert_eq!(g["connections"], want);
}

#[test]
fn exports_name_public_ports() {
    let g = graph("INPORT=Read(ReadFile).Source:FileName\nOUTPORT=Read.Out:Result\n");
    assert_eq!(
        g["inports"],
        json!({"filename": {"process": "Read", "port": "source"}})
    );
    assert_eq!(
        g["outports"],
        json!({"result": {"process": "Read", "port": "out"}})
    );
    let cs = graph_cs("INPORT=Read(ReadFile).Source:FileName");
    assert_eq!(
        cs["inports"],
        json!({"FileName": {"process": "Read", "port": "Source"}})
    );
}

#[test]
fn node_metadata_is_split_into_keys() {
    let g = graph("a(A:key=val,x=10,y=20) -> b(B:main) -> c(C:x=abc,y=1e5,k=v=w,z=3)");
    assert_eq!(
        g["processes"]["a"]["metadata"],
        json!({"key": "val", "x": 10, "y": 20})
    );
    assert_eq!(g["processes"]["b"]["metadata"], json!({"routes": "main"}));
    assert_eq!(
        g["processes"]["c"]["metadata"],
        json!({"x": null, "y": 100000, "k": "v", "z": "3"})
    );
}

#[test]
fn annotations_become_properties() {
    let g = graph("# @runtime msgflo\n# @name  My graph \n# @description Does.things\na(A)");
    let want = json!({"environment": {"type": "msgflo"}, "name": "My graph ", "description": "Does.things"});
    assert_eq!(g["properties"], want);
}

#[test]
fn annotations_need_a_line_end_and_the_first_column() {
    assert_eq!(graph("a(A)\n# @name last").get("properties"), None);
    assert_eq!(graph("  # @name x\na(A)").get("properties"), None);
    assert_eq!(
        graph("# @name x!\na(A)").get("properties"),
        None,
        "a value with other characters is a comment"
    );
}

#[test]
fn port_names_are_lower_cased_unless_case_sensitive() {
    let text = "a(A) Result -> InPut b(B)";
    assert_eq!(
        graph(text)["connections"],
        json!([edge(("a", "result"), ("b", "input"))])
    );
    assert_eq!(
        graph_cs(text)["connections"],
        json!([edge(("a", "Result"), ("b", "InPut"))])
    );
    assert_eq!(graph_cs(text)["caseSensitive"], json!(true));
}

#[test]
fn all_line_breaks_end_a_line() {
    let g = graph("a(A) -> b(B)\r\nc(C) -> d(D)\re(E) -> f(F)\u{2028}g(G) -> h(H)\u{2029}");
    assert_eq!(g["connections"].as_array().map(Vec::len), Some(4));
}

#[test]
fn a_json_iip_may_span_lines() {
    let g = graph("[1,\n 2]\n -> IN a(A)");
    assert_eq!(g["connections"], json!([iip(json!([1, 2]), ("a", "in"))]));
}
