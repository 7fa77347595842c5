//! Random graphs whose every part `.fbp` can express.

use super::rng::Rng;
use msgflo_protocol::graph::{
    Connection, Edge, Endpoint, ExportedPort, Graph, Initial, Metadata, Process,
};
use serde_json::{Map, Value};

/// The JSON value a JavaScript number becomes (what the parsers give back).
fn js_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return Value::from(n as i64);
    }
    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

fn data(rng: &mut Rng, depth: usize) -> Value {
    const CHARS: &str = "aZ0 '\\\"\n\té😀\u{2028}#->,\u{1}{}";
    match rng.below(if depth > 2 { 4 } else { 6 }) {
        0 => Value::String(rng.word(CHARS, CHARS, 10)),
        1 => js_number(*rng.pick(&[
            0.0,
            -3.0,
            1.5,
            -2.5e-7,
            1e300,
            123_456_789.0,
            4_503_599_627_370_497.0,
        ])),
        2 => Value::from(*rng.pick(&[true, false])),
        3 => rng
            .pick(&[
                Value::Null,
                Value::String(String::new()),
                Value::String("trailing\\".into()),
            ])
            .clone(),
        4 => Value::Array((0..rng.below(4)).map(|_| data(rng, depth + 1)).collect()),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|_| (rng.word(CHARS, CHARS, 4), data(rng, depth + 1)))
                .collect(),
        ),
    }
}

fn metadata(rng: &mut Rng) -> Metadata {
    let mut metadata = Metadata::new();
    for _ in 0..1 + rng.below(3) {
        match rng.below(4) {
            0 => metadata.insert(
                rng.pick(&["x", "y"]).to_string(),
                Value::from(rng.below(2000)),
            ),
            1 => metadata.insert(rng.pick(&["x", "y"]).to_string(), Value::Null),
            2 => metadata.insert("routes".into(), Value::String(rng.word("abc", "abc/_1", 5))),
            _ => metadata.insert(
                rng.word("klm_/", "klm_/09", 4),
                Value::String(rng.word("vw", "vw/_9", 5)),
            ),
        };
    }
    metadata
}

fn port_name(rng: &mut Rng, case_sensitive: bool) -> String {
    if case_sensitive {
        rng.word("aZ_", "aZ_.0", 5)
    } else {
        rng.word("az_", "az_.0", 5)
    }
}

fn endpoint(rng: &mut Rng, nodes: &[String], case_sensitive: bool) -> Endpoint {
    let endpoint = Endpoint::new(rng.pick(nodes).clone(), port_name(rng, case_sensitive));
    if rng.chance(0.3) {
        return endpoint.at(*rng.pick(&[0, 3, u32::MAX]));
    }
    endpoint
}

/// A graph whose every part `.fbp` can express.
pub fn graph(rng: &mut Rng) -> Graph {
    let case_sensitive = rng.chance(0.4);
    let mut graph = Graph {
        case_sensitive,
        ..Graph::default()
    };
    if rng.chance(0.4) {
        let mut properties = Map::new();
        if rng.chance(0.5) {
            properties.insert(
                "environment".into(),
                serde_json::json!({"type": rng.pick(&["msgflo", "noflo-nodejs"])}),
            );
        }
        properties.insert(
            rng.pick(&["name", "description", "icon"]).to_string(),
            Value::String(rng.word("Ab", "Ab .-_9", 12)),
        );
        graph.properties = Some(properties);
    }
    for _ in 0..rng.below(6) {
        let name = rng.word("abXY_", "abXY_09-", 6);
        let component = rng.word("aB/-_1", "aB/-_1", 10);
        let metadata = rng.chance(0.4).then(|| metadata(rng));
        graph.processes.insert(
            name,
            Process {
                component,
                metadata,
                extra: Map::new(),
            },
        );
    }
    let nodes: Vec<String> = graph.processes.keys().cloned().collect();
    if nodes.is_empty() {
        return graph;
    }
    for _ in 0..rng.below(3) {
        let (public, port) = (
            port_name(rng, case_sensitive),
            port_name(rng, case_sensitive),
        );
        let exported = ExportedPort {
            process: rng.pick(&nodes).clone(),
            port,
            ..ExportedPort::default()
        };
        let ports = if rng.chance(0.5) {
            &mut graph.inports
        } else {
            &mut graph.outports
        };
        ports.insert(public, exported);
    }
    for _ in 0..rng.below(6) {
        let tgt = endpoint(rng, &nodes, case_sensitive);
        graph.connections.push(if rng.chance(0.5) {
            let src = endpoint(rng, &nodes, case_sensitive);
            Connection::Edge(Edge {
                src,
                tgt,
                metadata: None,
                extra: Map::new(),
            })
        } else {
            Connection::Initial(Initial {
                data: data(rng, 0),
                tgt,
                metadata: None,
                extra: Map::new(),
            })
        });
    }
    graph
}
