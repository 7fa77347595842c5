use super::*;
use crate::runtime::{builtins, EdgeTx, Network, Packet};
use crate::transport::{connect, ConnectOptions};

const GRAPH: &str = "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\na(core/Repeat) OUT -> IN b(core/Repeat)";

/// A runtime over a running network, on its own in-memory broker; keep
/// the input: the network runs while it is open.
struct Fixture {
    runtime: Runtime,
    input: EdgeTx,
    events: QueueName,
    links: crate::runtime::Statuses,
}

async fn fixture() -> Fixture {
    let graph = msgflo_protocol::dsl::parse(GRAPH).expect("graph");
    let mut network = Network::build(&graph, builtins::builtin).expect("network");
    let input = network.input("a", "in", None).expect("a.in");
    let _output = network.output("b", "out", None).expect("b.out");
    let editor = network.editor();
    let links = network.statuses();
    tokio::spawn(network.run(std::future::pending()));
    let broker = format!("memory://fbp-unit-{}", uuid::Uuid::new_v4().simple());
    let transport = connect(&broker, ConnectOptions::default())
        .await
        .expect("memory broker");
    let events = QueueName::new(".fbp.test.events").expect("queue name");
    transport.declare_inport(&events).await.expect("declared");
    let runtime = Runtime::new(Parts {
        id: "p-1".into(),
        name: "demo/Pipeline".into(),
        graph,
        lookup: Arc::new(builtins::builtin),
        editor,
        transport,
        inports: HashMap::new(),
        file: None,
        packets: Arc::default(),
        links: links.clone(),
    });
    Fixture {
        runtime,
        input,
        events,
        links,
    }
}

impl Fixture {
    async fn ask(&self, protocol: &str, command: &str, payload: Value) -> Vec<Value> {
        let message = json!({"protocol": protocol, "command": command, "payload": payload,
                             "requestId": "r1"});
        self.runtime.answer(&message, &self.events).await
    }
}

fn message(frames: &[Value]) -> &str {
    frames[0]["payload"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn getruntime_says_what_it_can_do() {
    let f = fixture().await;
    let frames = f.ask("runtime", "getruntime", json!({})).await;
    assert_eq!(frames.len(), 1);
    let info = &frames[0]["payload"];
    assert_eq!(
        (&info["type"], &info["version"]),
        (&json!("msgflo-rs"), &json!("0.7"))
    );
    assert_eq!(info["graph"], "demo/Pipeline");
    assert!(info["capabilities"].as_array().is_some_and(|c| c
        .contains(&json!("component:getsource"))
        && c.contains(&json!("protocol:graph"))));
    assert_eq!(frames[0]["responseTo"], "r1");
}

#[tokio::test]
async fn getsource_of_its_graph_is_the_graph_as_json_by_either_name() {
    let f = fixture().await;
    let graph = msgflo_protocol::dsl::parse(GRAPH).expect("graph");
    for name in ["demo/Pipeline", "Pipeline", "other/Pipeline"] {
        let frames = f.ask("component", "getsource", json!({"name": name})).await;
        let source = &frames[0]["payload"];
        assert_eq!(frames[0]["command"], "source", "{name}");
        assert_eq!(
            (&source["name"], &source["library"]),
            (&json!("Pipeline"), &json!("demo"))
        );
        assert_eq!(source["language"], "json");
        let code = source["code"].as_str().expect("code");
        let back = Graph::from_json(code).expect("a graph");
        assert_eq!(back, graph);
    }
    let frames = f
        .ask("component", "getsource", json!({"name": "core/Repeat"}))
        .await;
    assert_eq!(frames[0]["command"], "error");
    assert_eq!(message(&frames), "Component not found for core/Repeat");
}

#[tokio::test]
async fn component_list_then_componentsready() {
    let f = fixture().await;
    let frames = f.ask("component", "list", json!({})).await;
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0]["payload"]["name"], "core/Repeat");
    assert_eq!(frames[0]["payload"]["inPorts"][0]["id"], "in");
    assert_eq!(frames[1]["command"], "componentsready");
    assert_eq!(frames[1]["payload"], 1);
}

