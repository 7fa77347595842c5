//! The supervisor on its own, the clock passed by hand.

use super::*;

fn t(secs: u64) -> Instant {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(Instant::now) + Duration::from_secs(secs)
}

fn delay(verdict: &Verdict) -> Duration {
    match verdict {
        Verdict::Restart { delay, .. } => *delay,
        other => panic!("not a restart: {other:?}"),
    }
}

#[test]
fn an_exit_schedules_a_restart_after_the_first_back_off() {
    let mut s = Supervisor::default();
    s.started("a", "run a", t(0));
    let verdict = s.exited("a", t(10));
    assert_eq!(
        verdict,
        Verdict::Restart {
            delay: FIRST_RESTART,
            at: t(10) + FIRST_RESTART,
            restart: 1
        }
    );
    assert_eq!(s.next_due(), Some(t(10) + FIRST_RESTART));
    assert!(s.due(t(10)).is_empty(), "not before the back-off");
    assert_eq!(
        s.due(t(10) + FIRST_RESTART),
        [("a".to_owned(), "run a".to_owned(), 1)]
    );
    assert_eq!(s.next_due(), None);
    assert_eq!(s.status("a").map(|st| st.state), Some(State::Running));
}

#[test]
fn quick_exits_double_the_back_off_spaced_ones_do_not() {
    let mut s = Supervisor::default();
    s.started("a", "run a", t(0));
    let mut now = t(0);
    let mut delays = Vec::new();
    // Exits spaced further apart than FAIL_WINDOW / FAIL_AFTER_EXITS never fail it.
    for _ in 0..8 {
        now += FAIL_WINDOW;
        let verdict = s.exited("a", now);
        delays.push(delay(&verdict).as_secs());
        now += delay(&verdict);
        assert_eq!(s.due(now).len(), 1);
        now += Duration::from_secs(1);
    }
    // FAIL_WINDOW (180 s) > STABLE_RUN: each run was long, so no doubling.
    assert_eq!(delays, [1; 8]);

    let mut s = Supervisor::default();
    s.started("a", "run a", t(0));
    let mut now = t(0);
    let mut delays = Vec::new();
    for _ in 0..FAIL_AFTER_EXITS - 1 {
        let verdict = s.exited("a", now);
        delays.push(delay(&verdict).as_secs());
        now += delay(&verdict);
        assert_eq!(s.due(now).len(), 1);
    }
    assert_eq!(delays, [1, 2, 4, 8]);
    assert_eq!(s.status("a").map(|st| st.restarts), Some(4));
}

#[test]
fn the_back_off_is_capped() {
    let delays: Vec<u64> = (0..40).map(|n| back_off(n).as_secs()).collect();
    assert_eq!(&delays[..7], [1, 2, 4, 8, 16, 30, 30]);
    assert!(delays.iter().all(|d| *d <= LAST_RESTART.as_secs()));
}

#[test]
fn a_long_run_starts_the_back_off_afresh() {
    let mut s = Supervisor::default();
    s.started("a", "run a", t(0));
    assert_eq!(delay(&s.exited("a", t(1))), FIRST_RESTART);
    assert_eq!(s.due(t(2)).len(), 1);
    assert_eq!(delay(&s.exited("a", t(3))), FIRST_RESTART * 2);
    assert_eq!(s.due(t(5)).len(), 1);
    let after_a_while = t(5) + STABLE_RUN;
    assert_eq!(delay(&s.exited("a", after_a_while)), FIRST_RESTART);
}

#[test]
fn too_many_exits_in_the_window_fail_the_role() {
    let mut s = Supervisor::default();
    s.started("a", "run a", t(0));
    let mut now = t(0);
    for _ in 0..FAIL_AFTER_EXITS - 1 {
        now += delay(&s.exited("a", now));
        assert_eq!(s.due(now).len(), 1);
    }
    assert_eq!(
        s.exited("a", now),
        Verdict::Failed {
            exits: FAIL_AFTER_EXITS
        }
    );
    assert_eq!(s.next_due(), None);
    assert!(s.due(now + LAST_RESTART * 10).is_empty(), "never again");
    assert_eq!(s.status("a").map(|st| st.state), Some(State::Failed));
    assert_eq!(
        s.exited("a", now),
        Verdict::Unknown,
        "a failed role is done"
    );
    // Started afresh (its node added again): supervised afresh.
    s.started("a", "run a", now);
    assert!(matches!(s.exited("a", now), Verdict::Restart { .. }));
}

#[test]
fn a_forgotten_role_is_not_started_again() {
    let mut s = Supervisor::default();
    s.started("a", "run a", t(0));
    s.exited("a", t(1));
    s.forget("a");
    assert_eq!(s.next_due(), None);
    assert!(s.due(t(100)).is_empty());
    assert_eq!(s.exited("a", t(101)), Verdict::Unknown);
    assert_eq!(s.status("a"), None);
}
