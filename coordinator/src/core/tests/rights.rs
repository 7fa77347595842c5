//! Tokens with rights (`--tokens`): per right — send, receive, edit — a
//! client allowed and one refused; edge traffic only for those that may
//! watch edges; a wrong token sees nothing; new tokens apply at once.

use super::*;
use crate::core::rights::{Grant, Ports};
use crate::core::tokens::Tokens;

const GRAPH: &str = "INPORT=a.IN:IN\nINPORT=b.IN:OTHERIN\nOUTPORT=a.OUT:OUT\n\
                     OUTPORT=b.OUT:OTHEROUT\na(C) OUT -> IN b(C)";

/// The clients, each by the token it shows (client 9 shows the secret).
const EDITOR: ClientId = 1;
const FEEDER: ClientId = 2;
const DASHBOARD: ClientId = 3;
const WATCHER: ClientId = 4;
const OUTSIDER: ClientId = 5;
const ADMIN: ClientId = 9;

fn grant(name: &str, send: &[&str], receive: &[&str], edit: bool) -> (String, Grant) {
    let ports = |names: &[&str]| Ports::from_names(names.iter().map(|n| (*n).to_owned()));
    let grant = Grant {
        name: name.into(),
        send: ports(send),
        receive: ports(receive),
        edit,
    };
    (format!("{name}-token"), grant)
}

fn tokens(editor_edits: bool) -> Tokens {
    Tokens::new([
        grant("editor", &["*"], &["*"], editor_edits),
        grant("feeder", &["in"], &[], false),
        grant("dashboard", &[], &["out"], false),
        grant("watcher", &[], &["*"], false),
    ])
    .unwrap()
}

fn token_of(client: ClientId) -> &'static str {
    match client {
        EDITOR => "editor-token",
        FEEDER => "feeder-token",
        DASHBOARD => "dashboard-token",
        WATCHER => "watcher-token",
        ADMIN => "s",
        _ => "wrong-token",
    }
}

/// A request of `client` with its token.
fn ask(client: ClientId, protocol: &str, command: &str, mut payload: Value) -> Event {
    payload["secret"] = json!(token_of(client));
    frame(client, protocol, command, payload)
}

/// A core on AMQP with secret `s` and [`tokens`], `a` and `b` known, every
/// client connected and let in (a read each), the network started by the
/// editor, every link and tap applied.
fn guarded() -> Core {
    let graph = msgflo_protocol::dsl::parse(GRAPH).expect("graph");
    let config = Config {
        tokens: Some(tokens(true)),
        ..config(Some("s"))
    };
    let mut core = Core::new(
        config,
        Mode::Queues,
        Graphs::with_main("g", graph),
        Library::empty(),
    );
    let mut actions = core.handle(announce("a"), t(1));
    actions.extend(core.handle(announce("b"), t(1)));
    for client in [EDITOR, FEEDER, DASHBOARD, WATCHER, OUTSIDER, ADMIN] {
        actions.extend(core.handle(Event::Connected(client), t(2)));
        let status = ask(client, "network", "getstatus", json!({"graph": "g"}));
        actions.extend(core.handle(status, t(2)));
    }
    actions.extend(core.handle(ask(EDITOR, "network", "start", json!({"graph": "g"})), t(3)));
    let more = all_done(&mut core, &actions, t(4));
    all_done(&mut core, &more, t(4));
    core
}

/// A copy of a message on `queue`, as a tap passes it on.
fn tapped(queue: &str) -> Event {
    Event::Tapped {
        queue: QueueName::new(queue).unwrap(),
        payload: Bytes::from_static(b"{\"n\":1}"),
        brackets: Framing::default(),
    }
}

/// What `client` was told in `actions`: `protocol:command [port]`.
fn told(actions: &[Action], client: ClientId) -> Vec<String> {
    frames_to(actions, client)
        .iter()
        .map(|f| {
            let protocol = f["protocol"].as_str().unwrap_or_default();
            let command = f["command"].as_str().unwrap_or_default();
            match f["payload"]["port"].as_str() {
                Some(port) => format!("{protocol}:{command} {port}"),
                None => format!("{protocol}:{command}"),
            }
        })
        .collect()
}

/// The commands of the answers to `client`'s own requests in `actions`.
fn answers(actions: &[Action], client: ClientId) -> Vec<String> {
    let only: Vec<Action> = actions
        .iter()
        .filter(|a| matches!(a, Action::Answer { .. }))
        .cloned()
        .collect();
    told(&only, client)
}

