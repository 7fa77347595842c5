//! Bringing a graph participant that joins a role after the role's graph
//! was edited live up to date: it starts from its file, so without this
//! the role's workers would handle messages differently.
//!
//! - **The log.** Each role keeps the client edits that every participant
//!   of the role present then applied, in order (`edit_log.rs`; an edit
//!   some participant failed is not kept — the client was told who failed).
//! - **Joining.** A graph participant that appears in a role whose log is
//!   not empty (or with a client edit in flight, which may be logged) first
//!   waits until no client edit of the role is in flight
//!   and the role's graph is not being fetched, so that the coordinator's
//!   copy of the role's graph holds every logged edit. Then its own graph
//!   is fetched and compared with that copy (nodes and components, edges,
//!   IIPs; `graph_shape.rs`). Equal — it was started from a file saved
//!   after the edits (the `save` call) — nothing more. Otherwise the log
//!   is replayed to it alone, one edit at a time, each sent only after it
//!   acknowledged the one before ([`ForwardKind::Replay`], nobody to
//!   answer); then its graph is fetched again and compared once more.
//! - **Failing.** An edit it refuses or does not answer within
//!   [`FORWARD_TIMEOUT`](super::FORWARD_TIMEOUT), a graph it does not
//!   send, or a log that overflowed: the replay stops, a warning names the
//!   participant and the edit, and every client gets a `network:error`
//!   saying the participant runs an older graph than its role.
//! - **Client edits meanwhile** are held, in order, while any participant
//!   of the role is being brought up to date, and forwarded (to every
//!   participant, the new one included) once none is. Holding keeps the
//!   log a plain sequence: an edit is never applied to a participant
//!   whose graph is still behind, nor logged while the log is replayed.
//!   The client's answer comes later by the length of the replay (a few
//!   round trips per logged edit).

use super::edit_log::EditLog;
use super::forward::{tally, Forward, ForwardKind, FORWARD_TIMEOUT};
use super::graph_shape::same_graph;
use super::joiners::{Joiner, Step};
use super::{Action, Core};
use msgflo_protocol::ids::ParticipantId;
use msgflo_protocol::messages::{Output, Protocol};
use serde_json::Value;

impl Core {
    /// A graph participant appeared in `role`: brought up to date if the
    /// role's graph was edited live.
    pub(super) fn joined(&mut self, role: &str, participant: ParticipantId, component: String) {
        let Some(edits) = self.replays.roles.get_mut(role) else {
            return;
        };
        if !edits.log.edited() && edits.in_flight == 0 {
            return;
        }
        tracing::info!(%role, %participant, "participant joined an edited graph: comparing its graph");
        let step = Step::Waiting;
        edits
            .joiners
            .insert(participant, Joiner { component, step });
        self.catch_up();
    }

    /// Moves on what waits: joiners whose role is quiet are checked, held
    /// client edits of roles without joiners forwarded.
    pub(super) fn catch_up(&mut self) {
        for (participant, component) in self.replays.due(&self.fetching) {
            self.replays.set(&participant, Step::Checking);
            self.out.push(Action::FetchSubgraph {
                participant,
                component,
            });
        }
        for held in self.replays.releasable() {
            self.forward_edit(held.client, held.request_id.as_deref(), held.change);
        }
    }

