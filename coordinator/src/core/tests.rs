//! The core on its own: events in, actions out, the clock passed by hand.
//! Each test says in its name what it proves.

use super::*;
use crate::fbp::graph_edit::Graphs;
use serde_json::{json, Value};

mod calls;
mod forward;
mod packets;
mod registry_limits;
mod replay;
mod restarts;
mod rights;
mod subgraphs;
mod view;

const T0_SECS: u64 = 0;

fn t(millis: u64) -> Instant {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(Instant::now) + Duration::from_millis(T0_SECS * 1000 + millis)
}

fn config(secret: Option<&str>) -> Config {
    Config {
        secret: secret.map(str::to_owned),
        tokens: None,
        runtime_id: "rt".into(),
        graph_id: "g".into(),
        participant_timeout: Duration::from_secs(600),
        auto_save: None,
        ignore: Vec::new(),
        wait_timeout: Duration::from_secs(5),
        try_it: None,
        limits: Default::default(),
    }
}

/// A core with graph `g` = `fbp`, nothing in the library.
fn core(fbp: &str, mode: Mode, secret: Option<&str>) -> Core {
    let graph = msgflo_protocol::dsl::parse(fbp).expect("graph");
    Core::new(
        config(secret),
        mode,
        Graphs::with_main("g", graph),
        Library::empty(),
    )
}

/// A discovery message of participant `role`-1 with ports `in`/`out`.
fn announce(role: &str) -> Event {
    let message = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": format!("{role}-1"), "role": role, "component": "C",
        "inports": [{"id": "in", "queue": format!("{role}.IN")}],
        "outports": [{"id": "out", "queue": format!("{role}.OUT")}]}});
    discovery(&message)
}

/// A discovery message as the feed passes it on (not stamped: no age).
fn discovery(message: &Value) -> Event {
    Event::Discovery {
        payload: message.to_string().into(),
        age: None,
    }
}

fn frame(client: ClientId, protocol: &str, command: &str, payload: Value) -> Event {
    let text = json!({"protocol": protocol, "command": command, "payload": payload});
    Event::Frame(client, text.to_string())
}

/// The frames in `actions` for `client` (answers and the rest), as JSON.
fn frames_to(actions: &[Action], client: ClientId) -> Vec<Value> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Answer { client: c, text } | Action::Tell { client: c, text }
                if *c == client =>
            {
                serde_json::from_str(text).ok()
            }
            _ => None,
        })
        .collect()
}

fn commands(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["protocol"].as_str().unwrap_or(""),
                f["command"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// The link operations in `actions`: (op, link).
fn links(actions: &[Action]) -> Vec<(OpId, Link)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Link { op, link, .. } => Some((*op, link.clone())),
            _ => None,
        })
        .collect()
}

fn taps(actions: &[Action]) -> Vec<(OpId, String, bool)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Tap { op, queue } => Some((*op, queue.to_string(), true)),
            Action::Untap { op, queue } => Some((*op, queue.to_string(), false)),
            _ => None,
        })
        .collect()
}

/// Reports every link and tap operation in `actions` as done.
fn all_done(core: &mut Core, actions: &[Action], now: Instant) -> Vec<Action> {
    let mut more = Vec::new();
    for action in actions {
        let op = match action {
            Action::Link { op, .. }
            | Action::Unlink { op, .. }
            | Action::Tap { op, .. }
            | Action::Untap { op, .. } => *op,
            _ => continue,
        };
        more.extend(core.handle(Event::Done { op, result: Ok(()) }, now));
    }
    more
}

/// A started network a -> b on AMQP, both participants known, every link
/// applied.
fn running() -> Core {
    let mut core = core("a(C) OUT -> IN b(C)", Mode::Queues, None);
    let mut actions = core.start(t(0));
    actions.extend(core.handle(announce("a"), t(1)));
    actions.extend(core.handle(announce("b"), t(2)));
    all_done(&mut core, &actions, t(3));
    core
}

