//! A graph participant's graph, edited and watched from an FBP client: the
//! `graph:*` edits and `network:edges` whose graph is one a participant runs
//! ([`crate::components::Catalogue::subgraph_owner`]) go to that
//! participant's own FBP runtime through the `fbp` call ([`Action::Forward`]).
//!
//! - **Every participant of the role** gets the message, not one: they all
//!   run the same graph and share the role's queues, so any of them may take
//!   the next message. Editing only one would make the role handle messages
//!   one way or the other depending on which worker took them.
//! - The client gets one answer: the first participant's own answer frames
//!   (the echo fbp-protocol takes as acknowledgement) when every participant
//!   acknowledged within [`FORWARD_TIMEOUT`]; else one `graph:error`
//!   (`network:error` for `network:edges`) naming each participant that
//!   failed and why, or that it did not answer in time — never silence.
//! - Forwarded edits: `addnode`, `removenode`, `changenode`, `addedge`,
//!   `removeedge`, `changeedge`, `addinitial`, `removeinitial`
//!   ([`forwardable`]); another command on such a graph (exported ports,
//!   renames, groups, `clear`) is answered with an error saying so, at once.
//! - After an edit some participant applied, its graph is fetched again
//!   ([`Action::FetchSubgraph`]), so `component:getsource` shows the edit.
//! - An edit every participant applied is logged for the role; a
//!   participant that joins later gets the log replayed, and client edits
//!   wait until it has (`replay.rs`).
//! - `network:edges` goes the same way, with the union of every client's
//!   selection on that graph; what the participants send for those edges
//!   is in `watches.rs`.
//!
//! A participant that is no FBP runtime (msgflo-nodejs, msgflo-python,
//! `--component`) runs no graph the coordinator knows: its role is not in
//! the catalogue's subgraphs and its "graph id" stays unknown.

use super::{Action, Core};
use crate::server::ClientId;
use msgflo_protocol::ids::ParticipantId;
use msgflo_protocol::messages::{GraphChange, NetworkOutput, Output, Protocol, SelectedEdges};
use serde_json::{json, Value};
use std::time::Duration;

/// How long the participants of a role have to answer a forwarded message.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(3);

/// A message for the FBP runtimes of a role's participants
/// ([`Action::Forward`](super::Action::Forward)); it comes back with their answers in
/// [`Event::Forwarded`](super::Event::Forwarded).
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    /// Who gets the answer, and its `requestId`; `None`: nobody asked (the
    /// participants are told a smaller edge selection).
    pub reply_to: Option<(ClientId, Option<String>)>,
    /// The role whose participants get it.
    pub role: String,
    /// Those participants, in id order.
    pub participants: Vec<ParticipantId>,
    /// The FBP message: `{protocol, command, payload}`.
    pub message: Value,
    /// How long to wait for them.
    pub timeout: Duration,
    /// What it is.
    pub kind: ForwardKind,
}

/// What a [`Forward`] carries.
#[derive(Debug, Clone, PartialEq)]
pub enum ForwardKind {
    /// A graph edit; `component` is the one whose graph it changes (fetched
    /// again after the edit).
    Edit {
        /// The component, as the catalogue's subgraphs know it.
        component: String,
    },
    /// An edge selection; `asked` is what the client sent (its echo is the
    /// answer: the participants got the union of every client's).
    Edges {
        /// The client's request.
        asked: SelectedEdges,
    },
    /// A logged edit replayed to one participant that joined the role
    /// after it (`replay.rs`); nobody gets the answer.
    Replay {
        /// The edit's place in the role's log.
        step: usize,
    },
}

/// The edits forwarded to a graph participant (the ones it applies live).
pub fn forwardable(change: &GraphChange) -> bool {
    matches!(
        change,
        GraphChange::AddNode(_)
            | GraphChange::RemoveNode(_)
            | GraphChange::ChangeNode(_)
            | GraphChange::AddEdge(_)
            | GraphChange::RemoveEdge(_)
            | GraphChange::ChangeEdge(_)
            | GraphChange::AddInitial(_)
            | GraphChange::RemoveInitial(_)
    )
}

impl Core {
    /// `graph:*` on the graph participant `owner_role`'s graph: forwarded,
    /// or refused at once when it is no live edit.
    pub(super) fn forward_edit(
        &mut self,
        client: ClientId,
        request_id: Option<&str>,
        change: GraphChange,
    ) {
        let id = crate::fbp::graph_edit::graph_of(&change).to_owned();
        let Some(owner) = self.catalogue().subgraph_owner(&id).cloned() else {
            return;
        };
        if !forwardable(&change) {
            let message = format!(
                "graph {id} is the graph participant {} (role {}) runs: graph:{} cannot be \
                 applied to it while it runs (addnode, removenode, changenode, addedge, \
                 removeedge, changeedge, addinitial and removeinitial can)",
                owner.id,
                owner.role,
                change.command()
            );
            self.answer(client, &Output::error(Protocol::Graph, message), request_id);
            return;
        }
        let message = json!({"protocol": "graph", "command": change.command(),
                             "payload": change.payload()});
        let role = owner.role.to_string();
        if self.replays.catching_up(&role) {
            tracing::debug!(%role, "edit held until the role's new participants caught up");
            let request_id = request_id.map(str::to_owned);
            self.replays.hold(&role, client, request_id, change);
            return;
        }
        let kind = ForwardKind::Edit {
            component: owner.component.clone(),
        };
        let reply_to = Some((client, request_id.map(str::to_owned)));
        self.forward(reply_to, &role, message, kind);
    }