#[tokio::test]
async fn graph_edits_are_acknowledged_applied_and_show_in_the_source() {
    let f = fixture().await;
    let add = json!({"id": "d", "component": "core/Drop", "graph": "Pipeline"});
    let frames = f.ask("graph", "addnode", add.clone()).await;
    assert_eq!(
        frames,
        [json!({"protocol": "graph", "command": "addnode",
                               "payload": add, "responseTo": "r1"})]
    );
    let edge = json!({"src": {"node": "a", "port": "OUT"}, "tgt": {"node": "d", "port": "IN"},
                      "graph": "demo/Pipeline"});
    let frames = f.ask("graph", "addedge", edge).await;
    assert_eq!(frames[0]["command"], "addedge", "{frames:?}");
    let graph = f.runtime.graph().await;
    assert_eq!(graph.processes["d"].component, "core/Drop");
    assert_eq!(graph.edges().count(), 2);
    // A change the network refuses leaves the graph as it was.
    let bad = json!({"src": {"node": "a", "port": "NOPE"}, "tgt": {"node": "d", "port": "IN"},
                     "graph": "demo/Pipeline"});
    let frames = f.ask("graph", "addedge", bad).await;
    assert_eq!(
        message(&frames),
        "node a: core/Repeat has no outport \"nope\""
    );
    assert_eq!(f.runtime.graph().await.edges().count(), 2);
    let frames = f
        .ask(
            "graph",
            "removenode",
            json!({"id": "d", "graph": "demo/Pipeline"}),
        )
        .await;
    let commands: Vec<&str> = frames
        .iter()
        .filter_map(|f| f["command"].as_str())
        .collect();
    assert_eq!(commands, ["removeedge", "removenode"]);
    assert!(!f.runtime.graph().await.processes.contains_key("d"));
}

#[tokio::test]
async fn edits_that_cannot_be_made_live_are_errors_that_say_why() {
    let f = fixture().await;
    let cases = [
        ("addnode", json!({"id": "x", "component": "core/Nope", "graph": "demo/Pipeline"}),
         "node x: unknown component \"core/Nope\" (this participant cannot run it)"),
        ("removenode", json!({"id": "a", "graph": "demo/Pipeline"}),
         "node a is exported as port in: exported ports are the participant's queues: they cannot change while it runs"),
        ("addinport", json!({"public": "X", "node": "b", "port": "IN", "graph": "demo/Pipeline"}),
         "exported ports are the participant's queues: they cannot change while it runs"),
        ("addnode", json!({"id": "x", "component": "core/Drop", "graph": "other"}),
         "graph \"other\" is not this participant's graph (demo/Pipeline)"),
        ("addnode", json!({"id": "a", "component": "core/Drop", "graph": "demo/Pipeline"}),
         "node \"a\" already exists"),
    ];
    for (command, payload, expected) in cases {
        let frames = f.ask("graph", command, payload).await;
        assert_eq!(frames[0]["command"], "error", "{command}");
        assert_eq!(message(&frames), expected, "{command}");
    }
    let frames = f
        .ask("network", "stop", json!({"graph": "demo/Pipeline"}))
        .await;
    assert!(message(&frames).contains("drain call"), "{frames:?}");
    let frames = f.runtime.answer(&json!({"payload": {}}), &f.events).await;
    assert_eq!(
        message(&frames),
        "an FBP message needs a protocol and a command"
    );
    let status = f
        .ask("network", "getstatus", json!({"graph": "demo/Pipeline"}))
        .await;
    assert_eq!(status[0]["payload"]["running"], true);
    assert_eq!(status.len(), 1, "no links, no outputs: {status:?}");
    f.links
        .set("gpu", "connecting to ws://gpu:3569 again in 200ms: refused");
    let status = f
        .ask("network", "getstatus", json!({"graph": "demo/Pipeline"}))
        .await;
    assert_eq!(status[1]["command"], "output", "{status:?}");
    assert_eq!(
        status[1]["payload"]["message"],
        "gpu: connecting to ws://gpu:3569 again in 200ms: refused"
    );
}

#[tokio::test]
async fn a_watched_inner_edge_sends_network_data_to_the_events_queue() {
    let mut f = fixture().await;
    let mut events = f
        .runtime
        .transport
        .consume(&f.events, 10)
        .await
        .expect("consumer");
    let edges = json!({"graph": "demo/Pipeline",
                       "edges": [{"src": {"node": "a", "port": "out"}, "tgt": {"node": "b", "port": "in"}}]});
    let frames = f.ask("network", "edges", edges.clone()).await;
    assert_eq!(frames[0]["command"], "edges", "{frames:?}");
    f.input
        .push(Packet::data(&b"{\"n\":1}"[..]))
        .await
        .expect("running");
    let event = tokio::time::timeout(std::time::Duration::from_secs(5), events.next())
        .await
        .expect("an event in time")
        .expect("consumer open");
    let event: Value = serde_json::from_slice(&event.payload).expect("JSON");
    assert_eq!(
        event,
        json!({"protocol": "network", "command": "data", "payload": {
            "id": "a() OUT -> IN b()", "src": {"node": "a", "port": "out"},
            "tgt": {"node": "b", "port": "in"}, "graph": "demo/Pipeline", "data": {"n": 1}}})
    );
    let unknown = json!({"graph": "demo/Pipeline",
                         "edges": [{"src": {"node": "b", "port": "out"}, "tgt": {"node": "a", "port": "in"}}]});
    let frames = f.ask("network", "edges", unknown).await;
    assert_eq!(message(&frames), "cannot watch: no edge b out -> in a");
}