#[test]
fn a_graph_change_is_answered_at_once_and_its_binding_follows_as_an_action() {
    let mut core = running();
    let actions = core.handle(
        frame(1, "graph", "addedge", json!({"src": {"node": "b", "port": "out"}, "tgt": {"node": "a", "port": "in"}, "graph": "g"})),
        t(10),
    );
    assert_eq!(commands(&frames_to(&actions, 1)), ["graph:addedge"]);
    let made = links(&actions);
    assert_eq!(made.len(), 1, "{actions:?}");
    assert_eq!(
        made[0].1,
        Link::Bind {
            outport: QueueName::new("b.OUT").unwrap(),
            inport: QueueName::new("a.IN").unwrap()
        }
    );
}

#[test]
fn a_failed_link_is_tried_again_after_a_growing_pause() {
    let mut core = core("a(C) OUT -> IN b(C)", Mode::Queues, None);
    let mut actions = core.start(t(0));
    actions.extend(core.handle(announce("a"), t(1)));
    actions.extend(core.handle(announce("b"), t(2)));
    let first = links(&actions);
    assert_eq!(first.len(), 1, "{actions:?}");
    let failed = Event::Done {
        op: first[0].0,
        result: Err(OpError::Transport(msgflo_transport::TransportError::Closed)),
    };
    assert!(links(&core.handle(failed, t(3))).is_empty(), "not at once");
    assert_eq!(core.links.next_retry(), Some(t(503)));
    assert!(core.next_deadline().is_some_and(|d| d <= t(503)));
    assert!(
        links(&core.handle(Event::Tick, t(400))).is_empty(),
        "not early"
    );
    let again = links(&core.handle(Event::Tick, t(503)));
    assert_eq!(again.len(), 1, "retried when due");
    let failed = Event::Done {
        op: again[0].0,
        result: Err(OpError::NoAnswer {
            within: Duration::from_secs(15),
        }),
    };
    core.handle(failed, t(504));
    assert_eq!(core.links.next_retry(), Some(t(1504)), "the pause doubles");
}

#[test]
fn network_started_waits_for_the_bindings_then_the_iips_go_out() {
    let mut core = core("'x' -> IN a(C) OUT -> IN b(C)", Mode::Queues, None);
    core.handle(Event::Connected(1), t(0));
    core.handle(announce("a"), t(1));
    core.handle(announce("b"), t(2));
    let started = core.handle(frame(1, "network", "start", json!({"graph": "g"})), t(3));
    assert!(
        !commands(&frames_to(&started, 1)).contains(&"network:started".to_owned()),
        "not before the binding"
    );
    assert!(
        !started.iter().any(|a| matches!(a, Action::Send { .. })),
        "IIPs wait"
    );
    let ready = all_done(&mut core, &started, t(4));
    let said = commands(&frames_to(&ready, 1));
    assert_eq!(
        said.first().map(String::as_str),
        Some("network:started"),
        "{said:?}"
    );
    assert!(
        said.contains(&"network:data".to_owned()),
        "the IIP shown: {said:?}"
    );
    assert!(ready
        .iter()
        .any(|a| matches!(a, Action::Send { queue, .. } if queue.as_str() == "a.IN")));
}

#[test]
fn network_started_comes_in_time_with_what_is_not_bound_yet() {
    let mut core = core("a(C) OUT -> IN b(C)", Mode::Queues, None);
    core.handle(Event::Connected(1), t(0));
    core.handle(announce("a"), t(1));
    core.handle(announce("b"), t(2));
    core.handle(frame(1, "network", "start", json!({"graph": "g"})), t(3));
    assert_eq!(core.next_deadline(), Some(t(3) + network::READY_WAIT));
    let late = core.handle(Event::Tick, t(3) + network::READY_WAIT);
    let said = frames_to(&late, 1);
    assert_eq!(commands(&said)[..2], ["network:started", "network:output"]);
    assert!(
        said[1]["payload"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("binding a.OUT -> b.IN")),
        "{said:?}"
    );
}

