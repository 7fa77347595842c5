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
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// The ids of one role's (or component's) participants, in order: most
/// roles have one or a few, so a sorted `Vec` (24 bytes and one small
/// allocation) rather than a tree node each.
type Ids = Vec<ParticipantId>;

/// The participants known now, by id, with indexes by role, by component
/// and by when each was last heard: looking one up, or finding the next to
/// expire, does not walk all of them (a coordinator may know 10,000).
#[derive(Debug)]
pub struct Registry {
    entries: BTreeMap<ParticipantId, Entry>,
    by_role: HashMap<String, Ids>,
    by_component: HashMap<String, Ids>,
    by_last_seen: BTreeSet<(Instant, ParticipantId)>,
    /// Each role's first-seen participant ([`Registry::any_of_role`], asked
    /// at every announcement): kept, not searched for among thousands.
    first_of_role: HashMap<String, (Instant, ParticipantId)>,
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
            by_role: HashMap::new(),
            by_component: HashMap::new(),
            by_last_seen: BTreeSet::new(),
            first_of_role: HashMap::new(),
            timeout,
        }
    }

    /// Records an announcement made at `now`.
    pub fn seen(&mut self, participant: Participant, now: Instant) -> Seen {
        let id = participant.id.clone();
        let (first_seen, seen) = match self.entries.get(&id) {
            Some(entry) if entry.participant == participant => (entry.first_seen, Seen::Same),
            Some(entry) => (entry.first_seen, Seen::Changed),
            None => (now, Seen::New),
        };
        if seen == Seen::Same {
            if let Some(entry) = self.entries.get_mut(&id) {
                self.by_last_seen.remove(&(entry.last_seen, id.clone()));
                entry.last_seen = now;
                self.by_last_seen.insert((now, id));
            }
            return seen;
        }
        self.remove(&id);
        self.index(&participant);
        let first = (first_seen, id.clone());
        match self.first_of_role.get_mut(participant.role.as_str()) {
            Some(known) if *known <= first => {}
            Some(known) => *known = first,
            None => {
                self.first_of_role
                    .insert(participant.role.to_string(), first);
            }
        }
        self.by_last_seen.insert((now, id.clone()));
        let entry = Entry {
            participant,
            first_seen,
            last_seen: now,
        };
        self.entries.insert(id, entry);
        seen
    }

    fn index(&mut self, participant: &Participant) {
        let id = &participant.id;
        for (index, key) in [
            (&mut self.by_role, participant.role.as_str()),
            (&mut self.by_component, participant.component.as_str()),
        ] {
            let ids = index.entry(key.to_owned()).or_default();
            if let Err(at) = ids.binary_search(id) {
                ids.insert(at, id.clone());
            }
        }
    }

    /// Removes the participants silent for longer than the timeout at `now`
    /// and returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<Participant> {
        let mut gone = Vec::new();
        while let Some((last_seen, id)) = self.by_last_seen.first().cloned() {
            if now.saturating_duration_since(last_seen) <= self.timeout {
                break;
            }
            gone.extend(self.remove(&id));
        }
        gone
    }

    /// Removes a participant (its process was stopped); returns it.
    pub fn remove(&mut self, id: &ParticipantId) -> Option<Participant> {
        let entry = self.entries.remove(id)?;
        self.by_last_seen.remove(&(entry.last_seen, id.clone()));
        let participant = entry.participant;
        let role = participant.role.as_str();
        if self
            .first_of_role
            .get(role)
            .is_some_and(|(_, first)| first == id)
        {
            // The role's first one left: the next is searched for, once.
            let next = self
                .by_role
                .get(role)
                .into_iter()
                .flatten()
                .filter(|other| *other != id)
                .filter_map(|other| {
                    self.entries
                        .get(other)
                        .map(|e| (e.first_seen, other.clone()))
                })
                .min();
            match next {
                Some(next) => {
                    self.first_of_role.insert(role.to_owned(), next);
                }
                None => {
                    self.first_of_role.remove(role);
                }
            }
        }
        for (index, key) in [
            (&mut self.by_role, participant.role.as_str()),
            (&mut self.by_component, participant.component.as_str()),
        ] {
            if let Some(ids) = index.get_mut(key) {
                ids.retain(|known| known != id);
                if ids.is_empty() {
                    index.remove(key);
                }
            }
        }
        Some(participant)
    }

    /// When the next participant expires, if any is known.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.by_last_seen
            .first()
            .map(|(last_seen, _)| *last_seen + self.timeout)
    }

    /// The participant `id`, if known.
    pub fn get(&self, id: &ParticipantId) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// Every known participant, by id.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The participants of `role`, by id.
    pub fn of_role<'a>(&'a self, role: &str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.indexed(&self.by_role, role)
    }

    /// The participants that announce `component` as theirs, by id.
    pub fn of_component<'a>(&'a self, component: &str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.indexed(&self.by_component, component)
    }

    fn indexed<'a>(
        &'a self,
        index: &'a HashMap<String, Ids>,
        key: &str,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        index
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|id| self.entries.get(id))
    }

    /// One participant of `role` (the first seen), to read its ports.
    pub fn any_of_role(&self, role: &str) -> Option<&Participant> {
        let (_, id) = self.first_of_role.get(role)?;
        self.entries.get(id).map(|e| &e.participant)
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
    fn when_the_first_seen_leaves_the_next_first_speaks_for_the_role() {
        let t = Instant::now();
        let mut r = Registry::default();
        for (i, id) in ["a-3", "a-1", "a-2"].into_iter().enumerate() {
            r.seen(participant(id, "a"), t + Duration::from_secs(i as u64));
        }
        assert_eq!(r.any_of_role("a").map(|p| p.id.as_str()), Some("a-3"));
        r.remove(&ParticipantId::new("a-3").expect("id"));
        assert_eq!(r.any_of_role("a").map(|p| p.id.as_str()), Some("a-1"));
        // A change keeps its first-seen time, so its place.
        let changed = Participant::new(
            ParticipantId::new("a-1").expect("id"),
            Role::new("a").expect("role"),
            "core/Drop",
        );
        assert_eq!(r.seen(changed, t + Duration::from_secs(9)), Seen::Changed);
        assert_eq!(r.any_of_role("a").map(|p| p.id.as_str()), Some("a-1"));
        r.remove(&ParticipantId::new("a-1").expect("id"));
        r.remove(&ParticipantId::new("a-2").expect("id"));
        assert!(r.any_of_role("a").is_none());
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

    #[test]
    fn the_indexes_follow_changes_expiry_and_removal() {
        let t = Instant::now();
        let mut r = Registry::new(Duration::from_secs(10));
        r.seen(participant("a-1", "a"), t);
        r.seen(participant("b-1", "b"), t + Duration::from_secs(2));
        let mut moved = participant("a-1", "a");
        moved.component = "core/Drop".into();
        assert_eq!(r.seen(moved, t + Duration::from_secs(3)), Seen::Changed);
        assert_eq!(r.of_component("core/Repeat").count(), 1, "only b");
        assert_eq!(r.of_component("core/Drop").count(), 1, "a moved");
        assert_eq!(
            r.next_expiry(),
            Some(t + Duration::from_secs(12)),
            "b first"
        );
        let gone = r.expire(t + Duration::from_secs(13));
        assert_eq!(
            gone.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["b-1"]
        );
        assert!(r.of_role("b").next().is_none());
        assert_eq!(r.next_expiry(), Some(t + Duration::from_secs(13)));
        assert!(r.remove(&ParticipantId::new("a-1").expect("id")).is_some());
        assert!(r.of_component("core/Drop").next().is_none() && r.next_expiry().is_none());
    }
}
