//! Participants started here that exit: started again after a back-off,
//! given up on after too many exits, never when stopped on purpose.

use super::*;
use std::os::unix::process::ExitStatusExt;
use supervise::{FAIL_AFTER_EXITS, FIRST_RESTART};

/// A core whose graph `a(C)` is started from a library, with client 1
/// connected; and the time.
fn started() -> (Core, Instant) {
    let graph = msgflo_protocol::dsl::parse("a(C) OUT -> IN b(D)").expect("graph");
    let library = Library::from_json(&json!({"components": {"C": "run #ROLE"}})).expect("library");
    let mut core = Core::new(
        config(None),
        Mode::Queues,
        Graphs::with_main("g", graph),
        library,
    );
    assert_eq!(spawns(&core.start(t(0))), ["a"]);
    core.handle(Event::Connected(1), t(0));
    (core, t(0))
}

fn spawns(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Spawn { role, .. } => Some(role.clone()),
            _ => None,
        })
        .collect()
}

/// When the next restart is due.
fn due(core: &Core) -> Option<Instant> {
    core.supervisor.next_due()
}

fn exited(role: &str, stopped: bool) -> Event {
    Event::ChildExited {
        role: role.into(),
        status: Some(std::process::ExitStatus::from_raw(9)),
        stopped,
    }
}

/// What `msgflo:participants` says about the node `role`.
fn reason(core: &mut Core, role: &str, now: Instant) -> Option<String> {
    let asked = core.handle(frame(1, "msgflo", "participants", json!({})), now);
    let frames = frames_to(&asked, 1);
    frames.iter().find_map(|f| {
        f["payload"]["pending"].as_array()?.iter().find_map(|p| {
            (p["role"] == role).then(|| p["reason"].as_str().unwrap_or("").to_owned())
        })
    })
}

/// The `restarted` list of `msgflo:participants`.
fn restarted(core: &mut Core, now: Instant) -> Value {
    let asked = core.handle(frame(1, "msgflo", "participants", json!({})), now);
    frames_to(&asked, 1)
        .iter()
        .find(|f| f["command"] == "participants")
        .map(|f| f["payload"]["restarted"].clone())
        .unwrap_or_default()
}

#[test]
fn an_exit_on_its_own_starts_the_participant_again_after_the_back_off() {
    let (mut core, now) = started();
    let exit = core.handle(exited("a", false), now);
    assert!(spawns(&exit).is_empty(), "not at once: {exit:?}");
    let told = frames_to(&exit, 1);
    assert!(
        told.iter().any(|f| f["command"] == "output"
            && f["payload"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("participant a exited") && m.contains("1s"))),
        "{told:?}"
    );
    assert_eq!(due(&core), Some(now + FIRST_RESTART));
    let waiting = reason(&mut core, "a", now).unwrap_or_default();
    assert!(
        waiting.contains("starting it again (restart 1)"),
        "{waiting}"
    );

    assert!(spawns(&core.handle(Event::Tick, now + FIRST_RESTART / 2)).is_empty());
    let again = core.handle(Event::Tick, now + FIRST_RESTART);
    assert_eq!(spawns(&again), ["a"]);
    assert_eq!(
        restarted(&mut core, now + FIRST_RESTART),
        json!([{"role": "a", "restarts": 1, "state": "running"}])
    );
}

#[test]
fn repeated_exits_double_the_back_off() {
    let (mut core, mut now) = started();
    let mut delays = Vec::new();
    for _ in 0..3 {
        core.handle(exited("a", false), now);
        let at = due(&core).expect("a restart is due");
        delays.push(at - now);
        now = at;
        assert_eq!(spawns(&core.handle(Event::Tick, now)), ["a"]);
    }
    assert_eq!(
        delays,
        [FIRST_RESTART, FIRST_RESTART * 2, FIRST_RESTART * 4]
    );
}

#[test]
fn a_role_that_keeps_exiting_is_failed_and_clients_are_told() {
    let (mut core, mut now) = started();
    for _ in 0..FAIL_AFTER_EXITS - 1 {
        core.handle(exited("a", false), now);
        now = due(&core).expect("a restart is due");
        assert_eq!(spawns(&core.handle(Event::Tick, now)), ["a"]);
    }
    let last = core.handle(exited("a", false), now);
    assert!(spawns(&last).is_empty());
    let told = frames_to(&last, 1);
    assert_eq!(commands(&told), ["network:processerror"]);
    assert_eq!(told[0]["payload"]["id"], "a");
    assert_eq!(told[0]["payload"]["graph"], "g");
    assert!(told[0]["payload"]["error"]
        .as_str()
        .is_some_and(|e| e.contains("not started again")));
    assert_eq!(due(&core), None, "nothing more is due");
    assert!(spawns(&core.handle(Event::Tick, now + Duration::from_secs(3600))).is_empty());
    let failed = reason(&mut core, "a", now).unwrap_or_default();
    assert!(failed.contains("failed"), "{failed}");
    let restarts = FAIL_AFTER_EXITS - 1;
    assert_eq!(
        restarted(&mut core, now),
        json!([{"role": "a", "restarts": restarts, "state": "failed"}])
    );
}

#[test]
fn a_participant_stopped_on_purpose_is_not_started_again() {
    // Its exit while being stopped says nothing.
    let (mut core, now) = started();
    let stopping = core.handle(exited("a", true), now);
    assert!(
        !commands(&frames_to(&stopping, 1)).contains(&"network:output".to_owned()),
        "{stopping:?}"
    );
    assert_eq!(due(&core), None);

    // Its node removed: stopped, and its late exit (even one not marked
    // as stopped) starts nothing.
    let (mut core, now) = started();
    let removed = core.handle(
        frame(1, "graph", "removenode", json!({"id": "a", "graph": "g"})),
        now,
    );
    assert!(
        removed.contains(&Action::Stop { role: "a".into() }),
        "{removed:?}"
    );
    core.handle(exited("a", false), now);
    assert_eq!(due(&core), None);
    assert!(spawns(&core.handle(Event::Tick, now + Duration::from_secs(60))).is_empty());

    // Removed while waiting for its restart: the restart is off.
    let (mut core, now) = started();
    core.handle(exited("a", false), now);
    core.handle(
        frame(1, "graph", "removenode", json!({"id": "a", "graph": "g"})),
        now,
    );
    assert_eq!(due(&core), None);
    assert!(spawns(&core.handle(Event::Tick, now + FIRST_RESTART)).is_empty());
}
