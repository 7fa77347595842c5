//! The FBP exchanges Flowhub's editor has with the coordinator when it
//! opens a live graph and edits it, without a browser: the requests noflo-ui
//! 0.29.1 sent in the browser tests (`tests/tests/noflo_ui.rs`), recorded in
//! `tests/fixtures/noflo-ui-0.29.1/`, replayed in order against a
//! coordinator in this process on the memory transport, with the example's
//! participants announced. Each request gets its answer within noflo-ui's
//! one second and none is an error; the answers the editor's live mode
//! depends on say what it needs.

use futures_util::{SinkExt, StreamExt};
use msgflo_coordinator::client;
use msgflo_coordinator::fbp::graph_edit::Graphs;
use msgflo_coordinator::library::Library;
use msgflo_coordinator::live::{Config, Coordinator};
use msgflo_coordinator::spawn::Children;
use msgflo_coordinator::{graph_file, server};
use msgflo_transport::{self as transport, ConnectOptions, Transport};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// noflo-ui's timeout for an answer.
const REPLY: Duration = Duration::from_secs(1);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A coordinator of `graph` with the example library `library` (its
/// commands replaced by `true`: nothing is started), on a memory broker of
/// its own, with `participants` (role, component, inports, outports)
/// announced; its FBP port.
async fn coordinator(
    graph: &str,
    library: &str,
    secret: Option<&str>,
    participants: &[(&str, &str, &[&str], &[&str])],
) -> u16 {
    let broker = format!("memory://editor-{}", uuid::Uuid::new_v4().simple());
    let connect = |id: &str| ConnectOptions {
        client_id: id.to_owned(),
        ..ConnectOptions::default()
    };
    let transport = transport::connect(&broker, connect("coordinator"))
        .await
        .expect("memory broker");
    let discovery = transport.watch_discovery().await.expect("discovery");
    let graph = graph_file::load(&workspace().join(graph), false).expect("the example graph");
    let id = graph.name().unwrap_or("main").to_owned();
    let text = std::fs::read_to_string(workspace().join(library)).expect("the example library");
    let mut doc: Value = serde_json::from_str(&text).expect("library JSON");
    if let Some(components) = doc["msgflo"]["components"].as_object_mut() {
        for command in components.values_mut() {
            *command = json!("true");
        }
    }
    let library = Library::from_json(&doc).expect("library");
    let config = Config {
        secret: secret.map(str::to_owned),
        tokens: None,
        runtime_id: "editor-test".into(),
        graph_id: id.clone(),
        participant_timeout: Duration::from_secs(600),
        auto_save: None,
        ignore: Vec::new(),
        wait_timeout: Duration::from_secs(5),
        try_it: None,
        limits: Default::default(),
    };
    let children = Children::new(broker.clone());
    let mut coordinator = Coordinator::new(
        config,
        transport,
        Graphs::with_main(&id, graph),
        library,
        children,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let port = listener.local_addr().expect("address").port();
    let (events, requests) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(server::serve(listener, events, None));
    coordinator.start_main().await;
    tokio::spawn(coordinator.run(requests, discovery, std::future::pending()));

    let others: Arc<dyn Transport> = transport::connect(&broker, connect("participants"))
        .await
        .expect("memory broker");
    for (role, component, inports, outports) in participants {
        let ports = |names: &[&str]| -> Vec<Value> {
            names
                .iter()
                .map(|p| json!({"id": p, "type": "any", "queue": format!("{role}.{}", p.to_uppercase())}))
                .collect()
        };
        let announced = json!({"protocol": "discovery", "command": "participant", "payload": {
            "id": format!("{role}-1"), "role": role, "component": component, "label": "", "icon": "",
            "inports": ports(inports), "outports": ports(outports)}});
        others
            .announce(announced.to_string().into())
            .await
            .expect("announce");
    }
    port
}

/// An editor's connection.
struct Editor {
    socket: client::Socket,
}

impl Editor {
    async fn connect(port: u16) -> Self {
        let (socket, _) = client::connect(&format!("ws://127.0.0.1:{port}/"))
            .await
            .expect("connect");
        Self { socket }
    }

    async fn send(&mut self, message: &Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    async fn next(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(REPLY, self.socket.next())
                .await
                .expect("an answer within noflo-ui's second")
                .expect("open")
                .expect("a frame");
            if let Message::Text(text) = frame {
                return serde_json::from_str(text.as_str()).expect("JSON");
            }
        }
    }

    /// Sends `request` and reads up to its answer (the reply command the
    /// editor waits for); returns every message read. Fails on an error.
    async fn ask(&mut self, request: &Value) -> Vec<Value> {
        self.send(request).await;
        let (protocol, command) = (&request["protocol"], request["command"].as_str());
        let answer = match (protocol.as_str(), command) {
            (Some("runtime"), Some("getruntime")) => "runtime",
            (Some("component"), Some("getsource")) => "source",
            (Some("component"), Some("list")) => "componentsready",
            (Some("network"), Some("getstatus")) => "status",
            (Some("network"), Some("start")) => "started",
            (Some("network"), Some("stop")) => "stopped",
            (_, Some(same)) => same,
            _ => panic!("not a request: {request}"),
        };
        let mut read = Vec::new();
        loop {
            let message = self.next().await;
            assert_ne!(message["command"], "error", "{request} answered {message}");
            let done = message["protocol"] == *protocol && message["command"] == answer;
            read.push(message);
            if done {
                return read;
            }
        }
    }
}

fn recorded(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/noflo-ui-0.29.1")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the recorded exchange");
    let recorded: Value = serde_json::from_str(&text).expect("JSON");
    recorded["requests"].as_array().cloned().expect("requests")
}

/// The last message of `protocol:command` among `read`.
fn find<'a>(read: &'a [Value], protocol: &str, command: &str) -> &'a Value {
    read.iter()
        .rev()
        .find(|m| m["protocol"] == protocol && m["command"] == command)
        .unwrap_or_else(|| panic!("no {protocol}:{command} in {read:?}"))
}

