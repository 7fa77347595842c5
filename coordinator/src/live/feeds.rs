//! The tasks that receive from the broker for the core: the discovery
//! queue and the taps. Each acks what it receives (within [`ACK_WAIT`]: a
//! broker that does not answer never holds anything up) and passes the
//! payload on as an event — a tapped message with the brackets of its
//! `msgflo-brackets` header (a malformed header counts as none, logged). And the forwards: messages passed on to an
//! inport for participants that take no `connectinport`.

use super::Report;
use crate::core::Event;
use msgflo_protocol::brackets::{self, Framing};
use msgflo_protocol::ids::QueueName;
use msgflo_transport::{Consumer, Delivery};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long an ack may take before it is given up (the message comes back
/// after a reconnect at worst).
const ACK_WAIT: Duration = Duration::from_secs(5);

/// Feeds discovery messages to the core until the consumer ends.
pub(super) fn discovery(mut consumer: Consumer, report: mpsc::Sender<Report>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(delivery) = consumer.next().await {
            let payload = delivery.payload.clone();
            ack(delivery, "discovery").await;
            if report
                .send(Report::Core(Event::Discovery(payload)))
                .await
                .is_err()
            {
                break;
            }
        }
    })
}

/// Feeds a tap's copies to the core until the consumer ends (the tap was
/// ended) or the task is aborted; while `active` is false, copies are acked
/// and dropped.
pub(super) fn tap(
    queue: QueueName,
    mut consumer: Consumer,
    report: mpsc::Sender<Report>,
    active: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(delivery) = consumer.next().await {
            let payload = delivery.payload.clone();
            let brackets = framing(&queue, &delivery);
            ack(delivery, "watched message").await;
            if !*active.borrow() {
                continue;
            }
            let event = Event::Tapped {
                queue: queue.clone(),
                payload,
                brackets,
            };
            if report.send(Report::Core(event)).await.is_err() {
                break;
            }
        }
    })
}

/// The brackets in a delivery's `msgflo-brackets` header; none without
/// it, or when it is malformed.
fn framing(queue: &QueueName, delivery: &Delivery) -> Framing {
    let Some(value) = delivery.headers.get(brackets::HEADER) else {
        return Framing::default();
    };
    Framing::decode(value).unwrap_or_else(|error| {
        tracing::debug!(%queue, %error, "brackets of a watched message ignored");
        Framing::default()
    })
}

async fn ack(delivery: Delivery, what: &str) {
    match tokio::time::timeout(ACK_WAIT, delivery.ack()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%error, "ack of a {what} failed"),
        Err(_) => tracing::debug!("ack of a {what} took over {ACK_WAIT:?}; given up"),
    }
}

/// Passes every message of `consumer` (a tap on an outport) on to `inport`,
/// byte for byte, acking it once the broker confirmed the copy; while
/// `active` is false, messages are acked and dropped. A copy that cannot be
/// sent is left unacked (the broker sends it again after a reconnect).
pub(super) fn forward(
    transport: std::sync::Arc<dyn msgflo_transport::Transport>,
    inport: QueueName,
    mut consumer: Consumer,
    active: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(delivery) = consumer.next().await {
            if !*active.borrow() {
                ack(delivery, "message of an edge no longer forwarded").await;
                continue;
            }
            let sent = tokio::time::timeout(
                ACK_WAIT,
                transport.send_to_inport(&inport, delivery.payload.clone()),
            )
            .await;
            match sent {
                Ok(Ok(())) => ack(delivery, "forwarded message").await,
                Ok(Err(error)) => {
                    tracing::warn!(%inport, %error, "forwarding failed; left unacked")
                }
                Err(_) => {
                    tracing::warn!(%inport, "forwarding took over {ACK_WAIT:?}; left unacked")
                }
            }
        }
    })
}
