//! Golden messages of the `network` sub-protocol.

use serde_json::json;

use super::{check_input, check_output, indexed, port, some, InputGolden, OutputGolden};
use crate::messages::{
    DataEvent, EdgeEvent, EdgeRef, ErrorPayload, GroupEvent, Input, NetworkInput, NetworkOutput,
    NetworkStarted, NetworkStatus, NetworkStopped, NodeIcon, Output, OutputKind, OutputMessage,
    Persist, PortIndex, ProcessError, SelectedEdges, SetDebug, TargetGraph,
};

/// The edge `Hello() OUT -> IN World()` of graph `bar`.
fn hello_world() -> EdgeEvent {
    EdgeEvent {
        id: "Hello() OUT -> IN World()".into(),
        src: Some(port("Hello", "out")),
        tgt: port("World", "in"),
        graph: "bar".into(),
        subgraph: None,
    }
}

/// A group event on `hello_world()`.
fn group(name: &str) -> GroupEvent {
    let e = hello_world();
    GroupEvent {
        id: e.id,
        src: e.src,
        tgt: e.tgt,
        graph: e.graph,
        subgraph: Some(vec!["Sub".into()]),
        group: name.into(),
    }
}

/// The selection of `hello_world()`.
fn selection() -> SelectedEdges {
    SelectedEdges {
        edges: vec![EdgeRef {
            src: port("Hello", "out"),
            tgt: indexed("World", "in", PortIndex::Number(1)),
        }],
        graph: "bar".into(),
    }
}

pub(super) fn inputs() -> Vec<InputGolden> {
    use NetworkInput as N;
    vec![
        (
            r#"{"protocol":"network","command":"start","payload":{"graph":"bar"},"requestId":"r4"}"#,
            Input::Network(N::Start(TargetGraph::new("bar"))),
        ),
        (
            r#"{"protocol":"network","command":"getstatus","payload":{"graph":"bar"}}"#,
            Input::Network(N::GetStatus(TargetGraph::new("bar"))),
        ),
        (
            r#"{"protocol":"network","command":"stop","payload":{"graph":"bar"}}"#,
            Input::Network(N::Stop(TargetGraph::new("bar"))),
        ),
        (
            r#"{"protocol":"network","command":"persist","payload":{}}"#,
            Input::Network(N::Persist(Persist {})),
        ),
        (
            r#"{"protocol":"network","command":"debug","payload":{"enable":true,"graph":"bar"}}"#,
            Input::Network(N::Debug(SetDebug {
                enable: true,
                graph: "bar".into(),
            })),
        ),
        (
            r#"{"protocol":"network","command":"edges","payload":{"edges":[{"src":{"node":"Hello",
                "port":"out"},"tgt":{"node":"World","port":"in","index":1}}],"graph":"bar"}}"#,
            Input::Network(N::Edges(selection())),
        ),
    ]
}

