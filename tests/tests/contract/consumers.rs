//! Contract cases about a connection and its consumers as they run: whether
//! the connection is up, and changing a running consumer's prefetch.

use super::{inport, next, numbered, take, Harness};
use anyhow::{ensure, Result};
use bytes::Bytes;
use std::time::Duration;

/// `set_prefetch` changes how many unacked messages a running consumer
/// takes, up and down, without losing or repeating one; an inport the
/// transport does not consume is an error. While it changes, the messages
/// already held may or may not count against the new limit (AMQP cancels
/// and consumes again: they do not), so raising 2 -> 5 with 2 held brings
/// 3 to 5 more, never all.
pub async fn set_prefetch_changes_a_running_consumer(h: &dyn Harness) -> Result<()> {
    let t = h.connect("prefetch").await?;
    let i = inport(&t, "contract.prefetch.IN").await?;
    let mut c = t.consume(&i, 2).await?;
    let msgs = numbered("prefetch", 10);
    for m in &msgs {
        t.send_to_inport(&i, m.clone()).await?;
    }
    let quiet = Duration::from_millis(300);
    let mut held = vec![next(&mut c).await?, next(&mut c).await?];
    let more = tokio::time::timeout(quiet, c.next()).await;
    ensure!(more.is_err(), "a third message with prefetch 2");
    t.set_prefetch(&i, 5).await?;
    for _ in 0..3 {
        held.push(next(&mut c).await?);
    }
    while let Ok(Some(d)) = tokio::time::timeout(quiet, c.next()).await {
        held.push(d);
    }
    ensure!(
        held.len() <= 7,
        "{} held with prefetch 5 (2 before)",
        held.len()
    );
    t.set_prefetch(&i, 1).await?;
    let mut got: Vec<Bytes> = held.iter().map(|d| d.payload.clone()).collect();
    let rest = msgs.len() - held.len();
    for d in held {
        d.ack().await?;
    }
    got.extend(take(&mut c, rest).await?);
    got.sort();
    let mut sent = msgs.clone();
    sent.sort();
    ensure!(got == sent, "lost or repeated: {got:?}");
    let other = inport(&t, "contract.prefetch.other").await?;
    ensure!(
        t.set_prefetch(&other, 3).await.is_err(),
        "not consumed, yet no error"
    );
    Ok(())
}

/// A transport says it is connected once connected, and not once closed
/// (what a participant's `health` reports).
pub async fn says_whether_it_is_connected(h: &dyn Harness) -> Result<()> {
    let t = h.connect("connected").await?;
    ensure!(t.is_connected(), "not connected right after connecting");
    t.close().await?;
    ensure!(!t.is_connected(), "still connected after close");
    Ok(())
}
