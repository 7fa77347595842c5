//! Adopting the broker-side sessions that killed participants of this role
//! left behind (MQTT participants in process slots: `slot.rs`). Every
//! second a participant looks for slots of its role on this machine that
//! nobody holds although their session was never ended — the holder died —
//! and takes each over ([`Transport::adopt_session`]): what waited in the
//! dead one's session comes back to the role's share group, and the
//! session leaves it, so it stops taking turns. A process started in the
//! dead one's place first would have resumed the session instead; the slot
//! lock lets only one of them have it. The dead one's control session is
//! ended too.

use crate::slot;
use crate::transport::{BrokerUrl, Transport};
use msgflo_protocol::ids::Role;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often slots are looked at.
const EVERY: Duration = Duration::from_secs(1);

/// The client id of participant `id`'s control connection (see
/// `control_connection` in `mod.rs`).
fn control_client_id(id: &str) -> String {
    format!("{id}{}", super::CONTROL_SUFFIX)
}

/// Adopts orphaned sessions of `role` on `broker` until `stopped`.
pub(crate) async fn orphans(
    transport: Arc<dyn Transport>,
    role: Role,
    broker: BrokerUrl,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = super::until_stopped(&mut stopped) => return,
            _ = tick.tick() => {}
        }
        for orphan in slot::orphans(role.as_str(), &broker) {
            match transport.adopt_session(&orphan.id).await {
                Ok(messages) => {
                    tracing::warn!(id = %orphan.id, messages, "adopted the session of a participant of this role that died: its messages are back on the inports");
                    // Its control session (calls to a dead participant) goes too.
                    let control = control_client_id(&orphan.id);
                    if let Err(error) = transport.end_session(&control).await {
                        tracing::debug!(%control, %error, "could not end a dead participant's control session");
                    }
                    orphan.adopted();
                }
                Err(error) => {
                    tracing::warn!(id = %orphan.id, %error, "could not adopt the session of a participant of this role that died; trying again");
                }
            }
        }
    }
}
