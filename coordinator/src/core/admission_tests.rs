use super::*;

fn limits(max_participants: usize) -> Limits {
    Limits {
        max_participants,
        new_per_second: 10.0,
        burst: 3.0,
    }
}

fn new_of(role: &str) -> Announcement<'_> {
    Announcement {
        role,
        known: false,
        age: None,
    }
}

const TIMEOUT: Duration = Duration::from_secs(600);

#[test]
fn a_role_gets_its_burst_at_once_then_its_rate() {
    let mut admission = Admission::new(limits(100), TIMEOUT);
    let t0 = Instant::now();
    for _ in 0..3 {
        assert!(admission.judge(new_of("r"), 0, t0).is_ok());
    }
    let refused = admission.judge(new_of("r"), 3, t0).unwrap_err();
    assert_eq!(refused.0, Refusal::Flood);
    assert!(
        refused
            .1
            .as_deref()
            .is_some_and(|l| l.contains("--discovery-rate")),
        "{refused:?}"
    );
    // Another role has its own bucket.
    assert!(admission.judge(new_of("other"), 3, t0).is_ok());
    // 10 per second: one more after 100 ms, not two.
    let later = t0 + Duration::from_millis(100);
    assert!(admission.judge(new_of("r"), 4, later).is_ok());
    assert_eq!(
        admission.judge(new_of("r"), 5, later).unwrap_err().0,
        Refusal::Flood
    );
}

#[test]
fn a_full_registry_refuses_new_participants_but_not_known_ones() {
    let mut admission = Admission::new(limits(2), TIMEOUT);
    let now = Instant::now();
    assert_eq!(
        admission.judge(new_of("r"), 2, now).unwrap_err().0,
        Refusal::Full
    );
    let known = Announcement {
        known: true,
        ..new_of("r")
    };
    assert!(admission.judge(known, 2, now).is_ok());
    assert!(admission.judge(new_of("r"), 1, now).is_ok());
}

#[test]
fn an_announcement_older_than_the_timeout_is_ignored_even_from_a_known_participant() {
    let mut admission = Admission::new(limits(100), TIMEOUT);
    let now = Instant::now();
    let old = Announcement {
        role: "r",
        known: true,
        age: Some(TIMEOUT + Duration::from_secs(1)),
    };
    let refused = admission.judge(old, 1, now).unwrap_err();
    assert_eq!(refused.0, Refusal::Stale);
    assert!(
        refused.1.as_deref().is_some_and(|l| l.contains("backlog")),
        "{refused:?}"
    );
    let recent = Announcement {
        age: Some(TIMEOUT - Duration::from_secs(1)),
        ..old
    };
    assert!(admission.judge(recent, 1, now).is_ok());
}

#[test]
fn refusals_are_said_once_then_summed_up_until_they_stop() {
    let mut admission = Admission::new(limits(0), TIMEOUT);
    let t0 = Instant::now();
    assert!(admission.judge(new_of("r"), 0, t0).unwrap_err().1.is_some());
    for _ in 0..41 {
        assert!(admission.judge(new_of("r"), 0, t0).unwrap_err().1.is_none());
    }
    assert_eq!(admission.next_deadline(), Some(t0 + SUMMARY_EVERY));
    assert_eq!(admission.summary(t0 + Duration::from_secs(1)), None);
    let due = t0 + SUMMARY_EVERY;
    let line = admission.summary(due).expect("a summary");
    assert!(line.contains("41 over --max-participants"), "{line}");
    // Quiet for a period: the episode ends, and the next refusal is said at once.
    assert_eq!(admission.summary(due + SUMMARY_EVERY), None);
    assert_eq!(admission.next_deadline(), None);
    let again = due + SUMMARY_EVERY + Duration::from_secs(1);
    assert!(admission
        .judge(new_of("r"), 0, again)
        .unwrap_err()
        .1
        .is_some());
}

#[test]
fn buckets_of_many_roles_do_not_pile_up() {
    let mut admission = Admission::new(limits(usize::MAX), TIMEOUT);
    let t0 = Instant::now();
    for i in 0..5_000 {
        let role = format!("role-{i}");
        let now = t0 + Duration::from_millis(i);
        assert!(admission.judge(new_of(&role), 0, now).is_ok());
    }
    // Each bucket is full again 100 ms after its one token: only the recent
    // ones are kept.
    assert!(
        admission.buckets.len() <= BUCKETS_KEPT + 1,
        "{} buckets",
        admission.buckets.len()
    );
}
