//! A three-node RabbitMQ cluster on this machine (`scripts/rabbitmq-cluster`,
//! nodes of the test's own on free ports) with quorum-queue inports, and the
//! node that leads the participant's inport SIGKILLed under load — the node
//! the participant is connected to, or another one: nothing lost. The participant and the test's client each get all three nodes as
//! one broker list and fail over; publisher confirms and acks do the rest.
//!
//! A measurement of the chaos suite (about a minute, 30 s of it starting the
//! nodes), run outside the test command:
//! `cargo test -p msgflo-tests --test rabbitmq_cluster -- --ignored --nocapture`
//! (`MESSAGES=N`, default 10,000). Figures in RELIABILITY.md.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{connect, ConnectOptions, QueueType};
use msgflo_tests::flow::{sink, through_fault, Recovery};
use msgflo_tests::numbered::send_numbered;
use msgflo_tests::process::{participant, spawn_ready};
use msgflo_tests::rabbitmq_cluster::Cluster;
use msgflo_tests::unique;
use std::time::{Duration, Instant};

/// Where things are before the kill: the participant connects to node 0
/// first; its inport is declared first through `leader` (quorum queues are
/// led by the node they were declared on); the test's client (sender and
/// sink) connects to `client` first.
struct Placement {
    leader: usize,
    client: usize,
}

impl Placement {
    fn scenario(&self) -> &'static str {
        if self.leader == 0 {
            "node leading a quorum inport SIGKILLed: the participant's node"
        } else {
            "node leading a quorum inport SIGKILLed: another node"
        }
    }
}

#[tokio::test]
#[ignore = "chaos suite: starts a three-node RabbitMQ cluster (about a minute)"]
async fn killing_the_leader_of_a_quorum_inport_and_the_participants_node_loses_nothing(
) -> Result<()> {
    leader_killed_under_load(Placement {
        leader: 0,
        client: 1,
    })
    .await
}

#[tokio::test]
#[ignore = "chaos suite: starts a three-node RabbitMQ cluster (about a minute)"]
async fn killing_the_leader_of_a_quorum_inport_on_another_node_loses_nothing() -> Result<()> {
    leader_killed_under_load(Placement {
        leader: 1,
        client: 2,
    })
    .await
}

async fn leader_killed_under_load(placement: Placement) -> Result<()> {
    let n: usize = std::env::var("MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let started = Instant::now();
    let cluster = Cluster::start(3)?;
    eprintln!("three nodes clustered in {:?}", started.elapsed());
    let quorum = |name: &str| ConnectOptions {
        client_id: unique(name),
        queue_type: QueueType::Quorum,
        ..ConnectOptions::default()
    };
    let role = unique("cluster");
    let inport = format!("{role}.IN");
    let placing = connect(&cluster.nodes[placement.leader].1, quorum("placing")).await?;
    placing
        .declare_inport(&QueueName::new(inport.as_str())?)
        .await?;
    placing.close().await?;

    let id = format!("{role}-1");
    let extra = ["--queue-type", "quorum", "--id", &id];
    let command = participant(&cluster.urls_from(0), &role, "core/Repeat", &extra)?;
    let (participant, _) = spawn_ready(command, Duration::from_secs(30)).await?;

    let t = connect(
        &cluster.urls_from(placement.client),
        quorum("cluster-client"),
    )
    .await?;
    let outport = QueueName::new(format!("{role}.OUT"))?;
    let mut received = sink(&t, &outport, "cluster.sink").await?;
    let sender = send_numbered(
        t.clone(),
        QueueName::new(inport.as_str())?,
        n,
        usize::MAX >> 4,
    );
    let kill_leader = || async {
        let survivor = (placement.leader + 2) % 3;
        let leader = cluster.leader_of(&inport, survivor)?;
        ensure!(
            leader == placement.leader,
            "{inport} is led by node {} instead of node {}",
            leader + 1,
            placement.leader + 1
        );
        cluster.kill(leader)?;
        Ok(((), Recovery::FromFault))
    };
    let wait = Duration::from_secs(60);
    let (tally, killed) =
        through_fault(&mut received, &sender, n, wait, n / 2, kill_leader).await?;
    killed.context("no node was killed")?;
    sender.finish().await?;
    tally.report(placement.scenario(), "AMQP, 3-node cluster", n as u64);
    ensure!(tally.lost(n as u64) == 0, "lost messages");
    eprintln!("{:?} in all", started.elapsed());
    participant.stop_cleanly(Duration::from_secs(10)).await?;
    t.close().await?;
    Ok(())
}
