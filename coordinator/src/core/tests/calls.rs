//! `msgflo:call`: the core picks whom to call (a role, given ids, or every
//! participant), hands the call to the executor, and passes each answer and
//! the end on to the client that asked, with its `requestId`.

use super::*;

/// A core knowing participants `a-1`, `b-1`, with client 1 connected.
fn with_participants() -> Core {
    let mut core = core("a(C) OUT -> IN b(C)", Mode::Queues, None);
    core.handle(announce("a"), t(0));
    core.handle(announce("b"), t(1));
    core.handle(Event::Connected(1), t(2));
    core
}

fn call(payload: Value) -> Event {
    let text = json!({"protocol": "msgflo", "command": "call", "payload": payload,
                      "requestId": "r7"});
    Event::Frame(1, text.to_string())
}

fn id(text: &str) -> msgflo_protocol::ids::ParticipantId {
    msgflo_protocol::ids::ParticipantId::new(text).expect("id")
}

#[test]
fn a_call_for_a_role_calls_its_participants_only() {
    let mut core = with_participants();
    let actions = core.handle(
        call(json!({"call": "health", "role": "b", "timeout": 500})),
        t(3),
    );
    assert_eq!(
        actions,
        [Action::Call(Call {
            client: 1,
            request_id: Some("r7".into()),
            call: "health".into(),
            args: Value::Null,
            participants: vec![id("b-1")],
            timeout: Duration::from_millis(500),
        })]
    );
}

#[test]
fn without_a_role_every_participant_is_called_with_the_default_timeout() {
    let mut core = with_participants();
    let actions = core.handle(call(json!({"call": "reload", "args": {"x": 1}})), t(3));
    let [Action::Call(Call {
        participants,
        timeout,
        args,
        ..
    })] = &actions[..]
    else {
        panic!("{actions:?}")
    };
    let mut called = participants.clone();
    called.sort();
    assert_eq!(called, [id("a-1"), id("b-1")]);
    assert_eq!(
        (*timeout, args),
        (Duration::from_millis(2000), &json!({"x": 1}))
    );
}

#[test]
fn nobody_to_call_or_a_bad_payload_is_an_error_naming_it() {
    let mut core = with_participants();
    let cases = [
        (
            json!({"call": "health", "role": "nope"}),
            "msgflo:call: no participant of role nope to call",
        ),
        (json!({"role": "a"}), "msgflo:call: missing field `call`"),
        (
            json!({"call": "health", "timeout": 0}),
            "msgflo:call: timeout 0 ms: from 1 to 60000",
        ),
        (
            json!({"call": "health", "who": 1}),
            "msgflo:call: unknown field `who`",
        ),
    ];
    for (payload, expected) in cases {
        let actions = core.handle(call(payload), t(3));
        let frames = frames_to(&actions, 1);
        assert_eq!(frames.len(), 1, "{actions:?}");
        assert_eq!(frames[0]["command"], "error");
        assert_eq!(frames[0]["responseTo"], "r7");
        let message = frames[0]["payload"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(expected), "{message}");
    }
}

#[test]
fn answers_and_the_end_go_to_the_client_that_asked() {
    let mut core = with_participants();
    let answered = Event::CallAnswer {
        client: 1,
        request_id: Some("r7".into()),
        participant: id("a-1"),
        outcome: Ok(json!({"uptime_ms": 5})),
    };
    let failed = Event::CallAnswer {
        client: 1,
        request_id: Some("r7".into()),
        participant: id("b-1"),
        outcome: Err("unknown call \"x\"".into()),
    };
    let done = Event::CallDone {
        client: 1,
        request_id: Some("r7".into()),
        missing: vec![id("c-1")],
    };
    let mut frames = Vec::new();
    for event in [answered, failed, done] {
        frames.extend(frames_to(&core.handle(event, t(4)), 1));
    }
    assert_eq!(
        frames,
        [
            json!({"protocol": "msgflo", "command": "callresult", "responseTo": "r7",
                   "payload": {"participant": "a-1", "result": {"uptime_ms": 5}}}),
            json!({"protocol": "msgflo", "command": "callresult", "responseTo": "r7",
                   "payload": {"participant": "b-1", "error": "unknown call \"x\""}}),
            json!({"protocol": "msgflo", "command": "calldone", "responseTo": "r7",
                   "payload": {"missing": ["c-1"]}}),
        ]
    );
}