fn error_of(actions: &[Action], client: ClientId) -> String {
    let frames = frames_to(actions, client);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["command"], "error", "{frames:?}");
    frames[0]["payload"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn sent_to(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { queue, .. } => Some(queue.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn send_a_token_sends_to_its_inport_and_is_refused_the_others() {
    let mut core = guarded();
    let data = |client, port: &str| {
        ask(
            client,
            "runtime",
            "packet",
            json!({"port": port, "event": "data", "payload": 1, "graph": "g"}),
        )
    };
    let allowed = core.handle(data(FEEDER, "in"), t(10));
    assert_eq!(told(&allowed, FEEDER), ["runtime:packetsent in"]);
    assert_eq!(sent_to(&allowed), ["a.IN"]);
    let refused = core.handle(data(FEEDER, "otherin"), t(11));
    assert_eq!(
        error_of(&refused, FEEDER),
        "token \"feeder\" may not send to inport \"otherin\""
    );
    assert!(sent_to(&refused).is_empty());
    let reader = core.handle(data(DASHBOARD, "in"), t(12));
    assert_eq!(
        error_of(&reader, DASHBOARD),
        "token \"dashboard\" may not send to inport \"in\""
    );
    assert!(sent_to(&reader).is_empty());
    let admin = core.handle(data(ADMIN, "otherin"), t(13));
    assert_eq!(sent_to(&admin), ["b.IN"], "the secret sends anywhere");
}

#[test]
fn receive_each_client_gets_the_outports_its_token_allows_and_edges_only_with_star_or_edit() {
    let mut core = guarded();
    let out = core.handle(tapped("a.OUT"), t(10));
    assert_eq!(told(&out, DASHBOARD), ["runtime:packet out"]);
    assert_eq!(
        told(&out, WATCHER),
        ["network:data", "runtime:packet out"],
        "receive * watches edges"
    );
    assert_eq!(told(&out, EDITOR), ["network:data", "runtime:packet out"]);
    assert_eq!(told(&out, ADMIN), ["network:data", "runtime:packet out"]);
    assert!(told(&out, FEEDER).is_empty(), "feeder receives nothing");
    assert!(
        told(&out, OUTSIDER).is_empty(),
        "a wrong token sees nothing"
    );
    let other = core.handle(tapped("b.OUT"), t(11));
    assert!(told(&other, DASHBOARD).is_empty(), "{other:?}");
    assert_eq!(told(&other, WATCHER), ["runtime:packet otherout"]);
}

#[test]
fn edit_a_token_with_the_right_edits_and_a_reader_is_refused_and_changes_nothing() {
    let mut core = guarded();
    let addnode = |client| {
        ask(
            client,
            "graph",
            "addnode",
            json!({"id": "n", "component": "C", "graph": "g"}),
        )
    };
    let refused = core.handle(addnode(DASHBOARD), t(10));
    assert_eq!(
        error_of(&refused, DASHBOARD),
        "token \"dashboard\" may not edit graphs (graph:addnode needs the edit right)"
    );
    let allowed = core.handle(addnode(EDITOR), t(11));
    assert_eq!(
        answers(&allowed, EDITOR),
        ["graph:addnode"],
        "the refused one added nothing"
    );
    for (protocol, command) in [("network", "stop"), ("network", "persist")] {
        let refused = core.handle(ask(FEEDER, protocol, command, json!({"graph": "g"})), t(12));
        assert!(
            error_of(&refused, FEEDER).contains("may not edit"),
            "{command}"
        );
    }
    let call = core.handle(
        ask(WATCHER, "msgflo", "call", json!({"call": "health"})),
        t(13),
    );
    let frames = frames_to(&call, WATCHER);
    assert_eq!(frames[0]["protocol"], "msgflo", "{frames:?}");
    assert!(!call.iter().any(|a| matches!(a, Action::Call(_))));
}

#[test]
fn a_reader_reads_and_is_told_only_the_capabilities_its_token_gives() {
    let mut core = guarded();
    let info = core.handle(ask(DASHBOARD, "runtime", "getruntime", json!({})), t(10));
    let frames = frames_to(&info, DASHBOARD);
    assert_eq!(
        frames[0]["payload"]["capabilities"],
        json!([
            "protocol:component",
            "protocol:runtime",
            "component:getsource"
        ])
    );
    let list = core.handle(ask(DASHBOARD, "component", "list", json!({})), t(11));
    assert!(told(&list, DASHBOARD).contains(&"component:componentsready".to_owned()));
    let full = core.handle(ask(EDITOR, "runtime", "getruntime", json!({})), t(12));
    assert_eq!(
        frames_to(&full, EDITOR)[0]["payload"]["capabilities"],
        json!(crate::core::requests::CAPABILITIES)
    );
}

#[test]
fn watching_edges_needs_edit_or_every_outport() {
    let mut core = guarded();
    let edges = |client| {
        ask(
            client,
            "network",
            "edges",
            json!({"graph": "g", "edges": []}),
        )
    };
    let refused = core.handle(edges(DASHBOARD), t(10));
    assert!(error_of(&refused, DASHBOARD).contains("may not watch edges"));
    let allowed = core.handle(edges(WATCHER), t(11));
    assert_eq!(told(&allowed, WATCHER), ["network:edges"]);
}

#[test]
fn only_the_outports_a_client_may_receive_are_tapped() {
    let graph = msgflo_protocol::dsl::parse(GRAPH).expect("graph");
    let config = Config {
        tokens: Some(tokens(true)),
        ..config(Some("s"))
    };
    let mut core = Core::new(
        config,
        Mode::Queues,
        Graphs::with_main("g", graph),
        Library::empty(),
    );
    let mut actions = core.start(t(0));
    actions.extend(core.handle(announce("a"), t(1)));
    actions.extend(core.handle(announce("b"), t(1)));
    all_done(&mut core, &actions, t(2));
    let read = ask(DASHBOARD, "network", "getstatus", json!({"graph": "g"}));
    let dashboard = core.handle(read, t(3));
    let tapped: Vec<String> = taps(&dashboard).into_iter().map(|(_, q, _)| q).collect();
    assert_eq!(tapped, ["a.OUT"], "out only, no edges");
    all_done(&mut core, &dashboard, t(4));
    let read = ask(WATCHER, "network", "getstatus", json!({"graph": "g"}));
    let watcher = core.handle(read, t(5));
    let tapped: Vec<String> = taps(&watcher).into_iter().map(|(_, q, _)| q).collect();
    assert_eq!(tapped, ["b.OUT"]);
}

#[test]
fn new_tokens_apply_at_once_to_clients_let_in_before() {
    let mut core = guarded();
    let addnode = ask(
        EDITOR,
        "graph",
        "addnode",
        json!({"id": "n", "component": "C", "graph": "g"}),
    );
    // The editor loses its edit right and the dashboard its token.
    let replaced = Tokens::new([
        grant("editor", &["*"], &["*"], false),
        grant("watcher", &[], &["*"], false),
    ])
    .unwrap();
    core.handle(Event::Tokens(replaced), t(10));
    let refused = core.handle(addnode, t(11));
    assert!(error_of(&refused, EDITOR).contains("may not edit"));
    let out = core.handle(tapped("a.OUT"), t(12));
    assert!(
        told(&out, DASHBOARD).is_empty(),
        "a withdrawn token gets no more traffic"
    );
    assert_eq!(told(&out, WATCHER), ["network:data", "runtime:packet out"]);
    let wrong = core.handle(ask(DASHBOARD, "network", "getstatus", json!({})), t(13));
    assert_eq!(error_of(&wrong, DASHBOARD), "Invalid or missing secret");
    core.handle(Event::Tokens(tokens(true)), t(14));
    let readd = ask(
        EDITOR,
        "graph",
        "addnode",
        json!({"id": "n", "component": "C", "graph": "g"}),
    );
    assert_eq!(
        answers(&core.handle(readd, t(15)), EDITOR),
        ["graph:addnode"]
    );
}

#[test]
fn without_secret_or_tokens_everyone_still_gets_everything() {
    let mut core = running();
    core.handle(Event::Connected(1), t(10));
    core.handle(Event::Connected(2), t(10));
    let watching = core.handle(
        frame(1, "network", "getstatus", json!({"graph": "g"})),
        t(11),
    );
    all_done(&mut core, &watching, t(12));
    let out = core.handle(tapped("a.OUT"), t(13));
    assert_eq!(told(&out, 1), ["network:data"]);
    assert_eq!(told(&out, 2), ["network:data"], "even before a request");
}