pub(super) fn outputs() -> Vec<OutputGolden> {
    use NetworkOutput as N;
    let iip = DataEvent {
        id: "DATA -> IN Hello()".into(),
        src: None,
        tgt: port("Hello", "in"),
        graph: "bar".into(),
        subgraph: None,
        data: json!("Hello, world!"),
        kind: None,
        schema: None,
    };
    let typed = DataEvent {
        id: "Hello() OUT -> IN World()".into(),
        src: Some(port("Hello", "out")),
        tgt: port("World", "in"),
        subgraph: Some(vec!["Sub".into(), "Inner".into()]),
        data: json!(null),
        kind: some("object"),
        schema: some("https://example.net/schemas/person.json"),
        ..iip.clone()
    };
    vec![
        (
            r#"{"protocol":"network","command":"stopped","payload":{"time":"2016-05-29T13:26:01.000Z",
                "uptime":1000,"graph":"bar","running":false,"started":false,"debug":false}}"#,
            Output::Network(N::Stopped(NetworkStopped {
                time: some("2016-05-29T13:26:01.000Z"),
                uptime: Some(1000.0),
                graph: "bar".into(),
                running: Some(false),
                started: Some(false),
                debug: Some(false),
            })),
        ),
        (
            r#"{"protocol":"network","command":"started","payload":{"time":"2016-05-29T13:26:01.000Z",
                "graph":"bar","started":true,"running":true},"responseTo":"r4"}"#,
            Output::Network(N::Started(NetworkStarted {
                time: some("2016-05-29T13:26:01.000Z"),
                graph: "bar".into(),
                started: Some(true),
                running: Some(true),
                debug: None,
            })),
        ),
        (
            r#"{"protocol":"network","command":"status","payload":{"graph":"bar","running":false,
                "started":true}}"#,
            Output::Network(N::Status(NetworkStatus {
                graph: "bar".into(),
                uptime: None,
                started: Some(true),
                running: false,
                debug: None,
            })),
        ),
        (
            r#"{"protocol":"network","command":"status","payload":{"graph":"bar","uptime":12.5,
                "started":true,"running":true,"debug":true}}"#,
            Output::Network(N::Status(NetworkStatus {
                graph: "bar".into(),
                uptime: Some(12.5),
                started: Some(true),
                running: true,
                debug: Some(true),
            })),
        ),
        (
            r#"{"protocol":"network","command":"output","payload":{"message":"Hello, World!"}}"#,
            Output::Network(N::Output(OutputMessage {
                message: "Hello, World!".into(),
                kind: None,
                url: None,
            })),
        ),
        (
            r#"{"protocol":"network","command":"output","payload":{"message":"plot",
                "type":"previewurl","url":"https://example.net/plot.png"}}"#,
            Output::Network(N::Output(OutputMessage {
                message: "plot".into(),
                kind: Some(OutputKind::Previewurl),
                url: some("https://example.net/plot.png"),
            })),
        ),
        (
            r#"{"protocol":"network","command":"error","payload":{"message":"boom",
                "stack":"at line 1","graph":"bar"}}"#,
            Output::Network(N::Error(ErrorPayload {
                message: "boom".into(),
                stack: some("at line 1"),
                graph: some("bar"),
            })),
        ),
        (
            r#"{"protocol":"network","command":"processerror","payload":{"id":"World",
                "error":"TypeError","graph":"bar"}}"#,
            Output::Network(N::ProcessError(ProcessError {
                id: "World".into(),
                error: "TypeError".into(),
                graph: "bar".into(),
            })),
        ),
        (
            r#"{"protocol":"network","command":"icon","payload":{"id":"World","icon":"trash",
                "graph":"bar"}}"#,
            Output::Network(N::Icon(NodeIcon {
                id: "World".into(),
                icon: "trash".into(),
                graph: "bar".into(),
            })),
        ),
        (
            r#"{"protocol":"network","command":"connect","payload":{"id":"Hello() OUT -> IN World()",
                "src":{"node":"Hello","port":"out"},"tgt":{"node":"World","port":"in"},"graph":"bar"}}"#,
            Output::Network(N::Connect(hello_world())),
        ),
        (
            r#"{"protocol":"network","command":"begingroup","payload":{"id":"Hello() OUT -> IN World()",
                "src":{"node":"Hello","port":"out"},"tgt":{"node":"World","port":"in"},"graph":"bar",
                "subgraph":["Sub"],"group":"batch"}}"#,
            Output::Network(N::BeginGroup(group("batch"))),
        ),
        (
            r#"{"protocol":"network","command":"data","payload":{"id":"DATA -> IN Hello()",
                "graph":"bar","tgt":{"node":"Hello","port":"in"},"data":"Hello, world!"}}"#,
            Output::Network(N::Data(iip)),
        ),
        (
            r#"{"protocol":"network","command":"data","payload":{"id":"Hello() OUT -> IN World()",
                "src":{"node":"Hello","port":"out"},"tgt":{"node":"World","port":"in"},"graph":"bar",
                "subgraph":["Sub","Inner"],"data":null,"type":"object",
                "schema":"https://example.net/schemas/person.json"}}"#,
            Output::Network(N::Data(typed)),
        ),
        (
            r#"{"protocol":"network","command":"endgroup","payload":{"id":"Hello() OUT -> IN World()",
                "src":{"node":"Hello","port":"out"},"tgt":{"node":"World","port":"in"},"graph":"bar",
                "subgraph":["Sub"],"group":"batch"}}"#,
            Output::Network(N::EndGroup(group("batch"))),
        ),
        (
            r#"{"protocol":"network","command":"disconnect","payload":{"id":"Hello() OUT -> IN World()",
                "src":{"node":"Hello","port":"out"},"tgt":{"node":"World","port":"in"},"graph":"bar"}}"#,
            Output::Network(N::Disconnect(hello_world())),
        ),
        (
            r#"{"protocol":"network","command":"edges","payload":{"edges":[{"src":{"node":"Hello",
                "port":"out"},"tgt":{"node":"World","port":"in","index":1}}],"graph":"bar"}}"#,
            Output::Network(N::Edges(selection())),
        ),
        (
            r#"{"protocol":"network","command":"persist","payload":{}}"#,
            Output::Network(N::Persist(Persist {})),
        ),
    ]
}

#[test]
fn every_network_input_round_trips() {
    for (text, expected) in inputs() {
        check_input(text, &expected);
    }
}

#[test]
fn every_network_output_round_trips() {
    for (text, expected) in outputs() {
        check_output(text, &expected);
    }
}

#[test]
fn whole_uptime_is_written_as_an_integer() {
    let stopped = Output::Network(NetworkOutput::Stopped(NetworkStopped {
        time: None,
        uptime: Some(3.0),
        graph: "bar".into(),
        running: None,
        started: None,
        debug: None,
    }));
    assert_eq!(stopped.payload(), json!({"uptime": 3, "graph": "bar"}));
}
