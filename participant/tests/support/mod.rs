//! Helpers shared by the participant crate's integration tests.

use anyhow::{Context, Result};
use bytes::Bytes;
use msgflo_participant::transport::Consumer;
use std::time::Duration;

/// How long a test waits for a message that must come.
pub const WAIT: Duration = Duration::from_secs(5);

/// The next message of `consumer`, acked, within [`WAIT`].
pub async fn next(consumer: &mut Consumer) -> Result<Bytes> {
    let delivery = tokio::time::timeout(WAIT, consumer.next())
        .await
        .with_context(|| format!("nothing on {} within {WAIT:?}", consumer.queue()))?
        .context("consumer ended")?;
    let payload = delivery.payload.clone();
    delivery.ack().await?;
    Ok(payload)
}