    /// [`Action::Forward`] to every participant of `role` (none: the
    /// answer at once).
    pub(super) fn forward(
        &mut self,
        reply_to: Option<(ClientId, Option<String>)>,
        role: &str,
        message: Value,
        kind: ForwardKind,
    ) {
        let mut participants: Vec<ParticipantId> = self
            .registry
            .of_role(role)
            .map(|e| e.participant.id.clone())
            .collect();
        participants.sort();
        if matches!(kind, ForwardKind::Edit { .. }) {
            self.replays.sent(role);
        }
        let forward = Forward {
            reply_to,
            role: role.to_owned(),
            participants,
            message,
            timeout: FORWARD_TIMEOUT,
            kind,
        };
        if forward.participants.is_empty() {
            self.forwarded(forward, Vec::new());
        } else {
            self.out.push(Action::Forward(forward));
        }
    }

    /// The participants answered a [`Forward`] (those missing from
    /// `answers` did not, in time): the client gets the echo, or an error
    /// naming each that failed; an applied edit is fetched again.
    pub(super) fn forwarded(
        &mut self,
        forward: Forward,
        answers: Vec<(ParticipantId, Result<Value, String>)>,
    ) {
        let protocol = match forward.kind {
            ForwardKind::Edit { .. } => Protocol::Graph,
            ForwardKind::Edges { .. } => Protocol::Network,
            ForwardKind::Replay { step } => return self.replayed(&forward, step, &answers),
        };
        let expected = expected(&forward.message);
        let (acked, failed) = tally(&forward, &answers);
        if let (ForwardKind::Edit { component }, Some((first, _))) = (&forward.kind, acked.first())
        {
            self.fetching.insert(component.clone());
            self.out.push(Action::FetchSubgraph {
                participant: first.clone(),
                component: component.clone(),
            });
        }
        if let ForwardKind::Edit { .. } = forward.kind {
            let applied = failed.is_empty() && !acked.is_empty();
            self.edit_answered(&forward.role, &forward.message, applied);
        }
        let replies = if forward.participants.is_empty() {
            vec![Output::error(
                protocol,
                format!("no participant of role {} to apply it", forward.role),
            )]
        } else if failed.is_empty() {
            match (forward.kind, acked.into_iter().next()) {
                (ForwardKind::Edges { asked }, _) => {
                    vec![Output::Network(NetworkOutput::Edges(asked))]
                }
                (_, Some((_, frames))) => frames,
                (_, None) => Vec::new(),
            }
        } else {
            let applied: Vec<String> = acked.iter().map(|(p, _)| p.to_string()).collect();
            let mut message = format!(
                "{}:{} on the graph of role {} failed: {}",
                expected.0,
                expected.1,
                forward.role,
                failed.join("; ")
            );
            if !applied.is_empty() {
                message.push_str(&format!(" (applied by {})", applied.join(", ")));
            }
            vec![Output::error(protocol, message)]
        };
        match forward.reply_to {
            Some((client, request_id)) => {
                for reply in &replies {
                    self.answer(client, reply, request_id.as_deref());
                }
            }
            None => {
                if let Some(Output::Network(NetworkOutput::Error(error))) = replies.first() {
                    tracing::warn!(role = %forward.role, error = %error.message, "edge selection not forwarded");
                }
            }
        }
    }
}

/// The (protocol, command) of an FBP message: what its echo has.
fn expected(message: &Value) -> (&str, &str) {
    (
        message["protocol"].as_str().unwrap_or_default(),
        message["command"].as_str().unwrap_or_default(),
    )
}

/// Each participant's answer to `forward`: the frames of those that
/// acknowledged it, and for the others, `"<participant>: <why not>"`.
pub(super) fn tally(
    forward: &Forward,
    answers: &[(ParticipantId, Result<Value, String>)],
) -> (Vec<(ParticipantId, Vec<Output>)>, Vec<String>) {
    let expected = expected(&forward.message);
    let mut acked = Vec::new();
    let mut failed = Vec::new();
    for participant in &forward.participants {
        let answer = answers.iter().find(|(p, _)| p == participant);
        let outcome = match answer {
            None => Err(format!(
                "did not answer within {} ms",
                forward.timeout.as_millis()
            )),
            Some((_, Err(error))) => Err(error.clone()),
            Some((_, Ok(frames))) => acknowledgement(frames, expected),
        };
        match outcome {
            Ok(frames) => acked.push((participant.clone(), frames)),
            Err(error) => failed.push(format!("{participant}: {error}")),
        }
    }
    (acked, failed)
}

/// A participant's answer frames to a forwarded `expected` (protocol,
/// command): typed, when they end with its echo; else why not (its own
/// error's message, or what it answered instead).
fn acknowledgement(frames: &Value, expected: (&str, &str)) -> Result<Vec<Output>, String> {
    let Some(frames) = frames.as_array().filter(|f| !f.is_empty()) else {
        return Err(format!("answered {frames} instead of FBP frames"));
    };
    let mut typed = Vec::new();
    for frame in frames {
        let (protocol, command) = (
            frame["protocol"].as_str().unwrap_or_default(),
            frame["command"].as_str().unwrap_or_default(),
        );
        if command == "error" {
            let message = frame["payload"]["message"].as_str();
            return Err(message.map_or_else(|| frame.to_string(), str::to_owned));
        }
        let output = Output::from_parts(protocol, command, frame["payload"].clone())
            .map_err(|e| format!("answered {protocol}:{command} that does not fit: {e}"))?;
        typed.push(output);
    }
    let last = frames.last().unwrap_or(&Value::Null);
    if (last["protocol"].as_str(), last["command"].as_str()) != (Some(expected.0), Some(expected.1))
    {
        return Err(format!(
            "answered {}:{} instead of {}:{}",
            last["protocol"].as_str().unwrap_or("?"),
            last["command"].as_str().unwrap_or("?"),
            expected.0,
            expected.1
        ));
    }
    Ok(typed)
}