#[test]
fn taps_exist_only_while_a_trusted_client_watches() {
    let mut core = core(
        "a(C) OUT -> IN b(C)\nb OUT -> IN c(C)",
        Mode::Queues,
        Some("s"),
    );
    let mut actions = core.start(t(0));
    for role in ["a", "b", "c"] {
        actions.extend(core.handle(announce(role), t(1)));
    }
    all_done(&mut core, &actions, t(2));
    assert!(taps(&actions).is_empty(), "nobody watches");
    core.handle(Event::Connected(7), t(3));
    let refused = core.handle(
        frame(7, "network", "getstatus", json!({"graph": "g"})),
        t(4),
    );
    assert!(taps(&refused).is_empty(), "not without the secret");
    let trusted = core.handle(
        frame(
            7,
            "network",
            "getstatus",
            json!({"graph": "g", "secret": "s"}),
        ),
        t(5),
    );
    let mut tapped: Vec<String> = taps(&trusted).into_iter().map(|(_, q, _)| q).collect();
    tapped.sort();
    assert_eq!(tapped, ["a.OUT", "b.OUT"]);
    all_done(&mut core, &trusted, t(6));
    let narrowed = core.handle(
        frame(
            7,
            "network",
            "edges",
            json!({"graph": "g", "secret": "s",
            "edges": [{"src": {"node": "b", "port": "out"}, "tgt": {"node": "c", "port": "in"}}]}),
        ),
        t(7),
    );
    assert_eq!(
        taps(&narrowed)
            .into_iter()
            .map(|(_, q, on)| (q, on))
            .collect::<Vec<_>>(),
        [("a.OUT".to_owned(), false)]
    );
    all_done(&mut core, &narrowed, t(8));
    let gone = core.handle(Event::Disconnected(7), t(9));
    assert_eq!(
        taps(&gone)
            .into_iter()
            .map(|(_, q, on)| (q, on))
            .collect::<Vec<_>>(),
        [("b.OUT".to_owned(), false)]
    );
}

#[test]
fn copies_of_a_queue_nobody_watches_are_dropped() {
    let mut core = running();
    core.handle(Event::Connected(1), t(10));
    let watching = core.handle(
        frame(1, "network", "getstatus", json!({"graph": "g"})),
        t(11),
    );
    all_done(&mut core, &watching, t(12));
    let copy = |core: &mut Core, when| {
        let event = Event::Tapped {
            queue: QueueName::new("a.OUT").unwrap(),
            payload: Bytes::from_static(b"\"hi\""),
            brackets: Framing::default(),
        };
        commands(&frames_to(&core.handle(event, when), 1))
    };
    assert_eq!(copy(&mut core, t(13)), ["network:data"]);
    let stopped = core.handle(frame(1, "network", "stop", json!({"graph": "g"})), t(14));
    all_done(&mut core, &stopped, t(15));
    assert!(copy(&mut core, t(16)).is_empty(), "stopped: nothing shown");
}

#[test]
fn a_heartbeat_says_a_participants_connectinport_again() {
    let mut core = core("a(C) OUT -> IN b(C)", Mode::Participants, None);
    let mut actions = core.start(t(0));
    actions.extend(core.handle(announce("a"), t(1)));
    actions.extend(core.handle(announce("b"), t(2)));
    all_done(&mut core, &actions, t(3));
    let again = core.handle(announce("b"), t(30_000));
    let refreshed: Vec<&Action> = again
        .iter()
        .filter(|a| matches!(a, Action::Refresh { link: Link::ConnectInport { participant, .. }, .. } if participant.as_str() == "b-1"))
        .collect();
    assert_eq!(refreshed.len(), 1, "{again:?}");
    assert!(
        core.handle(announce("a"), t(30_001)).is_empty(),
        "a takes no links"
    );
}

#[test]
fn after_a_reconnect_every_link_is_made_again() {
    let mut core = running();
    let again = core.handle(Event::Reconnected, t(20));
    assert_eq!(links(&again).len(), 1);
}

