//! A real RabbitMQ node of the test's own (`scripts/rabbitmq-cluster`, one
//! node on free ports) SIGKILLed and started again while numbered messages
//! flow through a `core/Repeat` participant: the participant and the
//! client reconnect (RabbitMQ refuses connections while it boots), classic
//! durable queues keep what was confirmed, nothing is lost. The proxy
//! restarts of `broker_restarts.rs` only close connections; this is the
//! broker itself going away.
//!
//! The same kill with transient messages: what was queued is lost, the flow
//! comes back.
//!
//! A measurement of the chaos suite (about 40 s each), outside the test command:
//! `cargo test -p msgflo-tests --test rabbitmq_restart -- --ignored --nocapture`.

use anyhow::{ensure, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{DeliveryMode, Transport};
use msgflo_tests::flow::{sink, through_fault, Recovery};
use msgflo_tests::lossy::through_lossy_fault;
use msgflo_tests::numbered::{send_numbered, send_numbered_as};
use msgflo_tests::process::{participant, spawn_ready, Spawned};
use msgflo_tests::rabbitmq_cluster::Cluster;
use msgflo_tests::{client, unique};
use std::sync::Arc;
use std::time::Duration;

/// How long the node stays dead before it is started again.
const DOWN: Duration = Duration::from_secs(2);

/// A node of the test's own, a `core/Repeat` participant on it (role
/// `<prefix>-<uuid>`, `--id`), and a client.
struct OnItsOwnNode {
    node: Cluster,
    role: String,
    participant: Spawned,
    t: Arc<dyn Transport>,
}

impl OnItsOwnNode {
    async fn start(prefix: &str) -> Result<Self> {
        let node = Cluster::start(1)?;
        let broker = node.urls_from(0);
        let role = unique(prefix);
        let id = format!("{role}-1");
        let command = participant(&broker, &role, "core/Repeat", &["--id", &id])?;
        let (participant, _) = spawn_ready(command, Duration::from_secs(30)).await?;
        let t = client(&broker, &format!("{prefix}-client")).await?;
        Ok(Self {
            node,
            role,
            participant,
            t,
        })
    }

    fn port(&self, port: &str) -> Result<QueueName> {
        Ok(QueueName::new(format!("{}.{port}", self.role))?)
    }

    /// SIGKILLs the node and starts it again [`DOWN`] later.
    async fn restart(&self) -> Result<Recovery> {
        self.node.kill(0)?;
        tokio::time::sleep(DOWN).await;
        // Boots for some seconds: the transports' tasks run meanwhile.
        tokio::task::block_in_place(|| self.node.start_node(0))?;
        Ok(Recovery::FromItsEnd)
    }

    /// The participant stops cleanly after SIGTERM; the client closes.
    async fn stop(self) -> Result<()> {
        self.participant
            .stop_cleanly(Duration::from_secs(10))
            .await?;
        self.t.close().await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "chaos suite: starts a RabbitMQ node of its own (about 40 s)"]
async fn a_rabbitmq_node_killed_and_started_again_under_load_loses_nothing() -> Result<()> {
    let n: usize = std::env::var("MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let on = OnItsOwnNode::start("restart").await?;
    let mut received = sink(&on.t, &on.port("OUT")?, "restart.sink").await?;
    let sender = send_numbered(on.t.clone(), on.port("IN")?, n, 2_000);
    let restart = || async { Ok(((), on.restart().await?)) };
    let wait = Duration::from_secs(60);
    let (tally, _) = through_fault(&mut received, &sender, n, wait, n / 2, restart).await?;
    sender.finish().await?;
    tally.report(
        "broker SIGKILLed, started again 2 s later (recovery: from its start)",
        "AMQP",
        n as u64,
    );
    ensure!(tally.lost(n as u64) == 0, "lost messages");
    on.stop().await
}

/// Transient messages (`DeliveryMode::Transient`, as msgflo-nodejs sends)
/// across the same kill: what sat in the node's queues is lost — RabbitMQ
/// keeps transient messages in memory only — and the flow comes back on
/// its own: the participant and client reconnect and every message sent
/// after that comes out. Prints how many were lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "chaos suite: starts a RabbitMQ node of its own (about 40 s)"]
async fn transient_messages_lose_only_what_was_queued_when_the_node_is_killed() -> Result<()> {
    let (n, window) = (10_000, 2_000);
    let on = OnItsOwnNode::start("transient-restart").await?;
    let source = QueueName::new(unique("transient-restart.src"))?;
    on.t.declare_outport(&source).await?;
    on.t.bind(&source, &on.port("IN")?).await?;
    let mut received = sink(&on.t, &on.port("OUT")?, "transient-restart.sink").await?;
    let sender = send_numbered_as(on.t.clone(), source, DeliveryMode::Transient, n, window);
    let (wait, quiet) = (Duration::from_secs(60), Duration::from_secs(10));
    let restart = || on.restart();
    let tally = through_lossy_fault(&mut received, &sender, n, wait, quiet, n / 2, restart).await?;
    sender.finish().await?;
    let lost = tally.lost(n as u64);
    tally.report_allowing_loss(
        "transient messages, broker SIGKILLed, started again 2 s later (loss allowed)",
        "AMQP",
        n as u64,
    );
    // At most what was on its way: the sender keeps `window` ahead.
    ensure!(
        lost <= window as u64,
        "lost {lost}, more than the {window} on their way"
    );
    ensure!(
        tally.highest() == Some(n as u64 - 1),
        "the last message did not come out"
    );
    on.stop().await
}
