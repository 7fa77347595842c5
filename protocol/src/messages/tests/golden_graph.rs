//! Golden messages of the `graph` sub-protocol. Requests and notifications share
//! their shapes, so every change golden is checked in both directions.

use serde_json::json;

use super::{check_input, check_output, indexed, meta, port, some, InputGolden, OutputGolden};
use crate::messages::{
    AddEdge, AddGroup, AddInitial, AddNode, AddPort, ChangeGroup, ChangeNode, ClearGraph,
    ErrorPayload, GraphChange, GraphOutput, Iip, Input, Output, PortIndex, RemoveEdge, RemoveGroup,
    RemoveInitial, RemoveNode, RemovePort, Rename,
};

/// A rename of `from` to `to` in graph `foo`.
fn rename(from: &str, to: &str) -> Rename {
    Rename {
        from: from.into(),
        to: to.into(),
        graph: "foo".into(),
    }
}

/// The edge `Repeat1 OUT -> IN Drop1` in graph `foo`.
fn edge(metadata: Option<&str>) -> AddEdge {
    AddEdge {
        src: port("Repeat1", "out"),
        tgt: port("Drop1", "in"),
        metadata: metadata.map(meta),
        graph: "foo".into(),
    }
}

/// Exporting `RepeatRenamed`'s `port` as `public` in graph `foo`.
fn export(public: &str, port: &str, metadata: Option<&str>) -> AddPort {
    AddPort {
        public: public.into(),
        node: "RepeatRenamed".into(),
        port: port.into(),
        metadata: metadata.map(meta),
        graph: "foo".into(),
    }
}

