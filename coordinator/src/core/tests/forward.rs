//! A graph participant's graph edited and watched from a client: the edit
//! or edge selection goes to every participant of the role; the client gets
//! the echo once all acknowledged, else one error naming each that failed
//! or did not answer; an applied edit refreshes the graph `getsource`
//! shows; data the participants send for watched edges reaches the
//! clients watching them as a subgraph's edges.

use super::*;
use crate::core::forward::{Forward, ForwardKind, FORWARD_TIMEOUT};
use msgflo_protocol::ids::ParticipantId;

pub(super) const CODE: &str = r#"{"processes": {"a": {"component": "core/Repeat"}}}"#;

pub(super) fn id(text: &str) -> ParticipantId {
    ParticipantId::new(text).expect("id")
}

/// A discovery message of graph participant `id` of role `pipe`, component
/// `demo/Pipeline`, an FBP runtime.
pub(super) fn runtime(id: &str) -> Event {
    let message = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": id, "role": "pipe", "component": "demo/Pipeline",
        "inports": [{"id": "in", "queue": "pipe.IN"}], "outports": [],
        "type": "msgflo-rs", "version": "0.7",
        "inqueue": format!(".fbp.{id}.receive"), "outqueue": format!(".fbp.{id}.send")}});
    super::discovery(&message)
}

/// A core whose node `pipe` is played by graph participants `pipe-1` and
/// `pipe-2` (graph known), with clients 1 and 2 connected.
pub(super) fn with_graph_participants() -> Core {
    let mut core = core("pipe(demo/Pipeline)", Mode::Queues, None);
    core.handle(Event::Connected(1), t(0));
    core.handle(Event::Connected(2), t(0));
    core.handle(runtime("pipe-1"), t(1));
    core.handle(runtime("pipe-2"), t(1));
    let fetched = Event::SubgraphFetched {
        participant: id("pipe-1"),
        component: "demo/Pipeline".into(),
        outcome: Ok(CODE.into()),
    };
    core.handle(fetched, t(2));
    core
}

/// `protocol:command` from `client` with `requestId` `r1`.
pub(super) fn request(client: ClientId, protocol: &str, command: &str, payload: Value) -> Event {
    let text = json!({"protocol": protocol, "command": command, "payload": payload,
                      "requestId": "r1"});
    Event::Frame(client, text.to_string())
}

