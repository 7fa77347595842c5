//! `runtime:packet`, all five events, in (a client's packets become data
//! messages with their groups in the `msgflo-brackets` header) and out (a
//! tapped message's brackets become `begingroup` / `endgroup` around its
//! data). The clock is passed by hand: [`HOLD`] is crossed exactly.

use super::*;
use crate::core::packets::HOLD;

const GRAPH: &str = "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\na(C) OUT -> IN b(C)";

/// A core running [`GRAPH`] on AMQP with `a` and `b` known and every link
/// and tap applied, client 1 connected and watching.
fn watched() -> Core {
    let mut core = core(GRAPH, Mode::Queues, None);
    let mut actions = core.start(t(0));
    actions.extend(core.handle(announce("a"), t(1)));
    actions.extend(core.handle(announce("b"), t(2)));
    actions.extend(core.handle(Event::Connected(1), t(3)));
    actions.extend(core.handle(
        frame(1, "network", "getstatus", json!({"graph": "g"})),
        t(4),
    ));
    let more = all_done(&mut core, &actions, t(5));
    all_done(&mut core, &more, t(5));
    core
}

/// Client `client`'s `runtime:packet` `event` for the exported inport `in`.
fn packet(client: ClientId, event: &str, payload: Option<Value>) -> Event {
    let mut body = json!({"port": "in", "event": event, "graph": "g"});
    if let Some(payload) = payload {
        body["payload"] = payload;
    }
    frame(client, "runtime", "packet", body)
}

/// The messages sent in `actions`: (queue, payload, `msgflo-brackets` header).
fn sends(actions: &[Action]) -> Vec<(String, String, Option<String>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send {
                queue,
                payload,
                brackets,
                ..
            } => Some((
                queue.to_string(),
                String::from_utf8_lossy(payload).into_owned(),
                brackets.encode(),
            )),
            _ => None,
        })
        .collect()
}

fn sent(payload: &str, header: Option<&str>) -> (String, String, Option<String>) {
    ("a.IN".into(), payload.into(), header.map(str::to_owned))
}

/// Handles `event` for client 1 at `when`; asserts it was answered with
/// `runtime:packetsent`; returns the actions.
fn accepted(core: &mut Core, event: Event, when: Instant) -> Vec<Action> {
    let actions = core.handle(event, when);
    assert_eq!(
        commands(&frames_to(&actions, 1)),
        ["runtime:packetsent"],
        "{actions:?}"
    );
    actions
}

#[test]
fn connect_and_disconnect_are_answered_and_never_sent_as_data() {
    let mut core = watched();
    for event in ["connect", "disconnect"] {
        let actions = accepted(&mut core, packet(1, event, None), t(10));
        assert_eq!(sends(&actions), [], "{event} is not data");
    }
    assert_eq!(core.packets.deadline(), None, "nothing is held");
}

