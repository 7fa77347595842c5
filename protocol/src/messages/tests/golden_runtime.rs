//! Golden messages of the `runtime` sub-protocol.

use serde_json::json;

use super::{check_input, check_output, some, InputGolden, OutputGolden};
use crate::messages::{
    ErrorPayload, GetRuntime, Input, Output, Packet, PacketEvent, PortDef, RuntimeInfo,
    RuntimeInput, RuntimeOutput, RuntimePorts,
};

/// A `data` packet on `port` of graph `main`, with the given payload.
fn data(port: &str, payload: serde_json::Value) -> Packet {
    Packet {
        port: port.into(),
        event: PacketEvent::Data,
        kind: None,
        schema: None,
        payload: Some(payload),
        graph: "main".into(),
    }
}

pub(super) fn inputs() -> Vec<InputGolden> {
    let full = Packet {
        kind: some("object"),
        schema: some("https://example.net/schemas/person.json"),
        ..data("in", json!({"name": "Ada"}))
    };
    let group = Packet {
        event: PacketEvent::Begingroup,
        ..data("in", json!("batch-1"))
    };
    vec![
        (
            r#"{"protocol":"runtime","command":"getruntime","payload":{},"requestId":"r1"}"#,
            Input::Runtime(RuntimeInput::GetRuntime(GetRuntime {})),
        ),
        (
            r#"{"protocol":"runtime","command":"packet","payload":{"port":"in","event":"data",
                "type":"object","schema":"https://example.net/schemas/person.json",
                "payload":{"name":"Ada"},"graph":"main"}}"#,
            Input::Runtime(RuntimeInput::Packet(full)),
        ),
        (
            r#"{"protocol":"runtime","command":"packet","payload":{"port":"in","event":"data",
                "payload":null,"graph":"main"}}"#,
            Input::Runtime(RuntimeInput::Packet(data("in", json!(null)))),
        ),
        (
            r#"{"protocol":"runtime","command":"packet","payload":{"port":"in",
                "event":"begingroup","payload":"batch-1","graph":"main"}}"#,
            Input::Runtime(RuntimeInput::Packet(group)),
        ),
        (
            r#"{"protocol":"runtime","command":"packet","payload":{"port":"in",
                "event":"disconnect","graph":"main"}}"#,
            Input::Runtime(RuntimeInput::Packet(Packet {
                event: PacketEvent::Disconnect,
                payload: None,
                ..data("in", json!(null))
            })),
        ),
    ]
}

pub(super) fn outputs() -> Vec<OutputGolden> {
    let full_port = PortDef {
        schema: some("https://example.net/schemas/person.json"),
        required: Some(true),
        addressable: Some(false),
        description: some("people to greet"),
        values: Some(vec![json!("a"), json!("b")]),
        default: Some(json!("a")),
        ..PortDef::new("in", "string")
    };
    let info = RuntimeInfo {
        id: some("f18a4924-9d4f-414d-a37c-cd24b39bba10"),
        label: some("msgflo-rs"),
        version: "0.7".into(),
        all_capabilities: Some(vec!["protocol:graph".into(), "protocol:trace".into()]),
        capabilities: vec!["protocol:graph".into(), "component:getsource".into()],
        graph: some("default/main"),
        kind: "msgflo".into(),
        namespace: some("my-project"),
        repository: some("https://github.com/msgflo-rs/msgflo-rs"),
        repository_version: some("0.1.0-3-gabcdef"),
    };
    let minimal = RuntimeInfo {
        id: None,
        label: None,
        version: "0.8".into(),
        all_capabilities: None,
        capabilities: vec![],
        graph: None,
        kind: "msgflo".into(),
        namespace: None,
        repository: None,
        repository_version: None,
    };
    vec![
        (
            r#"{"protocol":"runtime","command":"error","payload":{"message":"Unauthorized"},
                "responseTo":"r1"}"#,
            Output::Runtime(RuntimeOutput::Error(ErrorPayload::new("Unauthorized"))),
        ),
        (
            r#"{"protocol":"runtime","command":"ports","payload":{"graph":"main",
                "inPorts":[{"id":"in","type":"string","schema":"https://example.net/schemas/person.json",
                  "required":true,"addressable":false,"description":"people to greet",
                  "values":["a","b"],"default":"a"}],
                "outPorts":[{"id":"out","type":"all"}]}}"#,
            Output::Runtime(RuntimeOutput::Ports(RuntimePorts {
                graph: "main".into(),
                in_ports: vec![full_port],
                out_ports: vec![PortDef::new("out", "all")],
            })),
        ),
        (
            r#"{"protocol":"runtime","command":"runtime","payload":{
                "id":"f18a4924-9d4f-414d-a37c-cd24b39bba10","label":"msgflo-rs","version":"0.7",
                "allCapabilities":["protocol:graph","protocol:trace"],
                "capabilities":["protocol:graph","component:getsource"],"graph":"default/main",
                "type":"msgflo","namespace":"my-project",
                "repository":"https://github.com/msgflo-rs/msgflo-rs",
                "repositoryVersion":"0.1.0-3-gabcdef"},"responseTo":"r1"}"#,
            Output::Runtime(RuntimeOutput::Runtime(info)),
        ),
        (
            r#"{"protocol":"runtime","command":"runtime","payload":{"version":"0.8",
                "capabilities":[],"type":"msgflo"}}"#,
            Output::Runtime(RuntimeOutput::Runtime(minimal)),
        ),
        (
            r#"{"protocol":"runtime","command":"packetsent","payload":{"port":"in",
                "event":"data","payload":42,"graph":"main"}}"#,
            Output::Runtime(RuntimeOutput::PacketSent(data("in", json!(42)))),
        ),
        (
            r#"{"protocol":"runtime","command":"packet","payload":{"port":"out",
                "event":"data","graph":"main","payload":"Hello, world!"}}"#,
            Output::Runtime(RuntimeOutput::Packet(data("out", json!("Hello, world!")))),
        ),
    ]
}

#[test]
fn every_runtime_input_round_trips() {
    for (text, expected) in inputs() {
        check_input(text, &expected);
    }
}

#[test]
fn every_runtime_output_round_trips() {
    for (text, expected) in outputs() {
        check_output(text, &expected);
    }
}

#[test]
fn packet_keeps_explicit_null_payload_distinct_from_absent() {
    let with_null = inputs()
        .into_iter()
        .find(|(t, _)| t.contains(r#""payload":null"#))
        .map(|(_, i)| i);
    let Some(Input::Runtime(RuntimeInput::Packet(p))) = with_null else {
        panic!("golden with a null packet payload is missing");
    };
    assert_eq!(p.payload, Some(json!(null)));
}
