//! Property tests: no input makes decoding panic, and whatever decodes encodes
//! back to a text that decodes to the same message.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::messages::{Input, Output};

/// Field names that appear in payloads, so generated payloads sometimes decode.
const KEYS: &[&str] = &[
    "id",
    "graph",
    "component",
    "metadata",
    "src",
    "tgt",
    "node",
    "port",
    "index",
    "data",
    "public",
    "from",
    "to",
    "name",
    "nodes",
    "event",
    "payload",
    "secret",
    "type",
    "enable",
    "edges",
    "message",
    "running",
    "uptime",
    "group",
    "language",
    "code",
    "capabilities",
    "version",
    "inPorts",
    "outPorts",
    "subgraph",
    "flowtrace",
    "buffersize",
    "baseDir",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z]{0,8}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Floats with few significant digits: serde_json without its
        // `float_roundtrip` feature may change the last bit of a 17-digit float
        // when it parses it, so such floats do not re-decode bit-identical.
        any::<i32>().prop_map(|n| Value::from(f64::from(n) / 64.0)),
        prop_oneof!["[a-z]{0,6}", "\\PC{0,8}"].prop_map(Value::from),
        prop::sample::select(&["data", "connect", "flowtrace.json", "in", "out"][..])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..7)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Protocol names, mostly real.
fn protocol() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(&["runtime", "graph", "component", "network", "trace"][..])
            .prop_map(Value::from),
        1 => json(),
    ]
}

/// Command names, mostly real ones of some protocol and direction.
fn command() -> impl Strategy<Value = Value> {
    let names: Vec<&'static str> = Input::commands()
        .chain(Output::commands())
        .map(|(_, c)| c)
        .collect();
    prop_oneof![
        4 => prop::sample::select(names).prop_map(Value::from),
        1 => json(),
    ]
}

/// Envelope-shaped objects with any payload and optional envelope fields.
fn envelope() -> impl Strategy<Value = String> {
    (
        protocol(),
        command(),
        json(),
        prop::option::of(json()),
        prop::option::of("[a-z0-9]{1,4}"),
        prop::option::of(json()),
    )
        .prop_map(|(p, c, payload, secret, request_id, extra)| {
            let mut m = Map::new();
            m.insert("protocol".into(), p);
            m.insert("command".into(), c);
            m.insert("payload".into(), payload);
            if let Some(s) = secret {
                m.insert("secret".into(), s);
            }
            if let Some(r) = request_id {
                m.insert("requestId".into(), Value::from(r.clone()));
                m.insert("responseTo".into(), Value::from(r));
            }
            if let Some(x) = extra {
                m.insert("extra".into(), x);
            }
            Value::Object(m).to_string()
        })
}

/// Every golden text, both directions.
fn golden_texts() -> Vec<&'static str> {
    use super::{golden_component, golden_graph, golden_network, golden_runtime, golden_trace};
    let inputs = [
        golden_runtime::inputs(),
        golden_graph::inputs(),
        golden_component::inputs(),
        golden_network::inputs(),
        golden_trace::inputs(),
    ];
    let outputs = [
        golden_runtime::outputs(),
        golden_graph::outputs(),
        golden_component::outputs(),
        golden_network::outputs(),
        golden_trace::outputs(),
    ];
    let inputs = inputs.into_iter().flatten().map(|(t, _)| t);
    inputs
        .chain(outputs.into_iter().flatten().map(|(t, _)| t))
        .collect()
}

/// A golden message with one payload field removed, replaced or added (or none),
/// so that both near-misses and valid messages are generated.
fn mutated_golden() -> impl Strategy<Value = String> {
    (
        prop::sample::select(golden_texts()),
        0..4u8,
        any::<prop::sample::Index>(),
        key(),
        json(),
    )
        .prop_map(|(text, op, at, name, value)| {
            let mut message: Value = serde_json::from_str(text).expect("golden is JSON");
            if let Some(Value::Object(payload)) = message.get_mut("payload") {
                let keys: Vec<String> = payload.keys().cloned().collect();
                let existing = (!keys.is_empty()).then(|| keys[at.index(keys.len())].clone());
                match (op, existing) {
                    (1, Some(k)) => {
                        payload.remove(&k);
                    }
                    (2, Some(k)) => {
                        payload.insert(k, value);
                    }
                    (3, _) => {
                        payload.insert(name, value);
                    }
                    _ => {}
                }
            }
            message.to_string()
        })
}

/// Decodes in both directions; anything decoded must survive an encode/decode.
fn decode_both_ways(text: &str) {
    if let Ok(request) = Input::decode(text) {
        let again = Input::decode(&request.to_json());
        assert_eq!(again.as_ref(), Ok(&request), "input re-decode of {text}");
    }
    if let Ok(response) = Output::decode(text) {
        let again = Output::decode(&response.to_json());
        assert_eq!(again.as_ref(), Ok(&response), "output re-decode of {text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*") {
        decode_both_ways(&text);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json()) {
        decode_both_ways(&value.to_string());
    }

    #[test]
    fn arbitrary_envelopes_never_panic_and_round_trip(text in envelope()) {
        decode_both_ways(&text);
    }

    #[test]
    fn mutated_goldens_never_panic_and_round_trip(text in mutated_golden()) {
        decode_both_ways(&text);
    }
}
