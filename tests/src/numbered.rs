//! Numbered messages (`{"n":0}`, `{"n":1}`, ...) sent with a window: at most
//! `window` may be on their way (sent, not yet seen coming out) at once. An
//! MQTT broker has no back-pressure from subscribers to publishers and
//! Mosquitto drops QoS 1 messages beyond `max_queued_messages` (1000 by
//! default), so MQTT tests keep the window below that.

use anyhow::{Context, Result};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::Transport;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Sends `{"n": i}` for `i` in `0..n` in the background.
pub struct NumberedSender {
    credit: Arc<Semaphore>,
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
    let credit = Arc::new(Semaphore::new(window.min(Semaphore::MAX_PERMITS)));
    let sender_credit = credit.clone();
    let task = tokio::spawn(async move {
        stream::iter(0..n)
            .map(|i| {
                let (t, q, credit) = (transport.clone(), queue.clone(), sender_credit.clone());
                async move {
                    if let Ok(permit) = credit.acquire().await {
                        permit.forget();
                    }
                    t.send_to_inport(&q, Bytes::from(format!("{{\"n\":{i}}}")))
                        .await
                }
            })
            .buffer_unordered(100)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    });
    NumberedSender { credit, task }
}

impl NumberedSender {
    /// A message came out for the first time: one more may be sent.
    pub fn came_out(&self) {
        self.credit.add_permits(1);
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