pub(super) fn forwards(actions: &[Action]) -> Vec<Forward> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Forward(forward) => Some(forward.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn one_forward(actions: &[Action]) -> Forward {
    let forwards = forwards(actions);
    assert_eq!(forwards.len(), 1, "{actions:?}");
    forwards[0].clone()
}

pub(super) fn refetches(actions: &[Action]) -> Vec<ParticipantId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::FetchSubgraph {
                participant,
                component,
            } if component == "demo/Pipeline" => Some(participant.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn addnode() -> Value {
    json!({"id": "x", "component": "core/Repeat", "graph": "Pipeline"})
}

pub(super) fn echo(command: &str, payload: &Value) -> Result<Value, String> {
    Ok(json!([{"protocol": "graph", "command": command, "payload": payload}]))
}

fn edge(a: &str, b: &str) -> Value {
    json!({"src": {"node": a, "port": "out"}, "tgt": {"node": b, "port": "in"}})
}

#[test]
fn an_edit_goes_to_every_participant_of_the_role_and_is_echoed_once_all_applied_it() {
    let mut core = with_graph_participants();
    let actions = core.handle(request(1, "graph", "addnode", addnode()), t(3));
    assert_eq!(
        frames_to(&actions, 1),
        Vec::<Value>::new(),
        "answered early"
    );
    let forward = one_forward(&actions);
    assert_eq!(
        forward,
        Forward {
            reply_to: Some((1, Some("r1".into()))),
            role: "pipe".into(),
            participants: vec![id("pipe-1"), id("pipe-2")],
            message: json!({"protocol": "graph", "command": "addnode", "payload": addnode()}),
            timeout: FORWARD_TIMEOUT,
            kind: ForwardKind::Edit {
                component: "demo/Pipeline".into()
            },
        }
    );
    let answers = vec![
        (id("pipe-2"), echo("addnode", &addnode())),
        (id("pipe-1"), echo("addnode", &addnode())),
    ];
    let actions = core.handle(Event::Forwarded { forward, answers }, t(4));
    assert_eq!(
        frames_to(&actions, 1),
        [
            json!({"protocol": "graph", "command": "addnode", "payload": addnode(),
                "responseTo": "r1"})
        ]
    );
    assert_eq!(frames_to(&actions, 2), Vec::<Value>::new());
    assert_eq!(refetches(&actions), [id("pipe-1")], "graph not refreshed");

    // The refreshed graph is what `getsource` shows.
    let edited =
        r#"{"processes": {"a": {"component": "core/Repeat"}, "x": {"component": "core/Repeat"}}}"#;
    let fetched = Event::SubgraphFetched {
        participant: id("pipe-1"),
        component: "demo/Pipeline".into(),
        outcome: Ok(edited.into()),
    };
    core.handle(fetched, t(5));
    let asked = frame(
        1,
        "component",
        "getsource",
        json!({"name": "demo/Pipeline"}),
    );
    let source = frames_to(&core.handle(asked, t(6)), 1);
    assert_eq!(source[0]["payload"]["code"], edited, "{source:?}");
}

#[test]
fn an_error_from_one_participant_and_a_missing_answer_are_both_named() {
    let mut core = with_graph_participants();
    let actions = core.handle(request(1, "graph", "addnode", addnode()), t(3));
    let forward = one_forward(&actions);
    let error = json!([{"protocol": "graph", "command": "error",
                        "payload": {"message": "component core/Nope not found"}}]);
    let answers = vec![(id("pipe-1"), Ok(error))];
    let actions = core.handle(Event::Forwarded { forward, answers }, t(4));
    assert_eq!(
        frames_to(&actions, 1),
        [
            json!({"protocol": "graph", "command": "error", "responseTo": "r1", "payload": {
            "message": "graph:addnode on the graph of role pipe failed: \
                        pipe-1: component core/Nope not found; \
                        pipe-2: did not answer within 3000 ms"}})
        ]
    );
    assert_eq!(
        refetches(&actions),
        Vec::<ParticipantId>::new(),
        "none applied it"
    );
}

/// One applied the edit, one could not be called: the error says both,
/// and the graph is fetched from the one that applied it.
#[test]
fn a_partly_applied_edit_is_an_error_saying_who_applied_it() {
    let mut core = with_graph_participants();
    let payload = json!({"src": {"node": "a", "port": "out"}, "tgt": {"node": "b", "port": "in"},
                         "graph": "Pipeline"});
    let actions = core.handle(request(1, "graph", "addedge", payload.clone()), t(3));
    let forward = one_forward(&actions);
    assert_eq!(forward.message["command"], "addedge");
    let answers = vec![
        (id("pipe-1"), echo("addedge", &payload)),
        (id("pipe-2"), Err("it is no FBP runtime".into())),
    ];
    let actions = core.handle(Event::Forwarded { forward, answers }, t(4));
    let frames = frames_to(&actions, 1);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(
        frames[0]["payload"]["message"],
        "graph:addedge on the graph of role pipe failed: pipe-2: it is no FBP runtime \
         (applied by pipe-1)"
    );
    assert_eq!(refetches(&actions), [id("pipe-1")]);
}

/// An answer that is not the echo of what was sent does not count as
/// applied.
#[test]
fn an_answer_other_than_the_echo_is_named_as_such() {
    let mut core = with_graph_participants();
    let forward = one_forward(&core.handle(request(1, "graph", "addnode", addnode()), t(3)));
    let answers = vec![
        (id("pipe-1"), echo("addnode", &addnode())),
        (
            id("pipe-2"),
            echo("removenode", &json!({"id": "x", "graph": "Pipeline"})),
        ),
    ];
    let frames = frames_to(&core.handle(Event::Forwarded { forward, answers }, t(4)), 1);
    let message = frames[0]["payload"]["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with(
            "pipe-2: answered graph:removenode instead of graph:addnode (applied by pipe-1)"
        ),
        "{message}"
    );
}

#[test]
fn other_graph_commands_on_a_participants_graph_are_refused_at_once() {
    let mut core = with_graph_participants();
    for (command, payload) in [
        ("clear", json!({"id": "Pipeline"})),
        (
            "renamenode",
            json!({"from": "a", "to": "b", "graph": "Pipeline"}),
        ),
    ] {
        let actions = core.handle(request(1, "graph", command, payload), t(3));
        assert_eq!(forwards(&actions), Vec::<Forward>::new(), "{command}");
        let frames = frames_to(&actions, 1);
        assert_eq!(frames[0]["command"], "error", "{command}: {frames:?}");
        let expected = format!(
            "graph Pipeline is the graph participant pipe-1 (role pipe) runs: graph:{command} \
             cannot be applied to it while it runs (addnode, removenode, changenode, addedge, \
             removeedge, changeedge, addinitial and removeinitial can)"
        );
        assert_eq!(frames[0]["payload"]["message"], expected);
        assert_eq!(frames[0]["responseTo"], "r1");
    }
}

/// A participant that is no FBP runtime runs no graph the coordinator
/// knows: its component is no graph id, and nothing is forwarded.
#[test]
fn a_plain_participants_component_is_no_graph_to_edit() {
    let mut core = core("plain(C)", Mode::Queues, None);
    core.handle(Event::Connected(1), t(0));
    core.handle(announce("plain"), t(1));
    let payload = json!({"id": "x", "component": "core/Repeat", "graph": "C"});
    let actions = core.handle(request(1, "graph", "addnode", payload), t(2));
    assert_eq!(forwards(&actions), Vec::<Forward>::new());
    let frames = frames_to(&actions, 1);
    assert_eq!(frames[0]["command"], "error");
    let message = frames[0]["payload"]["message"].as_str().unwrap_or_default();
    assert!(
        message
            .starts_with("C is run by participant plain-1 (role plain), which is no FBP runtime"),
        "{message}"
    );
}

#[test]
fn watched_edges_go_to_every_participant_as_the_union_of_the_clients_selections() {
    let mut core = with_graph_participants();
    let asked = json!({"graph": "Pipeline", "edges": [edge("a", "b")]});
    let first = one_forward(&core.handle(request(1, "network", "edges", asked.clone()), t(3)));
    assert_eq!(first.participants, [id("pipe-1"), id("pipe-2")]);
    assert_eq!(
        first.message,
        json!({"protocol": "network", "command": "edges",
               "payload": {"graph": "Pipeline", "edges": [edge("a", "b")]}})
    );
    let theirs = json!({"graph": "Pipeline", "edges": [edge("b", "c"), edge("a", "b")]});
    let second = one_forward(&core.handle(request(2, "network", "edges", theirs), t(3)));
    assert_eq!(
        second.message["payload"]["edges"],
        json!([edge("a", "b"), edge("b", "c")])
    );
    // Acknowledged: the client's own selection is echoed.
    let acked = json!([{"protocol": "network", "command": "edges",
                        "payload": first.message["payload"].clone()}]);
    let answers = vec![(id("pipe-1"), Ok(acked.clone())), (id("pipe-2"), Ok(acked))];
    let frames = frames_to(
        &core.handle(
            Event::Forwarded {
                forward: first,
                answers,
            },
            t(4),
        ),
        1,
    );
    assert_eq!(
        frames,
        [
            json!({"protocol": "network", "command": "edges", "payload": asked,
                "responseTo": "r1"})
        ]
    );
    // Client 2 goes: the participants are told client 1's selection.
    let gone = one_forward(&core.handle(Event::Disconnected(2), t(5)));
    assert_eq!(gone.reply_to, None);
    assert_eq!(gone.message["payload"]["edges"], json!([edge("a", "b")]));
}

#[test]
fn a_selection_nobody_acknowledged_is_a_network_error() {
    let mut core = with_graph_participants();
    let asked = json!({"graph": "Pipeline", "edges": [edge("a", "b")]});
    let forward = one_forward(&core.handle(request(1, "network", "edges", asked), t(3)));
    let frames = frames_to(
        &core.handle(
            Event::Forwarded {
                forward,
                answers: Vec::new(),
            },
            t(4),
        ),
        1,
    );
    assert_eq!(
        frames,
        [
            json!({"protocol": "network", "command": "error", "responseTo": "r1", "payload": {
            "message": "network:edges on the graph of role pipe failed: \
                        pipe-1: did not answer within 3000 ms; \
                        pipe-2: did not answer within 3000 ms"}})
        ]
    );
}

#[test]
fn data_on_a_watched_edge_reaches_its_watchers_as_an_edge_of_the_roles_subgraph() {
    let mut core = with_graph_participants();
    let mine = json!({"graph": "Pipeline", "edges": [edge("a", "b")]});
    core.handle(request(1, "network", "edges", mine), t(3));
    let other = json!({"graph": "Pipeline", "edges": [edge("b", "c")]});
    core.handle(request(2, "network", "edges", other), t(3));
    let data = |a: &str, b: &str| {
        json!({"protocol": "network", "command": "data", "payload": {
            "id": format!("{a}() OUT -> IN {b}()"), "src": {"node": a, "port": "out"},
            "tgt": {"node": b, "port": "in"}, "data": {"n": 1}, "graph": "demo/Pipeline"}})
    };
    let actions = core.handle(Event::SubgraphEvent(data("a", "b")), t(4));
    assert_eq!(
        frames_to(&actions, 1),
        [
            json!({"protocol": "network", "command": "data", "payload": {
            "id": "a() OUT -> IN b()", "src": {"node": "a", "port": "out"},
            "tgt": {"node": "b", "port": "in"}, "data": {"n": 1},
            "graph": "g", "subgraph": ["pipe"]}})
        ]
    );
    assert_eq!(frames_to(&actions, 2), Vec::<Value>::new(), "not its edge");
    let group = json!({"protocol": "network", "command": "begingroup", "payload": {
        "id": "b() OUT -> IN c()", "src": {"node": "b", "port": "out"},
        "tgt": {"node": "c", "port": "in"}, "group": "g1", "graph": "Pipeline"}});
    let actions = core.handle(Event::SubgraphEvent(group), t(5));
    let told = frames_to(&actions, 2);
    assert_eq!(commands(&told), ["network:begingroup"]);
    assert_eq!(
        (
            &told[0]["payload"]["graph"],
            &told[0]["payload"]["subgraph"]
        ),
        (&json!("g"), &json!(["pipe"]))
    );
    // An edge nobody watches, a graph nobody runs: nothing.
    let nobody = core.handle(Event::SubgraphEvent(data("c", "d")), t(6));
    let mut unknown = data("a", "b");
    unknown["payload"]["graph"] = json!("elsewhere");
    let unknown = core.handle(Event::SubgraphEvent(unknown), t(6));
    assert!(
        frames_to(&nobody, 1).is_empty() && frames_to(&unknown, 1).is_empty(),
        "{nobody:?} {unknown:?}"
    );
}

/// A participant joining the role is told what the clients watch there.
#[test]
fn a_participant_joining_the_role_is_told_the_watched_edges() {
    let mut core = with_graph_participants();
    assert_eq!(
        forwards(&core.handle(runtime("pipe-0"), t(3))),
        [],
        "nothing watched yet"
    );
    let asked = json!({"graph": "Pipeline", "edges": [edge("a", "b")]});
    core.handle(request(1, "network", "edges", asked), t(4));
    let joined = one_forward(&core.handle(runtime("pipe-3"), t(5)));
    assert_eq!(joined.reply_to, None);
    assert_eq!(
        joined.participants,
        [id("pipe-0"), id("pipe-1"), id("pipe-2"), id("pipe-3")]
    );
    assert_eq!(joined.message["payload"]["edges"], json!([edge("a", "b")]));
    assert_eq!(
        forwards(&core.handle(runtime("pipe-3"), t(6))),
        [],
        "a heartbeat is no new participant"
    );
}
