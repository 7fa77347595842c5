//! The participant registry: who announced itself on `fbp`, when first and
//! last, and who has gone quiet. Pure: the caller passes the time, so expiry
//! is tested without waiting.
//!
//! - Participants are tracked by id; a role may have several (competing
//!   consumers of the role's queues).
//! - A participant expires once it has not announced itself for the timeout
//!   (default [`DEFAULT_TIMEOUT`], 600 s — ten default discovery periods;
//!   msgflo documents expiry but never does it). The caller tells clients.
//! - A malformed discovery message never gets here: the caller logs it with
//!   the reason ([`msgflo_protocol::discovery::Participant::decode`]) and
//!   drops it.

use msgflo_protocol::discovery::Participant;
use msgflo_protocol::ids::ParticipantId;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a participant may stay silent before it expires.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// One known participant.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// What it said last.
    pub participant: Participant,
    /// When it first announced itself.
    pub first_seen: Instant,
    /// When it last announced itself.
    pub last_seen: Instant,
}

/// What an announcement changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A participant not known before.
    New,
    /// A known participant whose description changed (ports, queues, ...).
    Changed,
    /// A known participant saying the same again (a heartbeat).
    Same,
}

/// The participants known now, by id.
#[derive(Debug)]
pub struct Registry {
    entries: BTreeMap<ParticipantId, Entry>,
    timeout: Duration,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(DEFAULT_TIMEOUT)
    }
}

impl Registry {
    /// An empty registry whose participants expire after `timeout` of silence.
    pub fn new(timeout: Duration) -> Self {
        Self {
            entries: BTreeMap::new(),
            timeout,
        }
    }

    /// Records an announcement made at `now`.
    pub fn seen(&mut self, participant: Participant, now: Instant) -> Seen {
        match self.entries.get_mut(&participant.id) {
            Some(entry) => {
                entry.last_seen = now;
                if entry.participant == participant {
                    Seen::Same
                } else {
                    entry.participant = participant;
                    Seen::Changed
                }
            }
            None => {
                let entry = Entry {
                    participant,
                    first_seen: now,
                    last_seen: now,
                };
                self.entries.insert(entry.participant.id.clone(), entry);
                Seen::New
            }
        }
    }

    /// Removes the participants silent for longer than the timeout at `now`
    /// and returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<Participant> {
        let timeout = self.timeout;
        let gone: Vec<ParticipantId> = self
            .entries
            .values()
            .filter(|e| now.saturating_duration_since(e.last_seen) > timeout)
            .map(|e| e.participant.id.clone())
            .collect();
        gone.iter()
            .filter_map(|id| self.entries.remove(id))
            .map(|e| e.participant)
            .collect()
    }

    /// Removes a participant (its process was stopped); returns it.
    pub fn remove(&mut self, id: &ParticipantId) -> Option<Participant> {
        self.entries.remove(id).map(|e| e.participant)
    }

    /// When the next participant expires, if any is known.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.entries
            .values()
            .map(|e| e.last_seen + self.timeout)
            .min()
    }

    /// Every known participant, by id.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The participants of `role`.
    pub fn of_role<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .values()
            .filter(move |e| e.participant.role.as_str() == role)
    }

    /// One participant of `role` (the first seen), to read its ports.
    pub fn any_of_role(&self, role: &str) -> Option<&Participant> {
        self.entries
            .values()
            .filter(|e| e.participant.role.as_str() == role)
            .min_by_key(|e| e.first_seen)
            .map(|e| &e.participant)
    }

    /// How many participants are known.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No participant is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflo_protocol::ids::Role;

    fn participant(id: &str, role: &str) -> Participant {
        Participant::new(
            ParticipantId::new(id).expect("id"),
            Role::new(role).expect("role"),
            "core/Repeat",
        )
    }

    #[test]
    fn announcements_are_new_then_same_then_changed() {
        let start = Instant::now();
        let mut r = Registry::default();
        assert_eq!(r.seen(participant("a-1", "a"), start), Seen::New);
        let later = start + Duration::from_secs(5);
        assert_eq!(r.seen(participant("a-1", "a"), later), Seen::Same);
        let mut changed = participant("a-1", "a");
        changed.label = "new label".into();
        assert_eq!(r.seen(changed, later), Seen::Changed);
        let entry = r.entries().next().expect("one");
        assert_eq!((entry.first_seen, entry.last_seen), (start, later));
        assert_eq!(entry.participant.label, "new label");
    }

    #[test]
    fn several_participants_per_role_and_the_first_seen_speaks_for_it() {
        let t = Instant::now();
        let mut r = Registry::default();
        r.seen(participant("a-2", "a"), t + Duration::from_secs(1));
        r.seen(participant("a-1", "a"), t);
        r.seen(participant("b-1", "b"), t);
        assert_eq!(r.of_role("a").count(), 2);
        assert_eq!(r.any_of_role("a").map(|p| p.id.as_str()), Some("a-1"));
        assert!(r.any_of_role("c").is_none());
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn silent_participants_expire_after_the_timeout_and_heartbeats_keep_them() {
        let t = Instant::now();
        let mut r = Registry::new(Duration::from_secs(10));
        r.seen(participant("quiet-1", "quiet"), t);
        r.seen(participant("alive-1", "alive"), t);
        assert_eq!(r.next_expiry(), Some(t + Duration::from_secs(10)));
        r.seen(participant("alive-1", "alive"), t + Duration::from_secs(8));
        assert!(
            r.expire(t + Duration::from_secs(10)).is_empty(),
            "not past it yet"
        );
        let gone = r.expire(t + Duration::from_secs(11));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].id.as_str(), "quiet-1");
        assert_eq!(r.next_expiry(), Some(t + Duration::from_secs(18)));
        assert_eq!(r.expire(t + Duration::from_secs(19)).len(), 1);
        assert!(r.is_empty() && r.next_expiry().is_none());
    }
}
