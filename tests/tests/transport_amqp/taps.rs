//! A tap nobody reads cannot grow the broker's memory: its queue keeps at
//! most `TAP_MAX_LENGTH` (10,000) ready copies, the oldest dropped first,
//! while the outport's own consumers get everything. In a vhost of the
//! test's own.

use super::{rabbitmqctl, Amqp, Harness};
use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::vhost::Vhost;
use serde_json::Value;

/// How many copies a tap keeps ready (the transport's `TAP_MAX_LENGTH`).
const BOUND: u64 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tap_nobody_reads_keeps_at_most_its_bound() -> Result<()> {
    let vhost = Vhost::new("taps")?;
    let t = Amqp::on(vhost.url()).connect("tapper").await?;
    let out = QueueName::new("src.OUT")?;
    let inq = QueueName::new("dst.IN")?;
    t.declare_outport(&out).await?;
    t.bind(&out, &inq).await?;
    // Taken, never read: its consumer holds what its prefetch lets it.
    let tap = t.tap(&out).await?;
    let sent = BOUND + 2_000;
    for i in 0..sent {
        t.publish(&out, Bytes::from(i.to_string())).await?;
    }
    let listing = rabbitmqctl(&[
        "list_queues",
        "-p",
        vhost.name(),
        "name",
        "messages_ready",
        "messages_unacknowledged",
        "arguments",
        "--formatter",
        "json",
    ])
    .await?;
    let listing: Value = serde_json::from_str(&listing)?;
    let queues = listing.as_array().context("a JSON list of queues")?;
    let find = |name: &str| queues.iter().find(|q| q["name"] == name).cloned();
    let tapped = find(tap.queue.as_str()).context("the tap's queue")?;
    let ready = tapped["messages_ready"]
        .as_u64()
        .context("messages_ready")?;
    let held = tapped["messages_unacknowledged"].as_u64().unwrap_or(0);
    ensure!(ready <= BOUND, "the tap keeps {ready} ready: {tapped}");
    ensure!(ready + held < sent, "nothing was dropped: {tapped}");
    // The inport bound beside it lost nothing.
    let bound = find(inq.as_str()).context("the inport's queue")?;
    ensure!(bound["messages_ready"].as_u64() == Some(sent), "{bound}");
    t.close().await?;
    Ok(())
}
