//! Inports as RabbitMQ quorum queues, opted into per participant
//! (`--queue-type quorum`, or `MSGFLO_QUEUE_TYPE`): the participant's inport
//! and its dead-letter queue are quorum queues, messages go through and are
//! dead-lettered as with classic ones, and a participant that asks for the
//! other type of an existing queue is refused in one line that says what to
//! do. On this machine's single RabbitMQ node (a quorum of one), in a vhost of
//! the test's own; the three-node cluster is `tests/rabbitmq_cluster.rs`.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{connect, ConnectOptions, QueueType};
use msgflo_tests::flow::{no_fault, sink, through_fault};
use msgflo_tests::numbered::send_numbered;
use msgflo_tests::process::{participant, run_to_end, spawn_ready};
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{next_payload, unique};
use std::time::Duration;

#[tokio::test]
async fn a_quorum_participant_declares_quorum_queues_and_loses_nothing() -> Result<()> {
    let vhost = Vhost::new("quorum")?;
    let role = unique("quorum");
    let (child, _) = spawn_ready(
        participant(
            vhost.url(),
            &role,
            "core/Repeat",
            &["--queue-type", "quorum"],
        )?,
        Duration::from_secs(30),
    )
    .await?;
    let types = vhost.queue_types()?;
    let inport = format!("{role}.IN");
    ensure!(
        types.get(&inport).map(String::as_str) == Some("quorum")
            && types.get(&format!("dead-{inport}")).map(String::as_str) == Some("quorum"),
        "inport and dead letters are quorum queues: {types:?}"
    );
    ensure!(
        types
            .iter()
            .filter(|(name, _)| name.starts_with(".fbp."))
            .all(|(_, kind)| kind == "classic"),
        "control queues stay classic: {types:?}"
    );

    let t = msgflo_tests::client(vhost.url(), "quorum-client").await?;
    let outport = QueueName::new(format!("{role}.OUT"))?;
    let mut received = sink(&t, &outport, "quorum.sink").await?;
    let n = 2_000;
    let sender = send_numbered(
        t.clone(),
        QueueName::new(inport.as_str())?,
        n,
        usize::MAX >> 4,
    );
    let wait = Duration::from_secs(30);
    let (tally, _) = through_fault(&mut received, &sender, n, wait, usize::MAX, no_fault).await?;
    sender.finish().await?;
    ensure!(tally.lost(n as u64) == 0, "lost messages");

    // A second participant of the role that wants classic queues is refused,
    // in one line naming the queue and the way out.
    let (code, _, stderr) = run_to_end(
        participant(vhost.url(), &role, "core/Repeat", &[])?,
        Duration::from_secs(30),
    )
    .await?;
    let line = stderr.trim();
    ensure!(code == Some(1), "exit code {code:?}: {stderr}");
    ensure!(!line.contains('\n'), "one line: {stderr}");
    ensure!(
        line.contains(&inport) && line.contains("x-queue-type") && line.contains("--queue-type"),
        "names the queue, the argument and the option: {line}"
    );
    child.stop_cleanly(Duration::from_secs(10)).await?;
    t.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_quorum_inport_dead_letters_what_is_nacked() -> Result<()> {
    let vhost = Vhost::new("quorum-dead")?;
    let options = ConnectOptions {
        queue_type: QueueType::Quorum,
        ..ConnectOptions::default()
    };
    let t = connect(vhost.url(), options).await?;
    let inport = QueueName::new(unique("quorum-dead.IN"))?;
    t.declare_inport(&inport).await?;
    let mut consumer = t.consume(&inport, 10).await?;
    t.send_to_inport(&inport, Bytes::from_static(b"refused"))
        .await?;
    let delivery = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await?
        .context("consumer ended")?;
    delivery.nack().await?;
    let dead = QueueName::new(format!("dead-{inport}"))?;
    let mut dead_letters = t.consume(&dead, 10).await?;
    let payload = next_payload(&mut dead_letters, Duration::from_secs(10)).await?;
    ensure!(&payload[..] == b"refused", "dead letter: {payload:?}");
    let types = vhost.queue_types()?;
    ensure!(
        types.get(inport.as_str()).map(String::as_str) == Some("quorum")
            && types.get(dead.as_str()).map(String::as_str) == Some("quorum"),
        "{types:?}"
    );
    t.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_queue_type_comes_from_the_environment_and_a_bad_one_is_one_line() -> Result<()> {
    let vhost = Vhost::new("quorum-env")?;
    let role = unique("quorum-env");
    let mut command = participant(vhost.url(), &role, "core/Drop", &[])?;
    command.env("MSGFLO_QUEUE_TYPE", "quorum");
    let (child, _) = spawn_ready(command, Duration::from_secs(30)).await?;
    let types = vhost.queue_types()?;
    ensure!(
        types.get(&format!("{role}.IN")).map(String::as_str) == Some("quorum"),
        "MSGFLO_QUEUE_TYPE=quorum: {types:?}"
    );
    child.stop_cleanly(Duration::from_secs(10)).await?;

    let (code, _, stderr) = run_to_end(
        participant(
            vhost.url(),
            &role,
            "core/Repeat",
            &["--queue-type", "stream"],
        )?,
        Duration::from_secs(30),
    )
    .await?;
    ensure!(code == Some(1), "exit code {code:?}");
    ensure!(
        stderr.trim()
            == "msgflo-participant: --queue-type: queue_type: expected one of classic, quorum, got \"stream\"",
        "{stderr}"
    );
    Ok(())
}
