//! A graph participant joining a role after its graph was edited live:
//! compared with the role's graph, given the role's applied edits one at a
//! time (each after the previous was acknowledged) when it differs, then
//! fetched again; a failing replay is reported; a client's edit meanwhile
//! waits until the replay is over; a joiner that goes meanwhile, or a role
//! whose log overflowed, is handled.

use super::forward::{
    addnode, echo, forwards, id, one_forward, refetches, request, runtime, with_graph_participants,
    CODE,
};
use super::*;
use crate::core::forward::{Forward, ForwardKind, FORWARD_TIMEOUT};

/// The role's graph after [`addnode`] and [`addedge`].
const EDITED: &str = r#"{"processes": {"a": {"component": "core/Repeat"},
    "x": {"component": "core/Repeat"}},
    "connections": [{"src": {"process": "a", "port": "out"}, "tgt": {"process": "x", "port": "in"}}]}"#;

fn addedge() -> Value {
    json!({"src": {"node": "a", "port": "out"}, "tgt": {"node": "x", "port": "in"},
           "graph": "Pipeline"})
}

fn edit(command: &str, payload: Value) -> Value {
    json!({"protocol": "graph", "command": command, "payload": payload})
}

fn fetched(participant: &str, code: &str) -> Event {
    Event::SubgraphFetched {
        participant: id(participant),
        component: "demo/Pipeline".into(),
        outcome: Ok(code.into()),
    }
}