pub(super) fn changes() -> Vec<(&'static str, GraphChange)> {
    use GraphChange as G;
    vec![
        (
            r#"{"protocol":"graph","command":"clear","payload":{"id":"foo","name":"Foo graph",
                "library":"my-project","main":true,"icon":"cog","description":"A graph",
                "baseDir":"/srv/project"}}"#,
            G::Clear(ClearGraph {
                id: "foo".into(),
                name: some("Foo graph"),
                library: some("my-project"),
                main: Some(true),
                icon: some("cog"),
                description: some("A graph"),
                base_dir: some("/srv/project"),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"clear","payload":{"id":"foo","main":true,
                "name":"Foo graph"}}"#,
            G::Clear(ClearGraph {
                id: "foo".into(),
                name: some("Foo graph"),
                main: Some(true),
                ..ClearGraph::default()
            }),
        ),
        (
            r#"{"protocol":"graph","command":"addnode","payload":{"id":"Repeat1",
                "component":"core/Repeat","metadata":{"hello":"World","x":5,"y":-3},"graph":"foo"}}"#,
            G::AddNode(AddNode {
                id: "Repeat1".into(),
                component: "core/Repeat".into(),
                metadata: Some(meta(r#"{"hello":"World","x":5,"y":-3}"#)),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"addnode","payload":{"id":"Drop1",
                "component":"core/Drop","graph":"foo"}}"#,
            G::AddNode(AddNode {
                id: "Drop1".into(),
                component: "core/Drop".into(),
                metadata: None,
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"removenode","payload":{"id":"Drop1","graph":"foo"}}"#,
            G::RemoveNode(RemoveNode {
                id: "Drop1".into(),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"renamenode","payload":{"from":"Repeat1",
                "to":"RepeatRenamed","graph":"foo"}}"#,
            G::RenameNode(rename("Repeat1", "RepeatRenamed")),
        ),
        (
            r#"{"protocol":"graph","command":"changenode","payload":{"id":"Drop1",
                "metadata":{"sort":null,"tag":"awesome"},"graph":"foo"}}"#,
            G::ChangeNode(ChangeNode {
                id: "Drop1".into(),
                metadata: meta(r#"{"sort":null,"tag":"awesome"}"#),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"addedge","payload":{"src":{"node":"Repeat1",
                "port":"out"},"tgt":{"node":"Drop1","port":"in"},"metadata":{"route":5},"graph":"foo"}}"#,
            G::AddEdge(edge(Some(r#"{"route":5}"#))),
        ),
        (
            r#"{"protocol":"graph","command":"addedge","payload":{"src":{"node":"Split",
                "port":"out","index":2},"tgt":{"node":"Merge","port":"in","index":"left"},
                "graph":"foo"}}"#,
            G::AddEdge(AddEdge {
                src: indexed("Split", "out", PortIndex::Number(2)),
                tgt: indexed("Merge", "in", PortIndex::Name("left".into())),
                metadata: None,
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"removeedge","payload":{"src":{"node":"Repeat1",
                "port":"out"},"tgt":{"node":"Drop1","port":"in"},"graph":"foo"}}"#,
            G::RemoveEdge(RemoveEdge {
                src: port("Repeat1", "out"),
                tgt: port("Drop1", "in"),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"changeedge","payload":{"src":{"node":"Repeat1",
                "port":"out"},"tgt":{"node":"Drop1","port":"in"},
                "metadata":{"route":1,"secure":true,"schema":"https://example.net/s.json"},"graph":"foo"}}"#,
            G::ChangeEdge(edge(Some(
                r#"{"route":1,"secure":true,"schema":"https://example.net/s.json"}"#,
            ))),
        ),
        (
            r#"{"protocol":"graph","command":"addinitial","payload":{"src":{"data":"Hello, world!"},
                "tgt":{"node":"Repeat1","port":"in"},"metadata":{},"graph":"foo"}}"#,
            G::AddInitial(AddInitial {
                src: Iip {
                    data: json!("Hello, world!"),
                },
                tgt: port("Repeat1", "in"),
                metadata: Some(meta("{}")),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"addinitial","payload":{"src":{"data":null},
                "tgt":{"node":"Repeat1","port":"in","index":0},"graph":"foo"}}"#,
            G::AddInitial(AddInitial {
                src: Iip { data: json!(null) },
                tgt: indexed("Repeat1", "in", PortIndex::Number(0)),
                metadata: None,
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"removeinitial","payload":{"tgt":{"node":"Repeat1",
                "port":"in"},"graph":"foo"}}"#,
            G::RemoveInitial(RemoveInitial {
                src: None,
                tgt: port("Repeat1", "in"),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"removeinitial","payload":{"src":{"data":[1,{"a":2}]},
                "tgt":{"node":"Repeat1","port":"in"},"graph":"foo"}}"#,
            G::RemoveInitial(RemoveInitial {
                src: Some(Iip {
                    data: json!([1, {"a": 2}]),
                }),
                tgt: port("Repeat1", "in"),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"addinport","payload":{"public":"in",
                "node":"RepeatRenamed","port":"in","graph":"foo"}}"#,
            G::AddInport(export("in", "in", None)),
        ),
        (
            r#"{"protocol":"graph","command":"removeinport","payload":{"public":"in","graph":"foo"}}"#,
            G::RemoveInport(RemovePort {
                public: "in".into(),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"renameinport","payload":{"from":"in","to":"input",
                "graph":"foo"}}"#,
            G::RenameInport(rename("in", "input")),
        ),
        (
            r#"{"protocol":"graph","command":"addoutport","payload":{"public":"out",
                "node":"RepeatRenamed","port":"out","metadata":{"x":10,"y":20},"graph":"foo"}}"#,
            G::AddOutport(export("out", "out", Some(r#"{"x":10,"y":20}"#))),
        ),
        (
            r#"{"protocol":"graph","command":"removeoutport","payload":{"public":"out","graph":"foo"}}"#,
            G::RemoveOutport(RemovePort {
                public: "out".into(),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"renameoutport","payload":{"from":"out","to":"output",
                "graph":"foo"}}"#,
            G::RenameOutport(rename("out", "output")),
        ),
        (
            r#"{"protocol":"graph","command":"addgroup","payload":{"name":"greeters",
                "nodes":["Hello","World"],"metadata":{"description":"Say hi"},"graph":"foo"}}"#,
            G::AddGroup(AddGroup {
                name: "greeters".into(),
                nodes: vec!["Hello".into(), "World".into()],
                metadata: Some(meta(r#"{"description":"Say hi"}"#)),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"removegroup","payload":{"name":"greeters","graph":"foo"}}"#,
            G::RemoveGroup(RemoveGroup {
                name: "greeters".into(),
                graph: "foo".into(),
            }),
        ),
        (
            r#"{"protocol":"graph","command":"renamegroup","payload":{"from":"greeters",
                "to":"welcomers","graph":"foo"}}"#,
            G::RenameGroup(rename("greeters", "welcomers")),
        ),
        (
            r#"{"protocol":"graph","command":"changegroup","payload":{"name":"welcomers",
                "metadata":{"description":"Say hello"},"graph":"foo"}}"#,
            G::ChangeGroup(ChangeGroup {
                name: "welcomers".into(),
                metadata: meta(r#"{"description":"Say hello"}"#),
                graph: "foo".into(),
            }),
        ),
    ]
}

pub(super) fn inputs() -> Vec<InputGolden> {
    changes()
        .into_iter()
        .map(|(text, change)| (text, Input::Graph(change)))
        .collect()
}

pub(super) fn outputs() -> Vec<OutputGolden> {
    let mut goldens: Vec<OutputGolden> = changes()
        .into_iter()
        .map(|(text, change)| (text, Output::from(change)))
        .collect();
    goldens.push((
        r#"{"protocol":"graph","command":"error","payload":{"message":"Requested graph not found"},
            "responseTo":"r7"}"#,
        Output::Graph(GraphOutput::Error(ErrorPayload::new(
            "Requested graph not found",
        ))),
    ));
    goldens
}

#[test]
fn every_graph_input_round_trips() {
    for (text, expected) in inputs() {
        check_input(text, &expected);
    }
}

#[test]
fn every_graph_output_round_trips() {
    for (text, expected) in outputs() {
        check_output(text, &expected);
    }
}

#[test]
fn replies_built_without_optional_fields_have_no_such_keys() {
    // Conformance: the addinport reply has no `metadata`, the clear reply no `baseDir`.
    let addinport = Output::from(GraphChange::AddInport(export("in", "in", None)));
    assert_eq!(
        addinport.payload(),
        json!({"public": "in", "node": "RepeatRenamed", "port": "in", "graph": "foo"})
    );
    let clear = Output::from(GraphChange::Clear(ClearGraph {
        id: "foo".into(),
        main: Some(true),
        ..ClearGraph::default()
    }));
    assert_eq!(clear.payload(), json!({"id": "foo", "main": true}));
}

#[test]
fn unknown_payload_keys_are_ignored_and_not_echoed() {
    let text = r#"{"protocol":"graph","command":"addnode","payload":{"id":"A",
        "component":"core/Kick","graph":"foo","whatisthis":"notallowed"}}"#;
    let request = Input::decode(text).expect("extra keys are tolerated");
    assert_eq!(
        request.input.payload(),
        json!({"id": "A", "component": "core/Kick", "graph": "foo"})
    );
}
