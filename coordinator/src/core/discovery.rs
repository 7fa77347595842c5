//! Participants appearing (discovery on `fbp`), announcing themselves again,
//! and expiring.

use super::{Action, Core};
use crate::bindings::Link;
use crate::registry::Seen;
use msgflo_protocol::discovery::Participant;
use msgflo_protocol::messages::{ComponentOutput, Output};
use std::time::Instant;

impl Core {
    /// A discovery message: malformed ones are logged with the reason and
    /// dropped; new or changed participants are told to clients (the
    /// desired links follow), get their role's IIPs; a heartbeat says the
    /// participant's `connectinport`s again.
    pub(super) fn discovered(&mut self, payload: &[u8], now: Instant) {
        let participant = match Participant::decode(payload) {
            Ok(participant) => participant,
            Err(error) => {
                tracing::warn!(%error, "discovery message dropped");
                return;
            }
        };
        let (role, id) = (participant.role.to_string(), participant.id.clone());
        let seen = self.registry.seen(participant, now);
        if seen == Seen::Same {
            self.refresh_links_of(&id);
            return;
        }
        tracing::info!(%role, ?seen, "participant");
        for info in self.catalogue().of_role(&role) {
            self.broadcast(&Output::Component(ComponentOutput::Component(info)));
        }
        if seen == Seen::New && self.network.started() && !self.iips_held() {
            self.iips_for_new(&role);
        }
    }

    /// A participant said again what it said before. It may have restarted
    /// under the same id (a fixed `--id`), having forgotten its
    /// subscriptions: its `connectinport`s are said again (taking one
    /// changes nothing for a participant that still has it). Within one
    /// discovery period, it has its links back.
    fn refresh_links_of(&mut self, id: &msgflo_protocol::ids::ParticipantId) {
        let graph = self.network.graph().to_owned();
        let links: Vec<Link> = self
            .links
            .applied()
            .iter()
            .filter(
                |link| matches!(link, Link::ConnectInport { participant, .. } if participant == id),
            )
            .cloned()
            .collect();
        for link in links {
            self.out.push(Action::Refresh {
                link,
                graph: graph.clone(),
            });
        }
    }

    /// Forgets participants silent for too long, and tells clients.
    pub(super) fn expire(&mut self, now: Instant) {
        for participant in self.registry.expire(now) {
            tracing::info!(id = %participant.id, role = %participant.role, "participant expired");
            self.silent.remove(&participant.id);
            let message = format!(
                "participant {} of role {} expired: no discovery message for {:?}",
                participant.id, participant.role, self.config.participant_timeout
            );
            self.tell_output(message);
        }
    }
}
