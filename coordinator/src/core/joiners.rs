//! What `replay.rs` keeps: per role, the log of applied edits, how many
//! client edits are in flight, the client edits held, and the participants
//! being brought up to date with where each is. Pure bookkeeping; the
//! decisions are in `replay.rs`.

use super::edit_log::{EditLog, Overflowed};
use crate::server::ClientId;
use msgflo_protocol::ids::ParticipantId;
use msgflo_protocol::messages::GraphChange;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Every role's log, client edits in flight and held, and the participants
/// being brought up to date.
#[derive(Debug, Default)]
pub(super) struct Replays {
    pub(super) roles: BTreeMap<String, RoleEdits>,
    /// Joiners forgotten while their graph was being fetched: that answer
    /// is dropped when it comes (it is not the role's graph).
    pub(super) abandoned: BTreeSet<ParticipantId>,
}

#[derive(Debug, Default)]
pub(super) struct RoleEdits {
    pub(super) log: EditLog,
    /// Client edits forwarded and not answered yet.
    pub(super) in_flight: usize,
    pub(super) joiners: BTreeMap<ParticipantId, Joiner>,
    /// Client edits waiting for the joiners.
    held: VecDeque<HeldEdit>,
}

#[derive(Debug)]
pub(super) struct Joiner {
    pub(super) component: String,
    pub(super) step: Step,
}

/// Where a joiner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// For the role's edits in flight and its graph's refetch.
    Waiting,
    /// For its graph, to compare.
    Checking,
    /// For its answer to the log's edit at this index.
    Replaying(usize),
    /// For its graph after the replay.
    Refetching,
}

/// A client's edit held while a participant of its role catches up.
#[derive(Debug)]
pub(super) struct HeldEdit {
    pub(super) client: ClientId,
    pub(super) request_id: Option<String>,
    pub(super) change: GraphChange,
}

impl Replays {
    /// A client edit of `role` was forwarded.
    pub(super) fn sent(&mut self, role: &str) {
        self.roles.entry(role.to_owned()).or_default().in_flight += 1;
    }

    /// A client edit of `role` was answered; `applied`: by every
    /// participant, so logged.
    pub(super) fn answered(
        &mut self,
        role: &str,
        applied: Option<Value>,
    ) -> Result<(), Overflowed> {
        let edits = self.roles.entry(role.to_owned()).or_default();
        edits.in_flight = edits.in_flight.saturating_sub(1);
        applied.map_or(Ok(()), |edit| edits.log.push(edit))
    }

    /// Whether a participant of `role` is being brought up to date.
    pub(super) fn catching_up(&self, role: &str) -> bool {
        self.roles.get(role).is_some_and(|r| !r.joiners.is_empty())
    }

    /// Holds `client`'s edit of `role` until no participant catches up.
    pub(super) fn hold(
        &mut self,
        role: &str,
        client: ClientId,
        request_id: Option<String>,
        change: GraphChange,
    ) {
        let edit = HeldEdit {
            client,
            request_id,
            change,
        };
        self.roles
            .entry(role.to_owned())
            .or_default()
            .held
            .push_back(edit);
    }

    /// Whether the coordinator is asking `participant` for its graph here.
    pub(super) fn fetching_from(&self, participant: &ParticipantId) -> bool {
        self.find(participant)
            .is_some_and(|(_, j)| matches!(j.step, Step::Checking | Step::Refetching))
    }

    /// The participant no longer counts (expired).
    pub(super) fn forget(&mut self, participant: &ParticipantId) {
        if self.fetching_from(participant) {
            self.abandoned.insert(participant.clone());
        }
        for edits in self.roles.values_mut() {
            edits.joiners.remove(participant);
        }
    }

    /// `role`'s log, if it had an edit.
    pub(super) fn log(&self, role: &str) -> Option<&EditLog> {
        self.roles.get(role).map(|edits| &edits.log)
    }

    pub(super) fn find(&self, participant: &ParticipantId) -> Option<(&str, &Joiner)> {
        self.roles
            .iter()
            .find_map(|(role, edits)| edits.joiners.get(participant).map(|j| (role.as_str(), j)))
    }

    pub(super) fn set(&mut self, participant: &ParticipantId, step: Step) {
        for edits in self.roles.values_mut() {
            if let Some(joiner) = edits.joiners.get_mut(participant) {
                joiner.step = step;
            }
        }
    }

    /// The joiners whose role is quiet, to be checked, with their
    /// components; `fetching`: the components whose graph is being fetched.
    pub(super) fn due(&self, fetching: &BTreeSet<String>) -> Vec<(ParticipantId, String)> {
        self.roles
            .values()
            .filter(|edits| edits.in_flight == 0)
            .flat_map(|edits| edits.joiners.iter())
            .filter(|(_, j)| j.step == Step::Waiting && !fetching.contains(&j.component))
            .map(|(p, j)| (p.clone(), j.component.clone()))
            .collect()
    }

    /// The held edits of the roles nobody catches up in any more.
    pub(super) fn releasable(&mut self) -> Vec<HeldEdit> {
        self.roles
            .values_mut()
            .filter(|edits| edits.joiners.is_empty())
            .flat_map(|edits| edits.held.drain(..))
            .collect()
    }
}
