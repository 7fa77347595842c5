//! Participants that declare their queues their own way, under our
//! coordinator on RabbitMQ, each test in a vhost of its own: msgflo-python
//! 0.4.1 names its queues `role/in`, `role/out` and declares them not
//! durable (haigha's defaults: the queue auto-delete, no dead-letter
//! argument). The coordinator binds an edge to them as they are — no
//! PRECONDITION_FAILED — and never makes a `ROLE.IN` queue that nobody
//! consumes, also not while the participant has not announced itself yet.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use lapin::options::{ExchangeDeclareOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{Consumer, Transport};
use msgflo_tests::bins::binary;
use msgflo_tests::client;
use msgflo_tests::fbp_client::start;
use msgflo_tests::process::spawn_ready;
use msgflo_tests::python::Python2;
use msgflo_tests::vhost::Vhost;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages sent through the edge once it is bound.
const MESSAGES: usize = 300;

fn q(name: &str) -> Result<QueueName> {
    Ok(QueueName::new(name)?)
}

/// Sends `"probe"` to `inport` until one arrives at `out` (the edges are
/// bound once the participants announced themselves), then `MESSAGES`
/// numbered ones; waits for every numbered one at `out` and says how long
/// that took.
async fn carries(
    t: &Arc<dyn Transport>,
    inport: &QueueName,
    out: &mut Consumer,
) -> Result<Duration> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        t.send_to_inport(inport, Bytes::from_static(b"\"probe\""))
            .await?;
        if let Ok(Some(delivery)) =
            tokio::time::timeout(Duration::from_millis(500), out.next()).await
        {
            delivery.ack().await?;
            break;
        }
        ensure!(Instant::now() < deadline, "the edges were never bound");
    }
    let started = Instant::now();
    for i in 0..MESSAGES {
        t.send_to_inport(inport, Bytes::from(format!("\"m{i}\"")))
            .await?;
    }
    let mut missing: BTreeSet<String> = (0..MESSAGES).map(|i| format!("\"m{i}\"")).collect();
    while !missing.is_empty() {
        let delivery = tokio::time::timeout(Duration::from_secs(30), out.next())
            .await
            .with_context(|| format!("{} of {MESSAGES} never arrived", missing.len()))?
            .context("consumer ended")?;
        missing.remove(String::from_utf8_lossy(&delivery.payload).as_ref());
        delivery.ack().await?;
    }
    Ok(started.elapsed())
}

/// A peer shaped like msgflo-python (declared in the test, announced by
/// hand) gets an edge from a Rust participant: nothing is bound or
/// declared for it before it announces itself, then its own `py/in` is
/// bound as it is and carries every message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_into_a_peer_waits_for_its_queue_and_leaves_no_role_in_queue() -> Result<()> {
    let vhost = Vhost::new("peer-edge")?;
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("edge.fbp");
    std::fs::write(&graph, "src(core/Repeat) OUT -> IN py(test/Peer)\n")?;
    let _coordinator = start(vhost.url(), &["--graph", &graph.display().to_string()]).await?;
    let mut src = tokio::process::Command::new(binary("msgflo-participant")?);
    src.args(["--name", "src", "--component", "core/Repeat", "--broker"])
        .arg(vhost.url());
    let (_src, _) = spawn_ready(src, Duration::from_secs(30)).await?;

    // The source runs, its target is not there: nothing for it yet.
    let t = client(vhost.url(), "peer-edge").await?;
    for _ in 0..10 {
        t.send_to_inport(&q("src.IN")?, Bytes::from_static(b"\"early\""))
            .await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let queues = vhost.durable_queues()?;
    ensure!(
        !queues.contains_key("py.IN") && !queues.contains_key("py/in"),
        "a queue for py before it announced itself: {queues:?}"
    );

    // The peer: its queue and exchange as haigha declares them, consumed,
    // then announced.
    let peer = Connection::connect(vhost.url(), ConnectionProperties::default()).await?;
    let ch = peer.create_channel().await?;
    let haigha_queue = QueueDeclareOptions {
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    ch.queue_declare("py/in".into(), haigha_queue, FieldTable::default())
        .await?;
    ch.exchange_declare(
        "py/out".into(),
        ExchangeKind::Fanout,
        ExchangeDeclareOptions::default(),
        FieldTable::default(),
    )
    .await?;
    let mut at_peer = t.consume(&q("py/in")?, 500).await?;
    let announcement = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": "py-1", "role": "py", "component": "test/Peer", "label": "", "icon": "",
        "inports": [{"id": "in", "type": "any", "queue": "py/in"}],
        "outports": [{"id": "out", "type": "any", "queue": "py/out"}]}});
    t.announce(Bytes::from(announcement.to_string())).await?;

    let took = carries(&t, &q("src.IN")?, &mut at_peer).await?;
    eprintln!("{MESSAGES} messages src -> py/in in {took:?}");
    let queues = vhost.durable_queues()?;
    ensure!(
        !queues.contains_key("py.IN") && !queues.contains_key("dead-py.IN"),
        "an orphan default queue: {queues:?}"
    );
    ensure!(
        queues.get("py/in") == Some(&false),
        "the peer's queue was declared again: {queues:?}"
    );
    t.close().await?;
    peer.close(200, "OK".into()).await?;
    Ok(())
}

/// The real msgflo-python 0.4.1 on Python 2.7 (its AMQP engine), started
/// by our coordinator between two Rust participants: the edges into and
/// out of its not-durable `py/in` and `py/out` carry every message, and no
/// `py.IN` is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgflo_python_on_amqp_between_rust_participants() -> Result<()> {
    let python = Python2::msgflo()?;
    let vhost = Vhost::new("py2-amqp")?;
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("repeat.py");
    std::fs::write(&script, msgflo_tests::python::REPEAT)?;
    let graph = dir.path().join("py2.fbp");
    std::fs::write(
        &graph,
        "src(core/Repeat) OUT -> IN py(py/Repeat) OUT -> IN sink(core/Repeat)\n",
    )?;
    let participant = binary("msgflo-participant")?;
    let core = |c: &str| format!("{} --name #ROLE --component {c}", participant.display());
    let library = dir.path().join("library.json");
    std::fs::write(
        &library,
        serde_json::to_vec(&json!({"components": {
            "py/Repeat": format!("{} #ROLE", python.command_line(&script)),
            "core/Repeat": core("core/Repeat"),
        }}))?,
    )?;

    let t = client(vhost.url(), "py2-amqp").await?;
    let mut out = t.tap(&q("sink.OUT")?).await?;
    let (graph, library) = (graph.display().to_string(), library.display().to_string());
    let coordinator = start(vhost.url(), &["--graph", &graph, "--library", &library]).await?;

    let took = carries(&t, &q("src.IN")?, &mut out.consumer).await?;
    eprintln!("{MESSAGES} messages src -> msgflo-python (AMQP) -> sink in {took:?}");
    let queues = vhost.durable_queues()?;
    ensure!(
        !queues.contains_key("py.IN") && !queues.contains_key("dead-py.IN"),
        "an orphan default queue: {queues:?}"
    );
    ensure!(queues.get("py/in") == Some(&false), "{queues:?}");
    let (_, stderr) = coordinator
        .process
        .terminate(Duration::from_secs(20))
        .await?;
    ensure!(!stderr.contains("PRECONDITION_FAILED"), "{stderr}");
    t.close().await?;
    Ok(())
}