#[test]
fn every_frame_is_answered_also_garbage() {
    let mut core = running();
    core.handle(Event::Connected(3), t(10));
    for text in [
        "",
        "{",
        "[]",
        "{\"protocol\":\"graph\"}",
        "{\"protocol\":\"x\",\"command\":\"y\",\"payload\":{}}",
    ] {
        let actions = core.handle(Event::Frame(3, text.to_owned()), t(11));
        let said = frames_to(&actions, 3);
        assert_eq!(said.len(), 1, "{text:?}: {said:?}");
        assert_eq!(said[0]["command"], "error", "{text:?}");
    }
}

#[test]
fn a_participant_that_answers_no_connectinport_gets_its_edges_forwarded() {
    let mut core = core("a(C) OUT -> IN b(C)", Mode::Participants, None);
    core.handle(Event::Connected(1), t(0));
    let mut actions = core.start(t(0));
    actions.extend(core.handle(announce("a"), t(1)));
    actions.extend(core.handle(announce("b"), t(2)));
    let asked = links(&actions);
    assert!(
        matches!(&asked[..], [(_, Link::ConnectInport { .. })]),
        "{asked:?}"
    );
    let silent = Event::Silent {
        participant: msgflo_protocol::ids::ParticipantId::new("b-1").unwrap(),
    };
    let mut after = core.handle(silent, t(5000));
    after.extend(core.handle(
        Event::Done {
            op: asked[0].0,
            result: Ok(()),
        },
        t(5001),
    ));
    let told = commands(&frames_to(&after, 1));
    assert!(
        told.contains(&"network:output".to_owned()),
        "said once: {told:?}"
    );
    let forward = Link::Forward {
        outport: QueueName::new("a.OUT").unwrap(),
        inport: QueueName::new("b.IN").unwrap(),
    };
    assert!(
        links(&after).iter().any(|(_, l)| *l == forward),
        "{after:?}"
    );
    assert!(
        after.iter().any(|a| matches!(
            a,
            Action::Unlink {
                link: Link::ConnectInport { .. },
                ..
            }
        )),
        "the connectinport is taken back: {after:?}"
    );
}