#[tokio::test]
async fn noflo_ui_opens_and_edits_the_hello_graph() {
    let participants: Vec<(&str, &str, &[&str], &[&str])> = ["helloA", "helloB", "helloC"]
        .into_iter()
        .map(|role| (role, "example/Hello", &["name"][..], &["out"][..]))
        .collect();
    let port = coordinator(
        "examples/hello/hello.fbp",
        "examples/hello/package.json",
        None,
        &participants,
    )
    .await;
    let mut editor = Editor::connect(port).await;
    let mut answers = Vec::new();
    for request in recorded("hello.json") {
        let read = editor.ask(&request).await;
        answers.push((request, read));
    }
    let answer = |command: &str, name: Option<&str>| {
        answers
            .iter()
            .find(|(r, _)| {
                r["command"] == command && name.is_none_or(|n| r["payload"]["name"] == n)
            })
            .map(|(_, read)| read.as_slice())
            .unwrap_or_else(|| panic!("{command} {name:?} was not asked"))
    };
    // The runtime has a namespace, so noflo-ui asks for un-namespaced
    // components' sources; msgflo's form for a library command.
    let runtime = find(answer("getruntime", None), "runtime", "runtime");
    assert_eq!(runtime["payload"]["namespace"], "msgflo-hello-example");
    let graph = find(answer("getsource", Some("hello")), "component", "source");
    assert_eq!(graph["payload"]["language"], "json");
    let hello = &find(answer("getsource", Some("Hello")), "component", "source")["payload"];
    assert_eq!(
        (&hello["name"], &hello["library"], &hello["language"]),
        (
            &json!("Hello"),
            &json!("msgflo-hello-example"),
            &json!("discovery")
        )
    );
    assert!(
        hello["code"]
            .as_str()
            .is_some_and(|c| c.contains("component: example/Hello")),
        "{hello}"
    );
    // The library's Hello has its participants' ports, so every port draws.
    let listed = answer("list", None);
    let hello = listed
        .iter()
        .find(|m| m["command"] == "component" && m["payload"]["name"] == "Hello")
        .expect("Hello listed");
    assert_eq!(hello["payload"]["outPorts"][0]["id"], "out");
    // A started network shows as running.
    let status = &find(answer("getstatus", None), "network", "status")["payload"];
    assert_eq!(
        (&status["running"], &status["started"]),
        (&json!(true), &json!(true))
    );
    let stopped = &find(answer("stop", None), "network", "stopped")["payload"];
    assert_eq!(stopped["running"], false);
    let started = &find(answer("start", None), "network", "started")["payload"];
    assert_eq!(started["running"], true);
    // noflo-ui draws an edge with route: null; the echo has no null.
    let drawn = answers
        .iter()
        .find(|(r, _)| r["command"] == "addedge" && r["payload"]["metadata"]["route"].is_null())
        .map(|(_, read)| find(read, "graph", "addedge"))
        .expect("an edge drawn with route: null");
    assert!(
        drawn["payload"]["metadata"].get("route").is_none(),
        "{drawn}"
    );
}

#[tokio::test]
async fn noflo_ui_opens_and_edits_the_order_pipeline() {
    let participants: [(&str, &str, &[&str], &[&str]); 6] = [
        ("ingest", "core/Repeat", &["in"], &["out"]),
        ("parse", "example/ParseOrder", &["in"], &["out"]),
        ("rejected", "core/Output", &["in"], &["out"]),
        ("totals", "example/Totals", &["in"], &["out"]),
        ("audit", "core/Counter", &["in"], &["count"]),
        ("report", "core/Output", &["in"], &["out"]),
    ];
    let port = coordinator(
        "examples/pipeline/pipeline.fbp",
        "examples/pipeline/package.json",
        Some("pipe-s3cret"),
        &participants,
    )
    .await;
    let mut editor = Editor::connect(port).await;
    // Without the secret: told it may do nothing (noflo-ui then says so).
    let refused = editor
        .ask(&json!({"protocol": "runtime", "command": "getruntime", "payload": {"secret": ""}}))
        .await;
    let runtime = &find(&refused, "runtime", "runtime")["payload"];
    assert_eq!(runtime["capabilities"], json!([]));
    assert!(runtime["allCapabilities"]
        .as_array()
        .is_some_and(|c| c.contains(&json!("protocol:graph"))));
    editor
        .send(&json!({"protocol": "component", "command": "list", "payload": {}}))
        .await;
    let error = editor.next().await;
    assert_eq!(error["payload"]["message"], "Invalid or missing secret");

    for mut request in recorded("pipeline.json") {
        request["payload"]["secret"] = json!("pipe-s3cret");
        let read = editor.ask(&request).await;
        if request["command"] == "list" {
            let round_robin = read
                .iter()
                .find(|m| m["payload"]["name"] == "msgflo/RoundRobin")
                .expect("the wiring components are listed");
            assert_eq!(round_robin["payload"]["outPorts"][1]["id"], "deadletter");
        }
        if request["command"] == "getstatus" {
            assert_eq!(find(&read, "network", "status")["payload"]["running"], true);
        }
    }
}
