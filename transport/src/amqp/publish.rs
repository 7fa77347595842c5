//! Publishing as the transport does it: [`publish`] waits out a
//! reconnection and publishes again a message whose confirm was lost with
//! the connection (at-least-once: duplicates are possible, loss is not), on
//! the session's confirmed channel (`confirmed.rs`). A transient message
//! is done once written to the connection: no confirm to lose, so one the
//! connection took just before it died may be lost, like any transient
//! message in a broker that stops.

use super::super::{BrokerUrl, DeliveryMode, Result, TransportError};
use super::confirmed::Message;
use super::errors;
use super::state::{elapsed_ms, live_session, replaced, State};
use lapin::Confirmation;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Pause before trying again after an error that is neither a refusal nor a
/// lost connection.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Where a message goes.
pub(super) struct Route<'a> {
    /// `"publish to"` or `"send to"`, for errors.
    pub(super) operation: &'static str,
    /// The outport or inport, for errors.
    pub(super) queue: &'a str,
    /// Exchange to publish to (`""`: the default exchange).
    pub(super) exchange: &'a str,
    /// Routing key (the queue, on the default exchange).
    pub(super) routing_key: &'a str,
}

/// Publishes `message` and returns once the broker confirmed it (a
/// transient one: once it is written), waiting up to
/// `timeout` for a lost connection to come back, and publishing again a
/// message whose confirm was lost with the connection.
pub(super) async fn publish(
    mut state: watch::Receiver<State>,
    route: Route<'_>,
    message: Message<'_>,
    timeout: Duration,
    broker: &BrokerUrl,
) -> Result<()> {
    let started = Instant::now();
    let deadline = started + timeout;
    let gave_up = || TransportError::Disconnected {
        broker: broker.to_string(),
        what: format!("{} {}", route.operation, route.queue),
        waited_ms: elapsed_ms(started),
    };
    let mut refusals = 0;
    loop {
        let session = live_session(&mut state, Some(deadline))
            .await
            .map_err(|unavailable| unavailable.into_error(gave_up))?;
        // A broker that blocks publishers (memory or disk alarm) never
        // confirms: the wait for the confirm is bounded too.
        let attempt = session
            .publisher
            .publish(route.exchange, route.routing_key, message);
        let outcome = tokio::select! {
            outcome = tokio::time::timeout_at(deadline, attempt) => outcome,
            () = replaced(&mut state, &session) => {
                tracing::debug!(queue = route.queue, "connection lost before the confirm; publishing again once reconnected");
                continue;
            }
        };
        let Ok(outcome) = outcome else {
            return Err(TransportError::NotConfirmed {
                queue: route.queue.to_owned(),
            });
        };
        let error = match outcome {
            Ok(Confirmation::Ack(_)) => return Ok(()),
            // Transient: its frames are written, ahead of whatever follows.
            Ok(Confirmation::NotRequested) if message.mode == DeliveryMode::Transient => {
                return Ok(())
            }
            Ok(_) => {
                return Err(TransportError::NotConfirmed {
                    queue: route.queue.to_owned(),
                })
            }
            Err(error) => error,
        };
        if !session.alive() {
            tracing::debug!(queue = route.queue, %error, "publish interrupted by the connection loss; publishing again once reconnected");
        } else if errors::is_refusal(&error) {
            // The broker closed the channel: this message's fault, or another
            // one's in flight on the same channel. Try once on a fresh channel.
            refusals += 1;
            if refusals > 1 {
                return Err(errors::broker(route.operation, route.queue, &error));
            }
        } else if Instant::now() + RETRY_PAUSE >= deadline {
            return Err(errors::broker(route.operation, route.queue, &error));
        } else {
            tracing::debug!(queue = route.queue, %error, "publish failed; trying again");
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }
}
