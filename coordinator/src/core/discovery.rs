//! Participants appearing (discovery on `fbp`), announcing themselves again,
//! and expiring. What the registry takes at all: `admission.rs`.

use super::admission::{Announcement, Refusal};
use super::{Action, Core};
use crate::bindings::Link;
use crate::registry::Seen;
use msgflo_protocol::discovery::Participant;
use msgflo_protocol::messages::{ComponentOutput, Output};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// A participant announcing itself faster than this gets its
/// `connectinport`s said again at most this often.
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(1);

impl Core {
    /// A discovery message: malformed ones are logged with the reason and
    /// dropped; new or changed participants are told to clients (the
    /// desired links follow), get their role's IIPs; a heartbeat says the
    /// participant's `connectinport`s again (at most every
    /// [`REFRESH_AT_MOST_EVERY`]). Announcements the limits refuse change
    /// nothing (`admission.rs`).
    pub(super) fn discovered(&mut self, payload: &[u8], age: Option<Duration>, now: Instant) {
        let participant = match Participant::decode(payload) {
            Ok(participant) => participant,
            Err(error) => {
                tracing::warn!(%error, "discovery message dropped");
                return;
            }
        };
        let (role, id) = (participant.role.to_string(), participant.id.clone());
        let announcement = Announcement {
            role: &role,
            known: self.registry.get(&id).is_some(),
            age,
        };
        if let Err((refusal, line)) = self.admission.judge(announcement, self.registry.len(), now) {
            if let Some(line) = line {
                self.say_refusal(refusal, line);
            }
            return;
        }
        let runtime = is_runtime(&participant).then(|| participant.component.clone());
        self.fetch_subgraph(&participant);
        let seen = self.registry.seen(participant, now);
        if seen == Seen::Same {
            if self.refresh_due(&id, now) {
                self.refresh_links_of(&id);
            }
            return;
        }
        tracing::info!(%role, ?seen, "participant");
        for info in self.catalogue().of_role(&role) {
            self.broadcast(&Output::Component(ComponentOutput::Component(info)));
        }
        if seen == Seen::New && self.network.started() && !self.iips_held() {
            self.iips_for_new(&role);
        }
        if seen == Seen::New {
            self.rewatch(&role);
            if let Some(component) = runtime {
                self.joined(&role, id, component);
            }
        }
    }

    /// A graph participant (an FBP runtime: `type` and `inqueue` announced)
    /// whose component's graph is not known yet is asked for it, once at a
    /// time; a failed ask is tried again at its next announcement.
    fn fetch_subgraph(&mut self, participant: &Participant) {
        let component = &participant.component;
        if !is_runtime(participant)
            || self.subgraphs.contains_key(component)
            || self.replays.fetching_from(&participant.id)
        {
            return;
        }
        if self.fetching.insert(component.clone()) {
            self.out.push(Action::FetchSubgraph {
                participant: participant.id.clone(),
                component: component.clone(),
            });
        }
    }

    /// A graph participant's graph came (or not): kept, and the component
    /// told to clients again, now as a subgraph. (A participant's that
    /// joined an edited role is compared instead: `replay.rs`.)
    pub(super) fn subgraph_fetched(
        &mut self,
        participant: &msgflo_protocol::ids::ParticipantId,
        component: String,
        outcome: Result<String, String>,
    ) {
        if self.joiner_fetched(participant, &outcome) {
            return;
        }
        self.fetching.remove(&component);
        match outcome {
            Ok(code) => {
                tracing::info!(%component, "graph of a graph participant known");
                self.subgraphs.insert(component.clone(), code);
                let role = self
                    .registry
                    .of_component(&component)
                    .next()
                    .map(|e| e.participant.role.to_string());
                // Its component, and the library's name for it, now subgraphs.
                for info in role
                    .map(|r| self.catalogue().of_role(&r))
                    .unwrap_or_default()
                {
                    self.broadcast(&Output::Component(ComponentOutput::Component(info)));
                }
            }
            Err(error) => {
                tracing::warn!(%component, %error, "cannot get the graph of a graph participant; asking again at its next announcement");
            }
        }
        // Participants that joined an edited role may wait for this graph.
        self.catch_up();
    }

    /// A participant said again what it said before. It may have restarted
    /// under the same id (a fixed `--id`), having forgotten its
    /// subscriptions and outport modes: its `connectinport`s and
    /// `setoutportdelivery`s are said again (taking one changes nothing for a
    /// participant that still has it). Within one discovery period, it has
    /// its links back.
    fn refresh_links_of(&mut self, id: &msgflo_protocol::ids::ParticipantId) {
        let graph = self.network.graph().to_owned();
        let links: Vec<Link> = self
            .links
            .applied()
            .iter()
            .filter(|link| {
                matches!(link, Link::ConnectInport { participant, .. }
                    | Link::OutportDelivery { participant, .. }
                    | Link::InportDelivery { participant, .. } if participant == id)
            })
            .cloned()
            .collect();
        // A mode is said again only while still wanted: an unset on its way
        // (the graph changed) must not be overtaken by a set of the old mode.
        let modes = |link: &Link| !matches!(link, Link::ConnectInport { .. });
        let wanted = match links.iter().any(modes) {
            true => self.desired_links(),
            false => BTreeSet::new(),
        };
        let links = links
            .into_iter()
            .filter(|link| !modes(link) || wanted.contains(link));
        for link in links {
            self.out.push(Action::Refresh {
                link,
                graph: graph.clone(),
            });
        }
    }

    /// Whether `id`'s `connectinport`s were said longer ago than
    /// [`REFRESH_AT_MOST_EVERY`] (then now is noted as the last time).
    fn refresh_due(&mut self, id: &msgflo_protocol::ids::ParticipantId, now: Instant) -> bool {
        if let Some(last) = self.refreshed.get(id) {
            if now.saturating_duration_since(*last) < REFRESH_AT_MOST_EVERY {
                return false;
            }
        }
        self.refreshed.insert(id.clone(), now);
        true
    }

    /// Says that announcements are being refused: in the log, and to
    /// clients unless they are only old (a backlog, no news to anyone).
    fn say_refusal(&mut self, refusal: Refusal, line: String) {
        if refusal == Refusal::Stale {
            tracing::info!("{line}");
        } else {
            tracing::warn!("{line}");
            self.tell_output(line);
        }
    }

    /// Every [`super::admission::SUMMARY_EVERY`] while announcements are
    /// refused: how many were.
    pub(super) fn sum_up_refusals(&mut self, now: Instant) {
        if let Some(line) = self.admission.summary(now) {
            tracing::warn!("{line}");
            self.tell_output(line);
        }
    }

    /// Forgets participants silent for too long, and tells clients.
    pub(super) fn expire(&mut self, now: Instant) {
        self.expire_participants(now);
        self.catch_up();
    }

    fn expire_participants(&mut self, now: Instant) {
        for participant in self.registry.expire(now) {
            tracing::info!(id = %participant.id, role = %participant.role, "participant expired");
            self.silent.remove(&participant.id);
            self.refreshed.remove(&participant.id);
            self.replays.forget(&participant.id);
            let message = format!(
                "participant {} of role {} expired: no discovery message for {:?}",
                participant.id, participant.role, self.config.participant_timeout
            );
            self.tell_output(message);
        }
    }
}

/// Whether `participant` is an FBP runtime (a graph participant): it
/// announced its `type` and `inqueue`.
fn is_runtime(participant: &Participant) -> bool {
    participant.runtime_type.is_some() && participant.inqueue.is_some()
}
