//! Golden messages of the `trace` sub-protocol.

use super::{check_input, check_output, InputGolden, OutputGolden};
use crate::messages::{
    ErrorPayload, Input, Output, TargetGraph, TraceDump, TraceDumpRequest, TraceInput, TraceOutput,
    TraceStart, TraceType,
};

pub(super) fn inputs() -> Vec<InputGolden> {
    vec![
        (
            r#"{"protocol":"trace","command":"start","payload":{"graph":"main","buffersize":1024}}"#,
            Input::Trace(TraceInput::Start(TraceStart {
                graph: "main".into(),
                buffersize: Some(1024),
            })),
        ),
        (
            r#"{"protocol":"trace","command":"stop","payload":{"graph":"main"}}"#,
            Input::Trace(TraceInput::Stop(TargetGraph::new("main"))),
        ),
        (
            r#"{"protocol":"trace","command":"dump","payload":{"graph":"main","type":"flowtrace.json"}}"#,
            Input::Trace(TraceInput::Dump(TraceDumpRequest {
                graph: "main".into(),
                kind: TraceType::FlowtraceJson,
            })),
        ),
        (
            r#"{"protocol":"trace","command":"clear","payload":{"graph":"main"}}"#,
            Input::Trace(TraceInput::Clear(TargetGraph::new("main"))),
        ),
    ]
}

pub(super) fn outputs() -> Vec<OutputGolden> {
    vec![
        (
            r#"{"protocol":"trace","command":"start","payload":{"graph":"main"}}"#,
            Output::Trace(TraceOutput::Start(TraceStart {
                graph: "main".into(),
                buffersize: None,
            })),
        ),
        (
            r#"{"protocol":"trace","command":"stop","payload":{"graph":"main"}}"#,
            Output::Trace(TraceOutput::Stop(TargetGraph::new("main"))),
        ),
        (
            r#"{"protocol":"trace","command":"dump","payload":{"graph":"main",
                "type":"flowtrace.json","flowtrace":"{\"header\":{},\"events\":[]}"}}"#,
            Output::Trace(TraceOutput::Dump(TraceDump {
                graph: "main".into(),
                kind: TraceType::FlowtraceJson,
                flowtrace: r#"{"header":{},"events":[]}"#.into(),
            })),
        ),
        (
            r#"{"protocol":"trace","command":"clear","payload":{"graph":"main"}}"#,
            Output::Trace(TraceOutput::Clear(TargetGraph::new("main"))),
        ),
        (
            r#"{"protocol":"trace","command":"error","payload":{"message":"Tracing not enabled"}}"#,
            Output::Trace(TraceOutput::Error(ErrorPayload::new("Tracing not enabled"))),
        ),
    ]
}

#[test]
fn every_trace_input_round_trips() {
    for (text, expected) in inputs() {
        check_input(text, &expected);
    }
}

#[test]
fn every_trace_output_round_trips() {
    for (text, expected) in outputs() {
        check_output(text, &expected);
    }
}
