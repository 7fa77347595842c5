//! Editing and watching a graph participant's graph through a coordinator
//! in this process, on the memory broker, over its WebSocket: two fake graph
//! participants of one role answer the `fbp` call as the participant side's
//! contract says (the echo of an edit, or an error frame; `network:data`
//! for a watched edge sent to the caller's queue). An edit reaches both and
//! is echoed once; an edit one of them refuses is one `graph:error` naming
//! it; the edited graph is what `component:getsource` shows afterwards; a
//! watched edge's data reaches the editor as an edge of the role's subgraph.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use msgflo_coordinator::fbp::graph_edit::Graphs;
use msgflo_coordinator::library::Library;
use msgflo_coordinator::live::{Config, Coordinator};
use msgflo_coordinator::spawn::Children;
use msgflo_coordinator::{client, server};
use msgflo_protocol::calls::{CallRequest, CallResult};
use msgflo_protocol::ids::QueueName;
use msgflo_transport::{self as transport, ConnectOptions, Transport};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// A guard against a hang, not a synchronisation: every frame waited for
/// comes well before it.
const GUARD: Duration = Duration::from_secs(10);

fn connect(id: &str) -> ConnectOptions {
    ConnectOptions {
        client_id: id.to_owned(),
        ..ConnectOptions::default()
    }
}

/// A coordinator of `pipe(demo/Pipeline)` on memory broker `broker`; its
/// FBP port.
async fn coordinator(broker: &str) -> u16 {
    let transport = transport::connect(broker, connect("coordinator"))
        .await
        .expect("memory broker");
    let discovery = transport.watch_discovery().await.expect("discovery");
    let graph = msgflo_protocol::dsl::parse("pipe(demo/Pipeline)").expect("graph");
    let config = Config {
        secret: None,
        tokens: None,
        runtime_id: "forward-test".into(),
        graph_id: "main".into(),
        participant_timeout: Duration::from_secs(600),
        auto_save: None,
        ignore: Vec::new(),
        wait_timeout: Duration::from_secs(5),
        try_it: None,
        limits: Default::default(),
    };
    let coordinator = Coordinator::new(
        config,
        transport,
        Graphs::with_main("main", graph),
        Library::empty(),
        Children::new(broker.to_owned()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let port = listener.local_addr().expect("address").port();
    let (events, requests) = mpsc::channel(1024);
    tokio::spawn(server::serve(listener, events, None));
    tokio::spawn(coordinator.run(requests, discovery, std::future::pending()));
    port
}

/// A fake graph participant `id` of role `pipe` running graph
/// `demo/Pipeline` (nodes `a`, `b` and what is added): answers `fbp` calls
/// per the contract, refusing `removenode` when `refuses_removal`. Each FBP
/// message it gets is passed to `got` as `(id, message)`.
async fn fake(
    transport: Arc<dyn Transport>,
    id: &'static str,
    refuses_removal: bool,
    got: mpsc::UnboundedSender<(&'static str, Value)>,
) {
    let control = QueueName::new(format!(".fbp.{id}.receive")).expect("queue");
    transport.declare_inport(&control).await.expect("declare");
    let mut requests = transport.consume(&control, 10).await.expect("consume");
    let announced = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": id, "role": "pipe", "component": "demo/Pipeline", "label": "", "icon": "",
        "inports": [{"id": "in", "queue": "pipe.IN"}], "outports": [],
        "type": "msgflo-rs", "version": "0.7",
        "inqueue": format!(".fbp.{id}.receive"), "outqueue": format!(".fbp.{id}.send")}});
    let answering = transport.clone();
    tokio::spawn(async move {
        let transport = answering;
        let mut nodes = vec!["a".to_owned(), "b".to_owned()];
        while let Some(delivery) = requests.next().await {
            let frame: Value = serde_json::from_slice(&delivery.payload).expect("JSON");
            delivery.ack().await.expect("ack");
            let request: CallRequest =
                serde_json::from_value(frame["payload"].clone()).expect("a call request");
            let message = request.args.clone();
            let _ = got.send((id, message.clone()));
            let (command, payload) = (message["command"].as_str(), &message["payload"]);
            let echo = json!([message]);
            let (answer, then) = match command {
                Some("getsource") => {
                    let processes: serde_json::Map<String, Value> = nodes
                        .iter()
                        .map(|n| (n.clone(), json!({"component": "core/Repeat"})))
                        .collect();
                    let code = json!({"processes": processes}).to_string();
                    let source = json!([{"protocol": "component", "command": "source",
                        "payload": {"name": "Pipeline", "library": "demo",
                                    "language": "json", "code": code}}]);
                    (source, None)
                }
                Some("addnode") => {
                    nodes.push(payload["id"].as_str().unwrap_or_default().to_owned());
                    (echo, None)
                }
                Some("removenode") if refuses_removal => {
                    let error = json!([{"protocol": "graph", "command": "error",
                                        "payload": {"message": "node b is busy"}}]);
                    (error, None)
                }
                Some("edges") => {
                    let data = json!({"protocol": "network", "command": "data", "payload": {
                        "id": "a() OUT -> IN b()", "src": {"node": "a", "port": "out"},
                        "tgt": {"node": "b", "port": "in"}, "data": {"n": 7},
                        "graph": "demo/Pipeline"}});
                    (echo, Some(data))
                }
                _ => (echo, None),
            };
            let reply_to = QueueName::new(request.reply_to.as_str()).expect("queue");
            let result = CallResult::ok(&request, id, answer).encode();
            transport
                .send_to_inport(&reply_to, Bytes::from(result))
                .await
                .expect("answer");
            if let Some(data) = then {
                transport
                    .send_to_inport(&reply_to, Bytes::from(data.to_string()))
                    .await
                    .expect("data");
            }
        }
    });
    transport
        .announce(announced.to_string().into())
        .await
        .expect("announce");
}

