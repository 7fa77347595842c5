//! Properties: parse(serialize(g)) == g for every graph .fbp can express, and
//! no input makes the parser panic.

use crate::dsl::number::js_number;
use crate::dsl::{parse, parse_with, serialize, ParseOptions};
use crate::graph::{Connection, Edge, Endpoint, ExportedPort, Graph, Initial, Metadata, Process};
use indexmap::IndexMap;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

const JS_OBJECT_NAMES: [&str; 3] = ["constructor", "toString", "valueOf"];

fn node_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_-]{0,8}".prop_filter("not a JS Object name", |n| {
        !JS_OBJECT_NAMES.contains(&n.as_str()) && !n.starts_with("__")
    })
}

fn port_name(case_sensitive: bool) -> BoxedStrategy<String> {
    if case_sensitive {
        "[a-zA-Z_][a-zA-Z.0-9_]{0,6}".boxed()
    } else {
        "[a-z_][a-z.0-9_]{0,6}".boxed()
    }
}

/// A JS number, normalised as the parser gives it back.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-9_007_199_254_740_991_i64..=9_007_199_254_740_991).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(js_number),
    ]
}

fn json_data() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        any::<String>().prop_map(Value::String),
        "[ -~]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn meta_value(key: &str) -> BoxedStrategy<Value> {
    if key == "x" || key == "y" {
        prop_oneof![
            Just(Value::Null),
            (0_u64..9_007_199_254_740_992).prop_map(Value::from),
            Just(js_number(1e300)),
        ]
        .boxed()
    } else {
        "[a-zA-Z0-9/_]{0,6}".prop_map(Value::String).boxed()
    }
}

fn metadata() -> impl Strategy<Value = Option<Metadata>> {
    let key = prop_oneof![
        "[a-zA-Z0-9/_]{0,5}",
        Just("x".to_string()),
        Just("y".to_string()),
        Just("routes".into())
    ];
    let entry = key.prop_flat_map(|k| meta_value(&k).prop_map(move |v| (k.clone(), v)));
    proptest::option::of(
        vec(entry, 1..4).prop_map(|entries| entries.into_iter().collect::<Metadata>()),
    )
}

fn properties() -> impl Strategy<Value = Option<Map<String, Value>>> {
    let value = "[a-zA-Z0-9._-][a-zA-Z0-9 ._-]{0,10}";
    let key =
        "[a-zA-Z0-9_-]{1,8}".prop_filter("not runtime", |k| k != "runtime" && k != "environment");
    let runtime = proptest::option::of(value.prop_map(|t| serde_json::json!({"type": t})));
    let map = (vec((key, value.prop_map(Value::String)), 0..3), runtime).prop_filter_map(
        "properties exist only with an annotation",
        |(entries, runtime)| {
            let mut map: Map<String, Value> = entries.into_iter().collect();
            if let Some(environment) = runtime {
                map.insert("environment".into(), environment);
            }
            (!map.is_empty()).then_some(map)
        },
    );
    proptest::option::of(map)
}

fn endpoint(nodes: Vec<String>, case_sensitive: bool) -> impl Strategy<Value = Endpoint> {
    (
        select(nodes),
        port_name(case_sensitive),
        proptest::option::of(0_u32..=u32::MAX),
    )
        .prop_map(|(node, port, index)| {
            let endpoint = Endpoint::new(node, port);
            match index {
                Some(index) => endpoint.at(index),
                None => endpoint,
            }
        })
}

fn connection(nodes: Vec<String>, case_sensitive: bool) -> impl Strategy<Value = Connection> {
    let edge = (
        endpoint(nodes.clone(), case_sensitive),
        endpoint(nodes.clone(), case_sensitive),
    )
        .prop_map(|(src, tgt)| {
            Connection::Edge(Edge {
                src,
                tgt,
                metadata: None,
                extra: Map::new(),
            })
        });
    let iip = (json_data(), endpoint(nodes, case_sensitive)).prop_map(|(data, tgt)| {
        Connection::Initial(Initial {
            data,
            tgt,
            metadata: None,
            extra: Map::new(),
        })
    });
    prop_oneof![edge, iip]
}

fn exports(
    nodes: Vec<String>,
    case_sensitive: bool,
) -> impl Strategy<Value = IndexMap<String, ExportedPort>> {
    let port =
        (select(nodes), port_name(case_sensitive)).prop_map(|(process, port)| ExportedPort {
            process,
            port,
            ..ExportedPort::default()
        });
    vec((port_name(case_sensitive), port), 0..3).prop_map(|ports| ports.into_iter().collect())
}

/// Graphs whose every part `.fbp` can express.
fn representable_graph() -> impl Strategy<Value = Graph> {
    let processes = vec((node_name(), "[a-zA-Z0-9/_-]{1,12}", metadata()), 0..6);
    (any::<bool>(), properties(), processes).prop_flat_map(
        |(case_sensitive, properties, processes)| {
            let processes: IndexMap<String, Process> = processes
                .into_iter()
                .map(|(name, component, metadata)| {
                    (
                        name,
                        Process {
                            component,
                            metadata,
                            extra: Map::new(),
                        },
                    )
                })
                .collect();
            let nodes: Vec<String> = processes.keys().cloned().collect();
            let wired = if nodes.is_empty() {
                Just((IndexMap::new(), IndexMap::new(), Vec::new())).boxed()
            } else {
                let (n, cs) = (nodes.clone(), case_sensitive);
                (
                    exports(n.clone(), cs),
                    exports(n.clone(), cs),
                    vec(connection(n, cs), 0..6),
                )
                    .boxed()
            };
            wired.prop_map(move |(inports, outports, connections)| Graph {
                case_sensitive,
                properties: properties.clone(),
                inports,
                outports,
                processes: processes.clone(),
                connections,
                ..Graph::default()
            })
        },
    )
}

/// Text made of the grammar's pieces, mostly invalid.
fn fbp_like_text() -> impl Strategy<Value = String> {
    let pieces = select(vec![
        "a",
        "b(B)",
        "(core/Repeat)",
        "IN",
        "OUT[1]",
        " ",
        " -> ",
        "->",
        "'x'",
        "'\\'",
        "\"s\"",
        "5",
        "[1,",
        "{}",
        ",",
        "\n",
        "\r\n",
        "#",
        "# @name x\n",
        "INPORT=",
        "OUTPORT=",
        "DEFAULT_INPORT=",
        "EXPORT=",
        ".",
        ":",
        "(A:x=1,r)",
        "\t",
        "true",
        "null",
        "\u{2028}",
        "é",
        "[4294967296]",
    ]);
    vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_of_serialize_gives_the_graph_back(graph in representable_graph()) {
        let out = serialize(&graph).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&out.lost, &Vec::<String>::new());
        let options = ParseOptions { case_sensitive: graph.case_sensitive };
        let back = parse_with(&out.text, &options)
            .map_err(|e| TestCaseError::fail(format!("{e} in\n{}", out.text)))?;
        prop_assert_eq!(&back, &graph, "text:\n{}", out.text);
        let order = |g: &Graph| g.processes.keys().cloned().collect::<Vec<_>>();
        prop_assert_eq!(order(&back), order(&graph), "processes keep their order");
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn fbp_like_text_never_panics_and_reparses_after_serializing(text in fbp_like_text()) {
        let Ok(graph) = parse(&text) else { return Ok(()) };
        let Ok(out) = serialize(&graph) else { return Ok(()) };
        if out.lost.is_empty() {
            prop_assert_eq!(parse(&out.text).ok(), Some(graph), "text:\n{}", out.text);
        }
    }
}