    /// A joiner's graph came (or not); `false`: it was not a joiner's.
    pub(super) fn joiner_fetched(
        &mut self,
        participant: &ParticipantId,
        outcome: &Result<String, String>,
    ) -> bool {
        if self.replays.abandoned.remove(participant) {
            tracing::debug!(%participant, "graph of a participant gone meanwhile dropped");
            return true;
        }
        let Some((role, joiner)) = self.replays.find(participant) else {
            return false;
        };
        let (role, step) = (role.to_owned(), joiner.step);
        let current = self.subgraphs.get(&joiner.component);
        let same = match outcome {
            Ok(code) => current.is_some_and(|c| same_graph(c, code)),
            Err(_) => false,
        };
        match (step, outcome) {
            (Step::Checking, Ok(_)) if same => {
                tracing::info!(%role, %participant, "participant already runs the role's edited graph");
                self.finish(&role, participant);
            }
            (Step::Checking, Ok(_)) if !self.replays.log(&role).is_some_and(EditLog::edited) => {
                // The edits it waited for all failed: it runs the role's file too.
                self.finish(&role, participant);
            }
            (Step::Checking, Ok(_)) => match self.replays.log(&role).map(EditLog::check) {
                Some(Err(overflowed)) => self.fail(&role, participant, &overflowed.to_string()),
                Some(Ok(())) | None => self.replay(&role, participant, 0),
            },
            (Step::Refetching, Ok(_)) if same => {
                tracing::info!(%role, %participant, "participant brought up to date with the role's live edits");
                self.finish(&role, participant);
            }
            (Step::Refetching, Ok(_)) => {
                let why = "after the replay its graph still differs from the role's";
                self.fail(&role, participant, why);
            }
            (Step::Checking | Step::Refetching, Err(error)) => {
                self.fail(
                    &role,
                    participant,
                    &format!("cannot get its graph: {error}"),
                );
            }
            (Step::Waiting | Step::Replaying(_), _) => return false,
        }
        true
    }

    /// Sends the log's edit at `step` to `participant` alone; past the
    /// end, fetches its graph again.
    fn replay(&mut self, role: &str, participant: &ParticipantId, step: usize) {
        let Some(message) = self.replays.log(role).and_then(|l| l.get(step)).cloned() else {
            let component = self
                .replays
                .find(participant)
                .map(|(_, j)| j.component.clone());
            self.replays.set(participant, Step::Refetching);
            if let Some(component) = component {
                let participant = participant.clone();
                self.out.push(Action::FetchSubgraph {
                    participant,
                    component,
                });
            }
            return;
        };
        self.replays.set(participant, Step::Replaying(step));
        self.out.push(Action::Forward(Forward {
            reply_to: None,
            role: role.to_owned(),
            participants: vec![participant.clone()],
            message,
            timeout: FORWARD_TIMEOUT,
            kind: ForwardKind::Replay { step },
        }));
    }

    /// A joiner answered a replayed edit (or did not, in time).
    pub(super) fn replayed(
        &mut self,
        forward: &Forward,
        step: usize,
        answers: &[(ParticipantId, Result<Value, String>)],
    ) {
        let Some(participant) = forward.participants.first() else {
            return;
        };
        if self.replays.find(participant).map(|(_, j)| j.step) != Some(Step::Replaying(step)) {
            return; // It expired meanwhile.
        }
        let (_, failed) = tally(forward, answers);
        if failed.is_empty() {
            self.replay(&forward.role, participant, step + 1);
            return;
        }
        let total = self.replays.log(&forward.role).map_or(0, EditLog::len);
        let why = format!(
            "live edit {} of {total} ({}) failed: {}",
            step + 1,
            forward.message,
            failed.join("; ")
        );
        self.fail(&forward.role, participant, &why);
    }

    /// Done with `participant`.
    fn finish(&mut self, role: &str, participant: &ParticipantId) {
        if let Some(edits) = self.replays.roles.get_mut(role) {
            edits.joiners.remove(participant);
        }
        self.catch_up();
    }

    /// `participant` could not be brought up to date: logged, clients told.
    fn fail(&mut self, role: &str, participant: &ParticipantId, why: &str) {
        tracing::warn!(%role, %participant, why, "participant not brought up to date with the role's live edits");
        let message = format!(
            "participant {participant} of role {role} runs an older graph than the role: \
             it was not brought up to date with the role's live edits: {why}"
        );
        self.broadcast(&Output::error(Protocol::Network, message));
        self.finish(role, participant);
    }

    /// A client edit of `role` was answered; `applied`: `message` was
    /// applied by every participant of the role, so it is logged.
    pub(super) fn edit_answered(&mut self, role: &str, message: &Value, applied: bool) {
        let edit = applied.then(|| message.clone());
        if let Err(overflowed) = self.replays.answered(role, edit) {
            tracing::warn!(%role, %overflowed, "participants joining the role later run their file's graph");
        }
        self.catch_up();
    }
}
