//! Participants appearing (discovery on `fbp`) and expiring.

use super::Coordinator;
use crate::registry::Seen;
use msgflo_participant::transport::Delivery;
use msgflo_protocol::discovery::Participant;
use msgflo_protocol::messages::{ComponentOutput, Output};
use std::time::Instant;

impl Coordinator {
    /// A discovery message: malformed ones are logged with the reason and
    /// dropped (acked); new or changed participants are told to clients,
    /// bring their pending edges to life and get their role's IIPs.
    pub(super) async fn discovered(&mut self, delivery: Delivery) {
        let decoded = Participant::decode(&delivery.payload);
        if let Err(error) = delivery.ack().await {
            tracing::debug!(%error, "ack of a discovery message failed");
        }
        let participant = match decoded {
            Ok(participant) => participant,
            Err(error) => {
                tracing::warn!(%error, "discovery message dropped");
                return;
            }
        };
        let role = participant.role.to_string();
        let seen = self.registry.seen(participant, Instant::now());
        if seen == Seen::Same {
            return;
        }
        tracing::info!(%role, ?seen, "participant");
        for info in self.catalogue().of_role(&role) {
            self.broadcast(&Output::Component(ComponentOutput::Component(info)));
        }
        self.replan().await;
        if self.release_iips().await {
            return;
        }
        if seen == Seen::New && self.started && !self.iips_waiting.remove(&role) {
            self.send_iips(Some(&role)).await;
        }
    }

    /// Forgets participants silent for too long, and tells clients.
    pub(super) async fn expire(&mut self, now: Instant) {
        let gone = self.registry.expire(now);
        if gone.is_empty() {
            return;
        }
        for participant in &gone {
            tracing::info!(id = %participant.id, role = %participant.role, "participant expired");
            let message = format!(
                "participant {} of role {} expired: no discovery message for {:?}",
                participant.id, participant.role, self.config.participant_timeout
            );
            let output = Output::Network(msgflo_protocol::messages::NetworkOutput::Output(
                msgflo_protocol::messages::OutputMessage {
                    message,
                    kind: None,
                    url: None,
                },
            ));
            self.broadcast(&output);
        }
        self.replan().await;
    }
}