/// An editor's connection.
struct Editor {
    socket: client::Socket,
}

impl Editor {
    async fn send(&mut self, message: Value) {
        let text = message.to_string();
        self.socket.send(Message::text(text)).await.expect("send");
    }

    /// Reads frames up to the first that `wanted` accepts.
    async fn until(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let frame = tokio::time::timeout(GUARD, self.socket.next())
                .await
                .expect("a frame before the guard")
                .expect("open")
                .expect("a frame");
            if let Message::Text(text) = frame {
                let value: Value = serde_json::from_str(text.as_str()).expect("JSON");
                if wanted(&value) {
                    return value;
                }
            }
        }
    }

    /// The answer to `request` (requestId `id`).
    async fn ask(&mut self, id: &str, mut request: Value) -> Value {
        request["requestId"] = json!(id);
        self.send(request).await;
        self.until(|f| f["responseTo"] == id).await
    }

    /// Asks until the coordinator knows both participants (each answer
    /// comes after every frame the coordinator decided before it).
    async fn both_known(&mut self) {
        for round in 0..100 {
            let ask = json!({"protocol": "msgflo", "command": "participants", "payload": {}});
            let known = self.ask(&format!("p{round}"), ask).await;
            if known["payload"]["participants"].as_array().map(Vec::len) == Some(2) {
                return;
            }
        }
        panic!("the participants were never both known");
    }

    /// Waits for `component:component` of the participants' graph.
    async fn subgraph_listed(&mut self) {
        self.until(|f| {
            f["command"] == "component"
                && f["payload"]["name"] == "demo/Pipeline"
                && f["payload"]["subgraph"] == true
        })
        .await;
    }
}

#[tokio::test]
async fn a_graph_participants_graph_is_edited_on_every_participant_and_watched() {
    let broker = format!("memory://forward-{}", uuid::Uuid::new_v4().simple());
    let port = coordinator(&broker).await;
    let (socket, _) = client::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connect");
    let mut editor = Editor { socket };
    // Connected (so it is told when the graph becomes known).
    let runtime = json!({"protocol": "runtime", "command": "getruntime", "payload": {}});
    editor.ask("r0", runtime).await;

    let participants: Arc<dyn Transport> = transport::connect(&broker, connect("participants"))
        .await
        .expect("memory broker");
    let (got, mut seen) = mpsc::unbounded_channel();
    fake(participants.clone(), "pipe-1", false, got.clone()).await;
    fake(participants.clone(), "pipe-2", true, got).await;
    editor.subgraph_listed().await;
    editor.both_known().await;

    // An edit: to both, echoed once.
    let addnode = json!({"id": "x", "component": "core/Repeat", "graph": "Pipeline"});
    let request = json!({"protocol": "graph", "command": "addnode", "payload": addnode});
    let answer = editor.ask("r1", request).await;
    assert_eq!(
        answer,
        json!({"protocol": "graph", "command": "addnode", "payload": addnode,
               "responseTo": "r1"})
    );
    let mut added_on = Vec::new();
    while added_on.len() < 2 {
        let (id, message) = tokio::time::timeout(GUARD, seen.recv())
            .await
            .expect("in time")
            .expect("a message");
        if message["command"] == "addnode" {
            assert_eq!(message["payload"], addnode);
            added_on.push(id);
        }
    }
    added_on.sort_unstable();
    assert_eq!(added_on, ["pipe-1", "pipe-2"]);

    // The graph is fetched again: getsource shows the new node.
    editor.subgraph_listed().await;
    let getsource = json!({"protocol": "component", "command": "getsource",
                           "payload": {"name": "demo/Pipeline"}});
    let source = editor.ask("r2", getsource).await;
    let code: Value =
        serde_json::from_str(source["payload"]["code"].as_str().unwrap_or_default()).expect("code");
    assert!(code["processes"]["x"].is_object(), "{source}");

    // Refused by one: one error naming it.
    let removenode = json!({"protocol": "graph", "command": "removenode",
                            "payload": {"id": "b", "graph": "Pipeline"}});
    let error = editor.ask("r3", removenode).await;
    assert_eq!(error["command"], "error", "{error}");
    assert_eq!(
        error["payload"]["message"],
        "graph:removenode on the graph of role pipe failed: pipe-2: node b is busy \
         (applied by pipe-1)"
    );

    // Watching an edge inside: the echo, then its data as a subgraph edge.
    let edges = json!({"graph": "Pipeline", "edges": [
        {"src": {"node": "a", "port": "out"}, "tgt": {"node": "b", "port": "in"}}]});
    let request = json!({"protocol": "network", "command": "edges", "payload": edges});
    let echo = editor.ask("r4", request).await;
    assert_eq!(echo["command"], "edges", "{echo}");
    assert_eq!(echo["payload"], edges);
    let data = editor.until(|f| f["command"] == "data").await;
    assert_eq!(
        data["payload"],
        json!({"id": "a() OUT -> IN b()", "src": {"node": "a", "port": "out"},
               "tgt": {"node": "b", "port": "in"}, "data": {"n": 7},
               "graph": "main", "subgraph": ["pipe"]})
    );
}
