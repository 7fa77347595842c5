//! msgflo 0.12.3's own coordinator (npm, run with Node.js) still sees and
//! binds msgflo-rs participants of both kinds, on RabbitMQ in a vhost of
//! its own: a graph participant, whose discovery message carries the keys
//! of an FBP-capable participant (`type`, `version`, `inqueue`, `outqueue`),
//! and a plain `--component` one. Its graph `g OUT -> IN r` becomes a
//! binding `g.OUT -> r.IN`: every one of 100 messages sent into `g` comes
//! out of `r`, bytes unchanged.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::free_port;
use msgflo_tests::process::spawn_ready;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{client, npm};
use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(60);
const MESSAGES: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgflo_0_12_3_binds_a_graph_participant_and_a_plain_one() -> Result<()> {
    let msgflo = npm::install_with("msgflo", "0.12.3", &["amqplib@0.5.6"])?;
    let vhost = Vhost::new("msgflo-binds")?;
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("inner.fbp"),
        "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\na(core/Repeat) OUT -> IN b(core/Repeat)\n",
    )?;
    std::fs::write(
        dir.path().join("main.fbp"),
        "g(demo/Inner) OUT -> IN r(core/Repeat)\n",
    )?;
    // msgflo reads its (here empty) component library from package.json.
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"name": "binds", "msgflo": {"components": {}}}"#,
    )?;
    let port = free_port()?;
    let mut coordinator = Command::new(msgflo.join("node_modules/.bin/msgflo"))
        .args(["--graph", "main.fbp", "--broker", vhost.url(), "--port"])
        .arg(port.to_string())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start msgflo 0.12.3")?;

    let participant = |args: &[&str]| -> Result<Command> {
        let mut command = Command::new(binary("msgflo-participant")?);
        command
            .args(args)
            .args(["--broker", vhost.url()])
            .current_dir(dir.path())
            .env_remove("RUST_LOG");
        Ok(command)
    };
    let (graph, _) =
        spawn_ready(participant(&["--name", "g", "--graph", "inner.fbp"])?, WAIT).await?;
    let (plain, _) = spawn_ready(
        participant(&["--name", "r", "--component", "core/Repeat"])?,
        WAIT,
    )
    .await?;

    let t = client(vhost.url(), "msgflo-binds").await?;
    let mut out = t.tap(&QueueName::new("r.OUT")?).await?;
    let inport = QueueName::new("g.IN")?;
    // Until msgflo has bound the edge: probes sent before go nowhere.
    let deadline = Instant::now() + WAIT;
    loop {
        t.send_to_inport(&inport, Bytes::from_static(b"\"probe\""))
            .await?;
        if let Ok(Some(d)) = tokio::time::timeout(Duration::from_secs(1), out.consumer.next()).await
        {
            d.ack().await?;
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "msgflo 0.12.3 bound nothing within {WAIT:?}"
        );
        ensure!(coordinator.try_wait()?.is_none(), "msgflo 0.12.3 exited");
    }
    let sent: BTreeSet<String> = (0..MESSAGES).map(|n| format!("{{\"n\":{n}}}")).collect();
    for message in &sent {
        t.send_to_inport(&inport, Bytes::from(message.clone()))
            .await?;
    }
    let mut got = BTreeSet::new();
    while got.len() < MESSAGES {
        let d = tokio::time::timeout(WAIT, out.consumer.next())
            .await
            .context("messages stopped coming")?
            .context("the tap ended")?;
        let text = String::from_utf8(d.payload.to_vec())?;
        d.ack().await?;
        if text != "\"probe\"" {
            got.insert(text);
        }
    }
    ensure!(got == sent, "not the messages sent: {got:?}");
    drop((graph, plain));
    t.close().await?;
    Ok(())
}
