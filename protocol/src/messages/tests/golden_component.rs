//! Golden messages of the `component` sub-protocol.

use super::{check_input, check_output, some, InputGolden, OutputGolden};
use crate::messages::{
    ComponentInfo, ComponentInput, ComponentOutput, ComponentSource, ErrorPayload, GetSource,
    Input, ListComponents, Output, PortDef,
};

/// The source of `Repeat` in Python.
fn repeat_source() -> ComponentSource {
    ComponentSource {
        name: "Repeat".into(),
        language: "python".into(),
        library: some("core"),
        code: "def process(x):\n    return x\n".into(),
        tests: some("assert True"),
    }
}

pub(super) fn inputs() -> Vec<InputGolden> {
    vec![
        (
            r#"{"protocol":"component","command":"list","payload":{}}"#,
            Input::Component(ComponentInput::List(ListComponents {})),
        ),
        (
            r#"{"protocol":"component","command":"getsource","payload":{"name":"core/Repeat"},
                "requestId":"r2"}"#,
            Input::Component(ComponentInput::GetSource(GetSource {
                name: "core/Repeat".into(),
            })),
        ),
        (
            r#"{"protocol":"component","command":"source","payload":{"name":"Repeat",
                "language":"python","library":"core","code":"def process(x):\n    return x\n",
                "tests":"assert True"}}"#,
            Input::Component(ComponentInput::Source(repeat_source())),
        ),
        (
            r#"{"protocol":"component","command":"source","payload":{"name":"Drop",
                "language":"c++","code":""}}"#,
            Input::Component(ComponentInput::Source(ComponentSource {
                name: "Drop".into(),
                language: "c++".into(),
                library: None,
                code: String::new(),
                tests: None,
            })),
        ),
    ]
}

pub(super) fn outputs() -> Vec<OutputGolden> {
    vec![
        (
            r#"{"protocol":"component","command":"error","payload":{"message":"Component not found"}}"#,
            Output::Component(ComponentOutput::Error(ErrorPayload::new(
                "Component not found",
            ))),
        ),
        (
            r#"{"protocol":"component","command":"component","payload":{"name":"core/Repeat",
                "description":"Forwards packets","icon":"forward","subgraph":false,
                "inPorts":[{"id":"in","type":"all","required":true}],
                "outPorts":[{"id":"out","type":"all","addressable":true}]},"responseTo":"r3"}"#,
            Output::Component(ComponentOutput::Component(ComponentInfo {
                name: "core/Repeat".into(),
                description: some("Forwards packets"),
                icon: some("forward"),
                subgraph: false,
                in_ports: vec![PortDef {
                    required: Some(true),
                    ..PortDef::new("in", "all")
                }],
                out_ports: vec![PortDef {
                    addressable: Some(true),
                    ..PortDef::new("out", "all")
                }],
            })),
        ),
        (
            r#"{"protocol":"component","command":"componentsready","payload":42,"responseTo":"r3"}"#,
            Output::Component(ComponentOutput::ComponentsReady(42)),
        ),
        (
            r#"{"protocol":"component","command":"source","payload":{"name":"Repeat",
                "language":"python","library":"core","code":"def process(x):\n    return x\n",
                "tests":"assert True"}}"#,
            Output::Component(ComponentOutput::Source(repeat_source())),
        ),
    ]
}

#[test]
fn every_component_input_round_trips() {
    for (text, expected) in inputs() {
        check_input(text, &expected);
    }
}

#[test]
fn every_component_output_round_trips() {
    for (text, expected) in outputs() {
        check_output(text, &expected);
    }
}

#[test]
fn componentsready_payload_is_a_bare_integer() {
    let json = Output::Component(ComponentOutput::ComponentsReady(3)).to_json(None);
    assert_eq!(
        json,
        r#"{"protocol":"component","command":"componentsready","payload":3}"#
    );
}
