//! Every message the transport publishes carries the time it was sent (the
//! AMQP `timestamp` property, whole seconds), and a delivery says it: the
//! coordinator tells a stale backlog in `fbp` from live announcements so.

use super::{Amqp, Harness};
use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use std::time::{Duration, SystemTime};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_says_when_it_was_published() -> Result<()> {
    let vhost = msgflo_tests::vhost::Vhost::new("stamps")?;
    let t = Amqp::on(vhost.url()).connect("stamps").await?;
    let queue = QueueName::new("stamped.IN")?;
    t.declare_inport(&queue).await?;
    let mut consumer = t.consume(&queue, 1).await?;
    let before = SystemTime::now();
    t.send_to_inport(&queue, Bytes::from_static(b"1")).await?;
    let delivery = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await?
        .context("the consumer ended")?;
    let after = SystemTime::now();
    let sent = delivery.sent_at.context("no timestamp on the delivery")?;
    // Whole seconds: up to a second before `before`.
    ensure!(
        sent + Duration::from_secs(1) >= before && sent <= after,
        "sent at {sent:?}, published between {before:?} and {after:?}"
    );
    delivery.ack().await?;
    t.close().await?;
    Ok(())
}
