//! Numbered messages (`{"n":0}`, `{"n":1}`, ...) sent with a window: at most
//! `window` may be on their way (sent, not yet seen coming out) at once. An
//! MQTT broker has no back-pressure from subscribers to publishers and
//! Mosquitto drops QoS 1 messages beyond `max_queued_messages` (1000 by
//! default), so MQTT tests keep the window below that.

use anyhow::{Context, Result};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{DeliveryMode, Headers, Transport};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Sends `{"n": i}` for `i` in `0..n` in the background.
pub struct NumberedSender {
    credit: Arc<Semaphore>,
    /// Sends that returned.
    sent: Arc<AtomicUsize>,
    task: JoinHandle<Result<()>>,
}

/// Starts sending `n` numbered messages to `queue` (100 confirmed sends in
/// parallel), never more than `window` ahead of [`NumberedSender::came_out`].
pub fn send_numbered(
    transport: Arc<dyn Transport>,
    queue: QueueName,
    n: usize,
    window: usize,
) -> NumberedSender {
    send_each(n, window, move |payload| {
        let (t, q) = (transport.clone(), queue.clone());
        async move { t.send_to_inport(&q, payload).await }
    })
}

/// [`send_numbered`], published to `outport` (bound to the inport) in
/// `mode`.
pub fn send_numbered_as(
    transport: Arc<dyn Transport>,
    outport: QueueName,
    mode: DeliveryMode,
    n: usize,
    window: usize,
) -> NumberedSender {
    send_each(n, window, move |payload| {
        let (t, q) = (transport.clone(), outport.clone());
        async move { t.publish_as(&q, payload, &Headers::new(), mode).await }
    })
}

fn send_each<F, Fut>(n: usize, window: usize, send: F) -> NumberedSender
where
    F: Fn(Bytes) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = msgflo_participant::transport::Result<()>> + Send,
{
    let credit = Arc::new(Semaphore::new(window.min(Semaphore::MAX_PERMITS)));
    let sent = Arc::new(AtomicUsize::new(0));
    let (sender_credit, counted) = (credit.clone(), sent.clone());
    let task = tokio::spawn(async move {
        stream::iter(0..n)
            .map(|i| {
                let (credit, counted) = (sender_credit.clone(), counted.clone());
                let sending = send(Bytes::from(format!("{{\"n\":{i}}}")));
                async move {
                    if let Ok(permit) = credit.acquire().await {
                        permit.forget();
                    }
                    sending.await?;
                    counted.fetch_add(1, Ordering::Relaxed);
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(100)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    });
    NumberedSender { credit, sent, task }
}

impl NumberedSender {
    /// A message came out for the first time: one more may be sent.
    pub fn came_out(&self) {
        self.credit.add_permits(1);
    }

    /// How many sends returned so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// Waits until every message was sent (and confirmed).
    pub async fn finish(self) -> Result<()> {
        self.task.await.context("sender task")?
    }
}

/// The `n` of a numbered message.
pub fn number_of(payload: &[u8]) -> Result<u64> {
    let value: serde_json::Value = serde_json::from_slice(payload).context("message is JSON")?;
    value["n"].as_u64().context("message has n")
}
