//! Several brokers in one `--broker` list: a participant connects to the first
//! that answers, and when its broker goes away for good it fails over to the
//! next one while messages flow — nothing lost. The first broker is a proxy
//! in front of the real one (RabbitMQ in a vhost of the test's own,
//! Mosquitto), which goes down halfway and never comes back; the second is
//! the real broker itself, so the queues (and the MQTT session) are the
//! same, as on the nodes of one cluster.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::chaos;
use msgflo_tests::flow::{sink, through_fault, Recovery};
use msgflo_tests::numbered::send_numbered;
use msgflo_tests::process::{participant, run_to_end, spawn_ready};
use msgflo_tests::proxy::CutProxy;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{mqtt_url, unique};
use std::time::Duration;
use tokio::process::Command;

const READY: Duration = Duration::from_secs(30);

fn repeat(broker: &str, role: &str) -> Result<Command> {
    participant(
        broker,
        role,
        "core/Repeat",
        &["--id", &format!("{role}-fixed")],
    )
}

/// `url` with its port replaced by `port`.
fn via(url: &str, port: u16) -> Result<String> {
    let mut url = url::Url::parse(url)?;
    url.set_port(Some(port))
        .map_err(|()| anyhow::anyhow!("{url} takes no port"))?;
    Ok(url.to_string())
}

/// `n` numbered messages through a Repeat participant given
/// `<proxy>,<broker>`; the proxy goes down for good after half came out.
async fn fails_over_losing_nothing(broker: &str, n: usize, window: usize) -> Result<()> {
    let upstream = {
        let url = url::Url::parse(broker)?;
        format!(
            "{}:{}",
            url.host_str().context("broker host")?,
            url.port_or_known_default().context("broker port")?
        )
    };
    let proxy = CutProxy::start(upstream).await?;
    let list = format!("{},{broker}", via(broker, proxy.port)?);
    let role = unique("failover");
    let (child, line) = spawn_ready(repeat(&list, &role)?, READY).await?;
    ensure!(
        line.starts_with(&format!("{role} connected to "))
            && line.contains(&proxy.port.to_string()),
        "connects to the first broker of the list first: {line:?}"
    );
    let t = msgflo_tests::client(broker, "failover-client").await?;
    let outport = QueueName::new(format!("{role}.OUT"))?;
    let mut received = sink(&t, &outport, "failover.sink").await?;
    let sender = send_numbered(t.clone(), QueueName::new(format!("{role}.IN"))?, n, window);
    let go_down = || async {
        proxy.go_down();
        Ok(((), Recovery::FromFault))
    };
    let wait = Duration::from_secs(30);
    let (tally, _) = through_fault(&mut received, &sender, n, wait, n / 2, go_down).await?;
    sender.finish().await?;
    tally.report(
        "first broker of the list gone for good: failover to the next",
        chaos::broker_kind(broker),
        n as u64,
    );
    ensure!(tally.lost(n as u64) == 0, "lost messages");
    let (code, stderr) = child.terminate(Duration::from_secs(10)).await?;
    ensure!(
        code == Some(0),
        "exit code after SIGTERM: {code:?}: {stderr}"
    );
    ensure!(
        stderr.contains("failed over to another broker"),
        "the failover is said: {stderr}"
    );
    t.close().await?;
    Ok(())
}

#[tokio::test]
async fn amqp_participant_fails_over_to_the_next_broker_losing_nothing() -> Result<()> {
    let vhost = Vhost::new("failover")?;
    fails_over_losing_nothing(vhost.url(), 4_000, usize::MAX >> 4).await
}

#[tokio::test]
async fn mqtt_participant_fails_over_to_the_next_broker_losing_nothing() -> Result<()> {
    fails_over_losing_nothing(&mqtt_url(), 2_000, 100).await
}

#[tokio::test]
async fn a_dead_first_broker_is_skipped_and_none_alive_is_one_line_naming_each() -> Result<()> {
    let vhost = Vhost::new("failover-dead")?;
    let dead = via(vhost.url(), 1)?;
    let role = unique("failover-skip");
    let list = format!("{dead},{}", vhost.url());
    let (child, line) = spawn_ready(repeat(&list, &role)?, READY).await?;
    ensure!(
        line.starts_with(&format!("{role} connected to amqp://guest@127.0.0.1:5672")),
        "names the broker it reached: {line:?}"
    );
    child.stop_cleanly(Duration::from_secs(10)).await?;

    let both_dead = format!("{dead},{}", via(vhost.url(), 2)?);
    let (code, stdout, stderr) =
        run_to_end(repeat(&both_dead, &role)?, Duration::from_secs(30)).await?;
    ensure!(code == Some(1), "exit code {code:?}, stdout {stdout:?}");
    let line = stderr.trim();
    ensure!(!line.contains('\n'), "one line: {stderr}");
    ensure!(
        line.contains("cannot connect to any of amqp://guest@127.0.0.1:1/")
            && line.contains("amqp://guest@127.0.0.1:2/")
            && line.matches("refused").count() == 2,
        "names each broker and why: {line}"
    );
    ensure!(!line.contains(":guest@"), "no password: {line}");
    Ok(())
}
