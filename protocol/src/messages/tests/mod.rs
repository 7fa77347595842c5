//! Tests of the FBP protocol messages.
//!
//! - `golden_*.rs` — one golden JSON message per command and direction (several
//!   for some): decoded, compared with the typed value, re-encoded and compared
//!   with the original JSON.
//! - `coverage.rs` — every command of the fbp-protocol schemas has a variant and
//!   a golden message.
//! - `envelope.rs` — `secret`/`requestId`/`responseTo`, and every decode error.
//! - `no_panic.rs` — property tests: arbitrary input never panics, and whatever
//!   decodes re-encodes to the same message.

mod coverage;
mod envelope;
mod golden_component;
mod golden_graph;
mod golden_network;
mod golden_runtime;
mod golden_trace;
mod no_panic;

use serde_json::Value;

use super::{Input, Metadata, Output, PortIndex, PortRef};

/// A golden input: the JSON a client sends, and what it must decode to.
type InputGolden = (&'static str, Input);
/// A golden output: the JSON a runtime sends, and what it must decode to.
type OutputGolden = (&'static str, Output);

/// `protocol:command` of a JSON message, for failure messages.
fn name_of(json: &Value) -> String {
    format!(
        "{}:{}",
        json["protocol"].as_str().unwrap_or("?"),
        json["command"].as_str().unwrap_or("?")
    )
}

/// Decodes `text` as an input, checks the typed value, names and re-encoding.
fn check_input(text: &str, expected: &Input) {
    let original: Value = serde_json::from_str(text).expect("golden is JSON");
    let name = name_of(&original);
    let request = Input::decode(text).unwrap_or_else(|e| panic!("{name}: decode failed: {e}"));
    assert_eq!(&request.input, expected, "{name}: typed value");
    assert_eq!(
        request.input.protocol(),
        original["protocol"],
        "{name}: protocol()"
    );
    assert_eq!(
        request.input.command(),
        original["command"],
        "{name}: command()"
    );
    let encoded: Value = serde_json::from_str(&request.to_json()).expect("encoded is JSON");
    assert_eq!(encoded, original, "{name}: re-encoded JSON differs");
}

/// Decodes `text` as an output, checks the typed value, names and re-encoding.
fn check_output(text: &str, expected: &Output) {
    let original: Value = serde_json::from_str(text).expect("golden is JSON");
    let name = name_of(&original);
    let response = Output::decode(text).unwrap_or_else(|e| panic!("{name}: decode failed: {e}"));
    assert_eq!(&response.output, expected, "{name}: typed value");
    assert_eq!(
        response.output.protocol(),
        original["protocol"],
        "{name}: protocol()"
    );
    assert_eq!(
        response.output.command(),
        original["command"],
        "{name}: command()"
    );
    let encoded: Value = serde_json::from_str(&response.to_json()).expect("encoded is JSON");
    assert_eq!(encoded, original, "{name}: re-encoded JSON differs");
}

/// A port reference without index.
fn port(node: &str, port: &str) -> PortRef {
    PortRef::new(node, port)
}

/// A port reference with an index.
fn indexed(node: &str, port: &str, index: PortIndex) -> PortRef {
    PortRef {
        index: Some(index),
        ..PortRef::new(node, port)
    }
}

/// Metadata from a JSON object literal.
fn meta(json: &str) -> Metadata {
    serde_json::from_str(json).expect("metadata literal is a JSON object")
}

/// `Some(s.to_owned())`.
fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}