/// `forward` acknowledged by each of its participants.
fn acked(forward: Forward) -> Event {
    let (command, payload) = (
        forward.message["command"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        forward.message["payload"].clone(),
    );
    let answers = forward
        .participants
        .iter()
        .map(|p| (p.clone(), echo(&command, &payload)))
        .collect();
    Event::Forwarded { forward, answers }
}

/// Graph participants `pipe-1` and `pipe-2` after two edits both applied
/// (node `x`, edge `a -> x`), the role's graph fetched again: [`EDITED`].
fn edited() -> Core {
    let mut core = with_graph_participants();
    for (command, payload) in [("addnode", addnode()), ("addedge", addedge())] {
        let forward = one_forward(&core.handle(request(1, "graph", command, payload), t(10)));
        assert_eq!(
            refetches(&core.handle(acked(forward), t(11))),
            [id("pipe-1")]
        );
        core.handle(fetched("pipe-1", EDITED), t(12));
    }
    core
}

/// The replay of the log's edit `step` to `pipe-3`.
fn replay_of(step: usize, message: Value) -> Forward {
    Forward {
        reply_to: None,
        role: "pipe".into(),
        participants: vec![id("pipe-3")],
        message,
        timeout: FORWARD_TIMEOUT,
        kind: ForwardKind::Replay { step },
    }
}

#[test]
fn a_late_joiner_running_its_files_graph_gets_the_edits_in_order_then_is_fetched_again() {
    let mut core = edited();
    let joined = core.handle(runtime("pipe-3"), t(20));
    assert_eq!(
        refetches(&joined),
        [id("pipe-3")],
        "its graph not asked for"
    );
    assert_eq!(forwards(&joined), []);

    let first = one_forward(&core.handle(fetched("pipe-3", CODE), t(21)));
    assert_eq!(first, replay_of(0, edit("addnode", addnode())));
    let actions = core.handle(acked(first), t(22));
    let second = one_forward(&actions);
    assert_eq!(second, replay_of(1, edit("addedge", addedge())));
    assert_eq!(refetches(&actions), [], "fetched before the replay ended");

    let actions = core.handle(acked(second), t(23));
    assert_eq!(
        (forwards(&actions), refetches(&actions)),
        (vec![], vec![id("pipe-3")])
    );
    let moved = EDITED.replace(
        r#""x": {"component": "core/Repeat"}"#,
        r#""x": {"component": "core/Repeat", "metadata": {"x": 40, "y": 2}}"#,
    );
    let actions = core.handle(fetched("pipe-3", &moved), t(24));
    assert_eq!(
        frames_to(&actions, 1),
        Vec::<Value>::new(),
        "nothing to report"
    );

    // Up to date: the next edit goes to all three at once.
    let next = core.handle(
        request(
            1,
            "graph",
            "removenode",
            json!({"id": "x", "graph": "Pipeline"}),
        ),
        t(25),
    );
    assert_eq!(
        one_forward(&next).participants,
        [id("pipe-1"), id("pipe-2"), id("pipe-3")]
    );
}

#[test]
fn a_late_joiner_already_running_the_edited_graph_gets_nothing() {
    let mut core = edited();
    core.handle(runtime("pipe-3"), t(20));
    let saved = EDITED.replace(
        r#""core/Repeat"},"#,
        r#""core/Repeat", "metadata": {"x": 1}},"#,
    );
    let actions = core.handle(fetched("pipe-3", &saved), t(21));
    assert_eq!(
        (
            forwards(&actions),
            refetches(&actions),
            frames_to(&actions, 1)
        ),
        (vec![], vec![], vec![])
    );
}

#[test]
fn a_graph_nobody_edited_is_not_compared() {
    let mut core = with_graph_participants();
    let joined = core.handle(runtime("pipe-3"), t(20));
    assert_eq!((refetches(&joined), forwards(&joined)), (vec![], vec![]));
}

#[test]
fn a_refused_replayed_edit_stops_the_replay_and_every_client_is_told() {
    let mut core = edited();
    core.handle(runtime("pipe-3"), t(20));
    let first = one_forward(&core.handle(fetched("pipe-3", CODE), t(21)));
    let refused = json!([{"protocol": "graph", "command": "error",
                          "payload": {"message": "component core/Repeat not found"}}]);
    let answers = vec![(id("pipe-3"), Ok(refused))];
    let actions = core.handle(
        Event::Forwarded {
            forward: first,
            answers,
        },
        t(22),
    );
    assert_eq!(
        (forwards(&actions), refetches(&actions)),
        (vec![], vec![]),
        "went on"
    );
    let message = format!(
        "participant pipe-3 of role pipe runs an older graph than the role: it was not \
         brought up to date with the role's live edits: live edit 1 of 2 ({}) failed: \
         pipe-3: component core/Repeat not found",
        edit("addnode", addnode())
    );
    for client in [1, 2] {
        assert_eq!(
            frames_to(&actions, client),
            [json!({"protocol": "network", "command": "error", "payload": {"message": message}})]
        );
    }
}

#[test]
fn an_unanswered_replayed_edit_stops_the_replay_too() {
    let mut core = edited();
    core.handle(runtime("pipe-3"), t(20));
    let first = one_forward(&core.handle(fetched("pipe-3", CODE), t(21)));
    let no_answer = Event::Forwarded {
        forward: first,
        answers: Vec::new(),
    };
    let told = frames_to(&core.handle(no_answer, t(22)), 1);
    let message = told[0]["payload"]["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with("pipe-3: did not answer within 3000 ms"),
        "{message}"
    );
}

#[test]
fn a_client_edit_during_a_replay_waits_for_its_end_then_goes_to_every_participant() {
    let mut core = edited();
    core.handle(runtime("pipe-3"), t(20));
    let first = one_forward(&core.handle(fetched("pipe-3", CODE), t(21)));
    let remove = json!({"id": "x", "graph": "Pipeline"});
    let held = core.handle(request(2, "graph", "removenode", remove.clone()), t(22));
    assert_eq!(
        (forwards(&held), frames_to(&held, 2)),
        (vec![], vec![]),
        "not held"
    );

    let second = one_forward(&core.handle(acked(first), t(23)));
    assert_eq!(second.kind, ForwardKind::Replay { step: 1 }, "interleaved");
    core.handle(acked(second), t(24));
    let released = one_forward(&core.handle(fetched("pipe-3", EDITED), t(25)));
    assert_eq!(released.reply_to, Some((2, Some("r1".into()))));
    assert_eq!(
        released.participants,
        [id("pipe-1"), id("pipe-2"), id("pipe-3")]
    );
    assert_eq!(released.message, edit("removenode", remove.clone()));
    let answered = core.handle(acked(released), t(26));
    assert_eq!(
        frames_to(&answered, 2),
        [
            json!({"protocol": "graph", "command": "removenode", "payload": remove,
                "responseTo": "r1"})
        ]
    );
}

/// An edit in flight when the participant joins may yet be logged: its
/// graph is compared only once the edit was answered and the role's graph
/// fetched again.
#[test]
fn a_late_joiner_waits_for_the_edit_in_flight_and_the_refetch() {
    let mut core = with_graph_participants();
    let forward = one_forward(&core.handle(request(1, "graph", "addnode", addnode()), t(10)));
    assert_eq!(refetches(&core.handle(runtime("pipe-3"), t(11))), []);
    assert_eq!(
        refetches(&core.handle(acked(forward), t(12))),
        [id("pipe-1")]
    );
    let after = core.handle(fetched("pipe-1", EDITED), t(13));
    assert_eq!(refetches(&after), [id("pipe-3")]);
    let replayed = one_forward(&core.handle(fetched("pipe-3", CODE), t(14)));
    assert_eq!(replayed, replay_of(0, edit("addnode", addnode())));
}

/// A participant that expires while its graph is being compared: its
/// graph, when it comes, is not taken for the role's.
#[test]
fn the_graph_of_a_joiner_gone_meanwhile_is_dropped() {
    let mut core = edited();
    core.handle(runtime("pipe-3"), t(20));
    core.handle(Event::Tick, t(20 + 601_000));
    let actions = core.handle(fetched("pipe-3", CODE), t(20 + 602_000));
    assert_eq!((forwards(&actions), refetches(&actions)), (vec![], vec![]));
    let asked = frame(
        1,
        "component",
        "getsource",
        json!({"name": "demo/Pipeline"}),
    );
    let source = frames_to(&core.handle(asked, t(20 + 603_000)), 1);
    assert_eq!(source[0]["payload"]["code"], EDITED, "{source:?}");
}

/// Past [`EDIT_LOG_LIMIT`] edits the log is dropped: a joiner whose graph
/// differs is reported, not replayed to.
#[test]
fn a_role_with_more_edits_than_the_log_keeps_reports_a_differing_joiner() {
    let mut core = with_graph_participants();
    let change = json!({"id": "a", "metadata": {"x": 1}, "graph": "Pipeline"});
    for _ in 0..=crate::core::EDIT_LOG_LIMIT {
        let asked = core.handle(request(1, "graph", "changenode", change.clone()), t(10));
        core.handle(acked(one_forward(&asked)), t(11));
    }
    core.handle(fetched("pipe-1", CODE), t(12));
    core.handle(runtime("pipe-3"), t(20));
    let other = r#"{"processes": {"z": {"component": "core/Repeat"}}}"#;
    let actions = core.handle(fetched("pipe-3", other), t(21));
    assert_eq!(forwards(&actions), []);
    let told = frames_to(&actions, 1);
    let message = told[0]["payload"]["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with("more than 4096 live edits: they are no longer kept for replaying"),
        "{message}"
    );
}
