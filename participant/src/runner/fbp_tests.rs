use super::*;
use crate::runtime::builtins;

fn runtime() -> Runtime {
    let graph = msgflo_protocol::dsl::parse(
        "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\na(core/Repeat) OUT -> IN b(core/Repeat)",
    )
    .expect("graph");
    Runtime {
        id: "p-1".into(),
        name: "demo/Pipeline".into(),
        graph,
        components: vec![builtins::builtin("core/Repeat").expect("built in")],
    }
}

fn ask(protocol: &str, command: &str, payload: Value) -> Vec<Value> {
    runtime().answer(
        &json!({"protocol": protocol, "command": command, "payload": payload,
                             "requestId": "r1"}),
    )
}

#[test]
fn getruntime_says_what_it_can_do() {
    let frames = ask("runtime", "getruntime", json!({}));
    assert_eq!(frames.len(), 1);
    let info = &frames[0]["payload"];
    assert_eq!(
        (&info["type"], &info["version"]),
        (&json!("msgflo-rs"), &json!("0.7"))
    );
    assert_eq!(info["graph"], "demo/Pipeline");
    assert!(info["capabilities"]
        .as_array()
        .is_some_and(|c| c.contains(&json!("component:getsource"))));
    assert_eq!(frames[0]["responseTo"], "r1");
}

#[test]
fn getsource_of_its_graph_is_the_graph_as_json_by_either_name() {
    for name in ["demo/Pipeline", "Pipeline", "other/Pipeline"] {
        let frames = ask("component", "getsource", json!({"name": name}));
        let source = &frames[0]["payload"];
        assert_eq!(frames[0]["command"], "source", "{name}");
        assert_eq!(
            (&source["name"], &source["library"]),
            (&json!("Pipeline"), &json!("demo"))
        );
        assert_eq!(source["language"], "json");
        let code = source["code"].as_str().expect("code");
        let back = Graph::from_json(code).expect("a graph");
        assert_eq!(back, runtime().graph);
    }
    let frames = ask("component", "getsource", json!({"name": "core/Repeat"}));
    assert_eq!(frames[0]["command"], "error");
    assert_eq!(
        frames[0]["payload"]["message"],
        "Component not found for core/Repeat"
    );
}

#[test]
fn component_list_then_componentsready() {
    let frames = ask("component", "list", json!({}));
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0]["payload"]["name"], "core/Repeat");
    assert_eq!(frames[0]["payload"]["inPorts"][0]["id"], "in");
    assert_eq!(frames[1]["command"], "componentsready");
    assert_eq!(frames[1]["payload"], 1);
}

#[test]
fn other_commands_are_errors_that_say_so() {
    let frames = ask(
        "graph",
        "addnode",
        json!({"id": "x", "component": "c", "graph": "g"}),
    );
    assert_eq!(frames[0]["command"], "error");
    assert_eq!(frames[0]["protocol"], "graph");
    assert_eq!(
        frames[0]["payload"]["message"],
        "graph:addnode is not supported by a msgflo-rs participant yet"
    );
    let frames = runtime().answer(&json!({"payload": {}}));
    assert_eq!(
        frames[0]["payload"]["message"],
        "an FBP message needs a protocol and a command"
    );
    let status = ask("network", "getstatus", json!({"graph": "demo/Pipeline"}));
    assert_eq!(status[0]["payload"]["running"], true);
}
