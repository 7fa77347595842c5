//! The registry's limits as the core applies them (`admission.rs`):
//! refused announcements change nothing and are said once; heartbeats
//! cannot make the core flood participants with `connectinport`s.

use super::*;

fn limited(max_participants: usize) -> Core {
    let graph = msgflo_protocol::dsl::parse("a(C) OUT -> IN b(C)").expect("graph");
    let config = Config {
        limits: Limits {
            max_participants,
            ..Limits::default()
        },
        ..config(None)
    };
    Core::new(
        config,
        Mode::Participants,
        Graphs::with_main("g", graph),
        Library::empty(),
    )
}

fn outputs(actions: &[Action], client: ClientId) -> Vec<String> {
    frames_to(actions, client)
        .into_iter()
        .filter(|f| f["command"] == "output")
        .filter_map(|f| f["payload"]["message"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_full_registry_registers_no_one_more_and_says_so_once() {
    let mut core = limited(2);
    core.handle(Event::Connected(1), t(0));
    let mut told = Vec::new();
    for (i, role) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        told.extend(outputs(&core.handle(announce(role), t(1 + i as u64)), 1));
    }
    let mut ids: Vec<&str> = core
        .registry
        .entries()
        .map(|e| e.participant.id.as_str())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["a-1", "b-1"]);
    let refusals: Vec<&String> = told
        .iter()
        .filter(|m| m.contains("--max-participants"))
        .collect();
    assert_eq!(refusals.len(), 1, "{told:?}");
    // The other two are summed up when their period is over.
    let due = core.next_deadline().expect("a summary is due");
    let summed = outputs(&core.handle(Event::Tick, due), 1);
    assert!(
        summed
            .iter()
            .any(|m| m.contains("2 over --max-participants")),
        "{summed:?}"
    );
    // Known participants still say they are alive.
    assert!(outputs(&core.handle(announce("a"), due), 1).is_empty());
}

#[test]
fn an_announcement_older_than_the_participant_timeout_registers_nothing() {
    let mut core = limited(100);
    let message = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": "old-1", "role": "old", "component": "C", "inports": [], "outports": []}});
    let old = Event::Discovery {
        payload: message.to_string().into(),
        age: Some(Duration::from_secs(601)),
    };
    core.handle(old, t(0));
    assert!(core.registry.is_empty());
    let recent = Event::Discovery {
        payload: message.to_string().into(),
        age: Some(Duration::from_secs(599)),
    };
    core.handle(recent, t(1));
    assert_eq!(core.registry.len(), 1);
}

#[test]
fn heartbeats_faster_than_a_second_say_the_connectinports_once_a_second() {
    let mut core = limited(100);
    let mut actions = core.start(t(0));
    actions.extend(core.handle(announce("a"), t(1)));
    actions.extend(core.handle(announce("b"), t(2)));
    all_done(&mut core, &actions, t(3));
    let mut refreshes = 0;
    // 100 heartbeats in 2 s.
    for i in 0..100 {
        let again = core.handle(announce("b"), t(10_000 + i * 20));
        refreshes += again
            .iter()
            .filter(|a| matches!(a, Action::Refresh { .. }))
            .count();
    }
    assert!((2..=3).contains(&refreshes), "{refreshes} refreshes");
}