/// An edge and an IIP into a role nobody announced yet wait for it on AMQP
/// too, and then go to the queue it names (msgflo-python's `py/in`):
/// nothing is ever bound or sent to a guessed `py.IN`.
#[test]
fn an_undiscovered_role_gets_no_guessed_queue_its_edges_and_iips_wait_for_it() {
    let mut core = core(
        "'x' -> IN py(C)\nrust(C) OUT -> IN py(C)",
        Mode::Queues,
        None,
    );
    let mut actions = core.handle(Event::Connected(1), t(0));
    actions.extend(core.handle(announce("rust"), t(1)));
    actions.extend(core.handle(frame(1, "network", "start", json!({"graph": "g"})), t(2)));
    actions.extend(core.handle(Event::Tick, t(10_000)));
    assert!(links(&actions).is_empty(), "{actions:?}");
    assert!(
        !actions.iter().any(|a| matches!(a, Action::Send { .. })),
        "{actions:?}"
    );

    let python = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": "py-1", "role": "py", "component": "C",
        "inports": [{"id": "in", "queue": "py/in"}],
        "outports": [{"id": "out", "queue": "py/out"}]}});
    let appeared = core.handle(discovery(&python), t(10_001));
    let made: Vec<Link> = links(&appeared).into_iter().map(|(_, link)| link).collect();
    assert_eq!(
        made,
        [Link::Bind {
            outport: QueueName::new("rust.OUT").unwrap(),
            inport: QueueName::new("py/in").unwrap()
        }]
    );
    let sent: Vec<&str> = appeared
        .iter()
        .filter_map(|a| match a {
            Action::Send { queue, .. } => Some(queue.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(sent, ["py/in"]);
    actions.extend(appeared);
    assert!(!format!("{actions:?}").contains("py.IN"), "{actions:?}");
}

/// With the participants of its nodes started here, `network:started`
/// waits for them to announce themselves and for the edge between them to
/// be bound (it is bound only once both queues are known), so a packet
/// sent right after it flows; at most `READY_WAIT`, then it names them.
#[test]
fn network_started_waits_for_the_participants_started_here() {
    let start_here = || {
        let graph = msgflo_protocol::dsl::parse("a(C) OUT -> IN b(C)").expect("graph");
        let library =
            Library::from_json(&json!({"components": {"C": "run #ROLE"}})).expect("library");
        let mut core = Core::new(
            config(None),
            Mode::Queues,
            Graphs::with_main("g", graph),
            library,
        );
        let spawned = core.start(t(0));
        let spawns = spawned
            .iter()
            .filter(|a| matches!(a, Action::Spawn { .. }))
            .count();
        assert_eq!(spawns, 2, "{spawned:?}");
        core.handle(Event::Connected(1), t(1));
        let started = core.handle(frame(1, "network", "start", json!({"graph": "g"})), t(2));
        assert!(
            !commands(&frames_to(&started, 1)).contains(&"network:started".to_owned()),
            "not before a and b announced themselves: {started:?}"
        );
        // The client watches: the taps are made.
        let more = all_done(&mut core, &started, t(2));
        assert!(
            !commands(&frames_to(&more, 1)).contains(&"network:started".to_owned()),
            "{more:?}"
        );
        core
    };

    let mut core = start_here();
    let started = |actions: &[Action]| {
        commands(&frames_to(actions, 1)).contains(&"network:started".to_owned())
    };
    assert!(!started(&core.handle(announce("a"), t(3))));
    let appeared = core.handle(announce("b"), t(4));
    assert!(!started(&appeared), "not before the binding");
    assert_eq!(links(&appeared).len(), 1, "{appeared:?}");
    let ready = all_done(&mut core, &appeared, t(5));
    assert_eq!(commands(&frames_to(&ready, 1)), ["network:started"]);

    let mut core = start_here();
    core.handle(announce("a"), t(3));
    let late = core.handle(Event::Tick, t(2) + network::READY_WAIT);
    let said = frames_to(&late, 1);
    assert_eq!(commands(&said), ["network:started", "network:output"]);
    assert!(
        said[1]["payload"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("participant of b (started, not announced yet)")),
        "{said:?}"
    );
}

/// How fast the core takes discovery messages on its own (no broker): 10,000
/// participants announcing once, then again, with a client connected and a
/// small graph. Run with `cargo test --release -p msgflo-coordinator --
/// --ignored core_takes_discovery`; prints messages per second.
#[test]
#[ignore = "a measurement; run by hand in release"]
fn core_takes_discovery_at_scale() {
    let mut core = core("a(C) OUT -> IN b(C)", Mode::Queues, None);
    core.handle(Event::Connected(1), t(0));
    let messages: Vec<Event> = (0..20_000)
        .map(|i| {
            let role = format!("role{}", i % 10_000);
            let message = json!({"protocol": "discovery", "command": "participant", "payload": {
                "id": format!("{role}-1"), "role": role, "component": format!("comp/{role}"),
                "inports": [{"id": "in", "queue": format!("{role}.IN")}],
                "outports": [{"id": "out", "queue": format!("{role}.OUT")}]}});
            discovery(&message)
        })
        .collect();
    let started = std::time::Instant::now();
    let mut actions = 0;
    for event in messages {
        actions += core.handle(event, t(1)).len();
    }
    let took = started.elapsed();
    let list_started = std::time::Instant::now();
    let listed = core.handle(frame(1, "component", "list", json!({})), t(2));
    let list_took = list_started.elapsed();
    eprintln!(
        "20,000 discovery messages in {took:?}: {:.0} msg/s ({actions} actions); component:list of {} frames in {list_took:?}",
        20_000.0 / took.as_secs_f64(),
        listed.len()
    );
}
