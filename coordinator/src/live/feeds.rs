//! The tasks that receive from the broker for the core: the discovery
//! queue and the taps. Each acks what it receives (within [`ACK_WAIT`]: a
//! broker that does not answer never holds anything up) and passes the
//! payload on as an event — a tapped message with the brackets of its
//! `msgflo-brackets` header (a malformed header counts as none, logged).
//! The forwards are in [`crate::relay`].

use super::Report;
use crate::core::Event;
use crate::relay::ack;
use msgflo_protocol::brackets::{self, Framing};
use msgflo_protocol::ids::QueueName;
use msgflo_transport::{Consumer, Delivery};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Feeds discovery messages to the core until the consumer ends.
pub(super) fn discovery(mut consumer: Consumer, report: mpsc::Sender<Report>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(delivery) = consumer.next().await {
            let payload = delivery.payload.clone();
            let age = delivery
                .sent_at
                .and_then(|sent| std::time::SystemTime::now().duration_since(sent).ok());
            ack(delivery, "discovery").await;
            if report
                .send(Report::Core(Event::Discovery { payload, age }))
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