#[test]
fn data_outside_any_group_goes_out_at_once_without_a_header() {
    let mut core = watched();
    accepted(&mut core, packet(1, "connect", None), t(10));
    let data = accepted(&mut core, packet(1, "data", Some(json!({"x": 1}))), t(11));
    assert_eq!(sends(&data), [sent(r#"{"x":1}"#, None)]);
    let empty = accepted(&mut core, packet(1, "data", None), t(12));
    assert_eq!(sends(&empty), [sent("null", None)], "no payload: null data");
}

#[test]
fn a_group_rides_before_its_first_data_and_the_endgroup_after_its_last() {
    let mut core = watched();
    let mut actions = Vec::new();
    for (i, (event, payload)) in [
        ("connect", None),
        ("begingroup", Some(json!("g"))),
        ("data", Some(json!(1))),
        ("data", Some(json!(2))),
        ("endgroup", Some(json!("g"))),
        ("disconnect", None),
    ]
    .into_iter()
    .enumerate()
    {
        actions.extend(accepted(
            &mut core,
            packet(1, event, payload),
            t(10 + i as u64),
        ));
    }
    assert_eq!(
        sends(&actions),
        [
            sent("1", Some(r#"{"before":[{"open":"g"}]}"#)),
            sent("2", Some(r#"{"after":[{"close":"g"}]}"#)),
        ],
        "two data messages, the group around them, nothing else"
    );
    assert_eq!(core.packets.deadline(), None, "nothing left held");
}

#[test]
fn data_inside_a_group_is_held_until_the_endgroup_that_closes_the_last_group() {
    let mut core = watched();
    accepted(
        &mut core,
        packet(1, "begingroup", Some(json!("outer"))),
        t(10),
    );
    accepted(&mut core, packet(1, "begingroup", None), t(11));
    let held = accepted(&mut core, packet(1, "data", Some(json!("x"))), t(12));
    assert_eq!(sends(&held), [], "an endgroup may follow");
    assert_eq!(core.packets.deadline(), Some(t(12) + HOLD));
    let inner = accepted(&mut core, packet(1, "endgroup", None), t(13));
    assert_eq!(sends(&inner), [], "a group is still open");
    let outer = accepted(
        &mut core,
        packet(1, "endgroup", Some(json!("outer"))),
        t(14),
    );
    assert_eq!(
        sends(&outer),
        [sent(
            "\"x\"",
            Some(
                r#"{"before":[{"open":"outer"},{"open":null}],"after":[{"close":null},{"close":"outer"}]}"#
            )
        )]
    );
}

#[test]
fn held_data_goes_out_after_hold_and_a_late_endgroup_rides_on_the_next_data() {
    let mut core = watched();
    accepted(&mut core, packet(1, "begingroup", Some(json!("g"))), t(10));
    accepted(&mut core, packet(1, "data", Some(json!(1))), t(11));
    let due = t(11) + HOLD;
    assert_eq!(core.next_deadline(), Some(due));
    let early = core.handle(Event::Tick, due - Duration::from_millis(1));
    assert_eq!(sends(&early), [], "not yet");
    let on_time = core.handle(Event::Tick, due);
    assert_eq!(
        sends(&on_time),
        [sent("1", Some(r#"{"before":[{"open":"g"}]}"#))]
    );
    assert_eq!(core.packets.deadline(), None);
    let late = accepted(&mut core, packet(1, "endgroup", Some(json!("g"))), t(500));
    assert_eq!(sends(&late), [], "no data to ride on yet");
    let next = accepted(&mut core, packet(1, "data", Some(json!(2))), t(501));
    assert_eq!(
        sends(&next),
        [sent("2", Some(r#"{"before":[{"close":"g"}]}"#))],
        "outside any group again: sent at once, the close before it"
    );
}

#[test]
fn disconnect_connect_or_the_client_going_away_sends_the_held_data() {
    let mut core = watched();
    accepted(&mut core, packet(1, "begingroup", Some(json!("g"))), t(10));
    accepted(&mut core, packet(1, "data", Some(json!(1))), t(11));
    let disconnect = accepted(&mut core, packet(1, "disconnect", None), t(12));
    assert_eq!(
        sends(&disconnect),
        [sent("1", Some(r#"{"before":[{"open":"g"}]}"#))]
    );
    accepted(&mut core, packet(1, "data", Some(json!(2))), t(13));
    let connect = accepted(&mut core, packet(1, "connect", None), t(14));
    assert_eq!(sends(&connect), [sent("2", None)], "a new stream begins");
    accepted(&mut core, packet(1, "data", Some(json!(3))), t(15));
    let gone = core.handle(Event::Disconnected(1), t(16));
    assert_eq!(sends(&gone), [sent("3", None)], "the group g is still open");
    assert_eq!(core.packets.deadline(), None);
}

#[test]
fn the_next_begingroup_or_data_sends_the_held_data_first() {
    let mut core = watched();
    accepted(&mut core, packet(1, "begingroup", Some(json!("a"))), t(10));
    accepted(&mut core, packet(1, "data", Some(json!(1))), t(11));
    let open = accepted(&mut core, packet(1, "begingroup", Some(json!("b"))), t(12));
    assert_eq!(
        sends(&open),
        [sent("1", Some(r#"{"before":[{"open":"a"}]}"#))]
    );
    let data = accepted(&mut core, packet(1, "data", Some(json!(2))), t(13));
    assert_eq!(sends(&data), [], "held: groups a and b are open");
    let next = accepted(&mut core, packet(1, "data", Some(json!(3))), t(14));
    assert_eq!(
        sends(&next),
        [sent("2", Some(r#"{"before":[{"open":"b"}]}"#))]
    );
}

#[test]
fn each_clients_groups_stay_its_own() {
    let mut core = watched();
    core.handle(Event::Connected(2), t(10));
    accepted(
        &mut core,
        packet(1, "begingroup", Some(json!("one"))),
        t(11),
    );
    let other = core.handle(packet(2, "data", Some(json!("two"))), t(12));
    assert_eq!(
        sends(&other),
        [sent("\"two\"", None)],
        "client 1's group is not on client 2's data"
    );
}

#[test]
fn a_group_name_that_is_not_a_string_is_refused_and_changes_nothing() {
    let mut core = watched();
    let refused = core.handle(packet(1, "begingroup", Some(json!({"n": 1}))), t(10));
    let frames = frames_to(&refused, 1);
    assert_eq!(commands(&frames), ["runtime:error"]);
    assert!(
        frames[0]["payload"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("begingroup")),
        "{frames:?}"
    );
    let data = accepted(&mut core, packet(1, "data", Some(json!(1))), t(11));
    assert_eq!(sends(&data), [sent("1", None)], "no group was opened");
}

#[test]
fn a_packet_for_an_unknown_port_is_refused_whatever_its_event() {
    let mut core = watched();
    for event in ["connect", "begingroup", "data", "endgroup", "disconnect"] {
        let body = json!({"port": "NOPE", "event": event, "graph": "g"});
        let actions = core.handle(frame(1, "runtime", "packet", body), t(10));
        assert_eq!(commands(&frames_to(&actions, 1)), ["runtime:error"]);
        assert_eq!(sends(&actions), []);
    }
}

/// A tapped copy of `queue`'s message `payload` with `header` as its
/// `msgflo-brackets` header.
fn tapped(queue: &str, payload: &'static str, header: Option<&str>) -> Event {
    Event::Tapped {
        queue: QueueName::new(queue).unwrap(),
        payload: Bytes::from_static(payload.as_bytes()),
        brackets: header.map_or_else(Framing::default, |h| Framing::decode(h).unwrap()),
    }
}

/// Each frame as `command event-or-group payload`, for comparing in order.
fn told(actions: &[Action]) -> Vec<String> {
    frames_to(actions, 1)
        .iter()
        .map(|f| {
            let p = &f["payload"];
            match f["command"].as_str().unwrap_or("") {
                "packet" => format!("packet {} {} {}", p["port"], p["event"], p["payload"]),
                "data" => format!("data {} {}", p["id"], p["data"]),
                command => format!("{command} {} {}", p["id"], p["group"]),
            }
        })
        .collect()
}

#[test]
fn brackets_of_an_exported_outports_message_come_as_begingroup_and_endgroup_around_its_data() {
    let mut core = watched();
    let actions = core.handle(
        tapped(
            "b.OUT",
            "42",
            Some(
                r#"{"before":[{"open":"g"},{"open":null}],"after":[{"close":null},{"close":"g"}]}"#,
            ),
        ),
        t(10),
    );
    assert_eq!(
        told(&actions),
        [
            r#"packet "out" "begingroup" "g""#,
            r#"packet "out" "begingroup" null"#,
            r#"packet "out" "data" 42"#,
            r#"packet "out" "endgroup" null"#,
            r#"packet "out" "endgroup" "g""#,
        ]
    );
    let plain = core.handle(tapped("b.OUT", "43", None), t(11));
    assert_eq!(told(&plain), [r#"packet "out" "data" 43"#], "no brackets");
}

#[test]
fn a_close_before_the_data_comes_as_endgroup_before_it() {
    let mut core = watched();
    let actions = core.handle(
        tapped(
            "b.OUT",
            "1",
            Some(r#"{"before":[{"close":"old"},{"open":"new"}]}"#),
        ),
        t(10),
    );
    assert_eq!(
        told(&actions),
        [
            r#"packet "out" "endgroup" "old""#,
            r#"packet "out" "begingroup" "new""#,
            r#"packet "out" "data" 1"#,
        ]
    );
}

#[test]
fn brackets_on_an_edge_come_as_network_begingroup_and_endgroup() {
    let mut core = watched();
    let actions = core.handle(
        tapped(
            "a.OUT",
            "\"x\"",
            Some(r#"{"before":[{"open":"g"}],"after":[{"close":null}]}"#),
        ),
        t(10),
    );
    assert_eq!(
        told(&actions),
        [
            r#"begingroup "a() OUT -> IN b()" "g""#,
            r#"data "a() OUT -> IN b()" "x""#,
            r#"endgroup "a() OUT -> IN b()" """#,
        ]
    );
}

#[test]
fn a_refused_packet_is_answered_with_why_in_words() {
    let mut core = watched();
    let mut refusal = |body: Value| {
        let actions = core.handle(frame(1, "runtime", "packet", body), t(10));
        let frames = frames_to(&actions, 1);
        frames[0]["payload"]["message"].as_str().map(str::to_owned)
    };
    assert_eq!(
        refusal(json!({"port": "in", "event": "data", "graph": "nope"})).as_deref(),
        Some("Requested graph not found: \"nope\"")
    );
    assert_eq!(
        refusal(json!({"port": "NOPE", "event": "data", "graph": "g"})).as_deref(),
        Some("the graph has no inport \"NOPE\"")
    );
    assert_eq!(
        refusal(json!({"port": "in", "event": "endgroup", "graph": "g", "payload": [1]}))
            .as_deref(),
        Some("a endgroup payload is the group's name, a string or null; got [1]")
    );
}
