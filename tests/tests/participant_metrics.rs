//! `msgflo-participant --metrics-addr`: a real participant on RabbitMQ (in a
//! vhost of its own) serves `GET /metrics` in the Prometheus text format,
//! read here with a Prometheus text parser; scraped before, during and after
//! N messages, its counters grew by exactly N in and N out, the processing
//! histogram by N observations. Also as a graph participant (the address from
//! `$MSGFLO_METRICS_ADDR`), one with two exported outports counted apart
//! (in `/metrics` and in the `health` call's `sent`), a broker connection
//! cut and restored through a proxy (`broker_reconnects_total` 0 -> 1, and
//! `health` says 1), and a bad address is one line at start.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_coordinator::calls::Caller;
use msgflo_participant::protocol::calls::{Health, HEALTH};
use msgflo_participant::protocol::ids::{ParticipantId, QueueName};
use msgflo_participant::transport::Transport;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::free_port;
use msgflo_tests::process::{participant, run_to_end, spawn_ready};
use msgflo_tests::proxy::CutProxy;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{next_payload, unique};
use prometheus_parse::{Sample, Scrape, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

const N: usize = 25;
const READY: Duration = Duration::from_secs(30);

/// `GET http://{addr}{path}`.
async fn get(addr: &str, path: &str) -> Result<reqwest::Response> {
    // reqwest's rustls wants a crypto provider, even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::get(format!("http://{addr}{path}")).await?)
}

/// One scrape of `addr`, parsed; checks the status and the content type.
async fn scrape(addr: &str) -> Result<Scrape> {
    let answer = get(addr, "/metrics").await?;
    ensure!(answer.status() == 200, "GET /metrics: {}", answer.status());
    let kind = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    ensure!(
        kind.starts_with("text/plain; version=0.0.4"),
        "content type {kind:?}"
    );
    let text = answer.text().await?;
    Ok(Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))?)
}

/// The sample of metric `name` whose `port` label is `port` (any case: a
/// graph's exported names are the queue suffixes), of role `role`.
fn sample<'a>(scrape: &'a Scrape, name: &str, role: &str, port: &str) -> Result<&'a Sample> {
    scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == name
                && s.labels.get("role") == Some(role)
                && s.labels
                    .get("port")
                    .is_some_and(|p| p.eq_ignore_ascii_case(port))
        })
        .with_context(|| format!("no {name}{{role={role},port={port}}}"))
}

fn counter(scrape: &Scrape, name: &str, role: &str, port: &str) -> Result<f64> {
    match sample(scrape, name, role, port)?.value {
        Value::Counter(v) => Ok(v),
        ref other => anyhow::bail!("{name} is not a counter: {other:?}"),
    }
}

/// The observations of histogram `name`: its `+Inf` bucket.
fn observations(scrape: &Scrape, name: &str, role: &str, port: &str) -> Result<f64> {
    let Value::Histogram(buckets) = &sample(scrape, name, role, port)?.value else {
        anyhow::bail!("{name} is not a histogram");
    };
    let inf = buckets.iter().find(|b| b.less_than.is_infinite());
    Ok(inf.context("a +Inf bucket")?.count)
}

/// What a scrape says about the message path of `role`.
#[derive(Debug, PartialEq)]
struct Counts {
    inn: f64,
    out: f64,
    failed: f64,
    timed: f64,
}

fn counts(scrape: &Scrape, role: &str) -> Result<Counts> {
    Ok(Counts {
        inn: counter(scrape, "msgflo_participant_messages_in_total", role, "in")?,
        out: counter(scrape, "msgflo_participant_messages_out_total", role, "out")?,
        failed: counter(
            scrape,
            "msgflo_participant_messages_failed_total",
            role,
            "in",
        )?,
        timed: observations(scrape, "msgflo_participant_processing_seconds", role, "in")?,
    })
}

fn gauge(scrape: &Scrape, name: &str) -> Option<f64> {
    scrape.samples.iter().find_map(|s| match s.value {
        Value::Gauge(v) if s.metric == name => Some(v),
        _ => None,
    })
}

/// The counter `name` that has no port.
fn total(scrape: &Scrape, name: &str) -> Option<f64> {
    scrape.samples.iter().find_map(|s| match s.value {
        Value::Counter(v) if s.metric == name => Some(v),
        _ => None,
    })
}

/// Scrapes `addr` until `done` holds for what it says (within 20 s): the
/// scrape that said so.
async fn scrape_until(addr: &str, what: &str, done: impl Fn(&Scrape) -> bool) -> Result<Scrape> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let last = scrape(addr).await?;
        if done(&last) {
            return Ok(last);
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "not {what} within 20 s: {:?}",
            last.samples
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `health` answer of participant `id`, asked over `transport`.
async fn health(transport: Arc<dyn Transport>, id: &str) -> Result<Health> {
    let caller = Caller::new(transport, &unique("metrics-caller")).await?;
    let id = ParticipantId::new(id)?;
    let answer = caller
        .call(&id, HEALTH, serde_json::Value::Null, READY)
        .await?;
    Ok(serde_json::from_value(answer)?)
}

/// The count `health` gives of outport `port` (any case, as [`sample`]).
fn health_sent(health: &Health, port: &str) -> Option<u64> {
    health
        .sent
        .iter()
        .find_map(|(p, n)| p.eq_ignore_ascii_case(port).then_some(*n))
}

/// Starts `command` (a participant of `role` with metrics on `addr`),
/// scrapes, passes N messages through it, scrapes until the counts settle:
/// they grew by exactly N.
async fn counts_grow_by_what_was_sent(
    broker: &str,
    role: &str,
    command: Command,
    addr: &str,
) -> Result<()> {
    let (child, line) = spawn_ready(command, READY).await?;
    ensure!(
        line.starts_with(&format!("{role} connected to ")),
        "ready: {line:?}"
    );
    let t = msgflo_tests::client(broker, "metrics-client").await?;
    let (inq, outq) = (
        QueueName::new(format!("{role}.IN"))?,
        QueueName::new(format!("{role}.OUT"))?,
    );
    let sinkq = QueueName::new(unique("metrics.sink"))?;
    t.declare_outport(&outq).await?;
    t.declare_inport(&sinkq).await?;
    t.bind(&outq, &sinkq).await?;
    let mut received = t.consume(&sinkq, 100).await?;

    let first = scrape(addr).await?;
    let before = counts(&first, role)?;
    ensure!(
        gauge(&first, "msgflo_participant_broker_connected") == Some(1.0),
        "connected gauge"
    );
    ensure!(
        gauge(&first, "msgflo_participant_start_time_seconds").is_some_and(|s| s > 1.7e9),
        "start time"
    );
    for i in 0..N {
        t.send_to_inport(&inq, Bytes::from(format!("{{\"n\":{i}}}")))
            .await?;
    }
    // Scraped while the messages go through: never less than before, never
    // more than was sent.
    let during = counts(&scrape(addr).await?, role)?;
    ensure!(
        (before.out..=before.out + N as f64).contains(&during.out),
        "before {before:?}, during {during:?}"
    );
    for i in 0..N {
        next_payload(&mut received, Duration::from_secs(20))
            .await
            .with_context(|| format!("after {i} of {N}"))?;
    }
    let want = Counts {
        inn: before.inn + N as f64,
        out: before.out + N as f64,
        failed: before.failed,
        timed: before.timed + N as f64,
    };
    // A message is counted when it is settled, just after its output went
    // out: give the last ones a moment.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (after, last) = loop {
        let last = scrape(addr).await?;
        let after = counts(&last, role)?;
        if after == want || tokio::time::Instant::now() > deadline {
            break (after, last);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    ensure!(
        after == want,
        "before {before:?}, after {after:?}, want {want:?}"
    );
    ensure!(
        gauge(&last, "msgflo_participant_in_flight") == Some(0.0),
        "in flight after all were settled"
    );
    let other = get(addr, "/other").await?;
    ensure!(other.status() == 404, "GET /other: {}", other.status());
    child.stop_cleanly(Duration::from_secs(10)).await?;
    t.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeat_counts_what_it_took_and_sent() -> Result<()> {
    let vhost = Vhost::new("metrics")?;
    let role = unique("metrics-repeat");
    let addr = format!("127.0.0.1:{}", free_port()?);
    let command = participant(
        vhost.url(),
        &role,
        "core/Repeat",
        &["--metrics-addr", &addr],
    )?;
    counts_grow_by_what_was_sent(vhost.url(), &role, command, &addr).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_participant_counts_its_exported_ports() -> Result<()> {
    let vhost = Vhost::new("metrics-graph")?;
    let role = unique("metrics-graph");
    let addr = format!("127.0.0.1:{}", free_port()?);
    let dir = std::env::temp_dir().join(unique("msgflo-metrics"));
    std::fs::create_dir_all(&dir)?;
    let graph = dir.join("chain.fbp");
    let text = "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\na(core/Repeat) OUT -> IN b(core/Repeat)\n";
    std::fs::write(&graph, text)?;
    let mut command = Command::new(binary("msgflo-participant")?);
    command
        .args(["--name", &role, "--broker", vhost.url(), "--graph"])
        .arg(&graph)
        .env("MSGFLO_METRICS_ADDR", &addr)
        .env("MSGFLO_DISCOVERY_PERIOD", "1")
        .env_remove("RUST_LOG");
    counts_grow_by_what_was_sent(vhost.url(), &role, command, &addr).await
}

/// A graph participant with two exported outports counts each apart: what
/// went through each pair of ports, scraped while it flows and once all
/// arrived, and in `health`'s `sent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_participant_counts_each_exported_outport_apart() -> Result<()> {
    const SIDE: usize = 10;
    let vhost = Vhost::new("metrics-outports")?;
    let role = unique("metrics-outports");
    let id = format!("{role}-1");
    let addr = format!("127.0.0.1:{}", free_port()?);
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("two.fbp");
    let text = "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\nINPORT=c.IN:SIDEIN\nOUTPORT=d.OUT:SIDE\n\
                a(core/Repeat) OUT -> IN b(core/Repeat)\n\
                c(core/Repeat) OUT -> IN d(core/Repeat)\n";
    std::fs::write(&graph, text)?;
    let mut command = Command::new(binary("msgflo-participant")?);
    command
        .args(["--name", &role, "--id", &id, "--broker", vhost.url()])
        .args(["--metrics-addr", &addr, "--graph"])
        .arg(&graph)
        .env("MSGFLO_DISCOVERY_PERIOD", "1")
        .env_remove("RUST_LOG");
    let (child, _) = spawn_ready(command, READY).await?;
    let t = msgflo_tests::client(vhost.url(), "metrics-outports").await?;
    // A sink queue of the test's own behind each outport.
    let mut sinks = Vec::new();
    for port in ["OUT", "SIDE"] {
        let outq = QueueName::new(format!("{role}.{port}"))?;
        let sinkq = QueueName::new(unique("metrics.sink"))?;
        t.declare_outport(&outq).await?;
        t.declare_inport(&sinkq).await?;
        t.bind(&outq, &sinkq).await?;
        sinks.push(t.consume(&sinkq, 100).await?);
    }
    let sent = |scrape: &Scrape, port: &str| {
        counter(scrape, "msgflo_participant_messages_out_total", &role, port)
    };
    let first = scrape(&addr).await?;
    ensure!(
        (sent(&first, "out")?, sent(&first, "side")?) == (0.0, 0.0),
        "{:?}",
        first.samples
    );
    let (inq, sideq) = (
        QueueName::new(format!("{role}.IN"))?,
        QueueName::new(format!("{role}.SIDEIN"))?,
    );
    for i in 0..N {
        t.send_to_inport(&inq, Bytes::from(i.to_string())).await?;
        if i < SIDE {
            t.send_to_inport(&sideq, Bytes::from(i.to_string())).await?;
        }
    }
    let during = scrape(&addr).await?;
    ensure!(
        sent(&during, "out")? <= N as f64 && sent(&during, "side")? <= SIDE as f64,
        "{:?}",
        during.samples
    );
    for (sink, count) in sinks.iter_mut().zip([N, SIDE]) {
        for i in 0..count {
            next_payload(sink, Duration::from_secs(20))
                .await
                .with_context(|| format!("after {i} of {count}"))?;
        }
    }
    // Counted once the broker confirmed, just before the sink has it.
    let last = scrape_until(&addr, "all counted", |s| {
        sent(s, "out").ok() == Some(N as f64) && sent(s, "side").ok() == Some(SIDE as f64)
    })
    .await?;
    ensure!(
        counter(
            &last,
            "msgflo_participant_messages_in_total",
            &role,
            "sidein"
        )? == SIDE as f64,
        "{:?}",
        last.samples
    );
    let health = health(t.clone(), &id).await?;
    ensure!(
        (health_sent(&health, "out"), health_sent(&health, "side"))
            == (Some(N as u64), Some(SIDE as u64)),
        "{health:?}"
    );
    child.stop_cleanly(Duration::from_secs(10)).await?;
    t.close().await?;
    Ok(())
}

/// The broker connection cut and restored (a proxy between the participant
/// and RabbitMQ closes every connection, refuses new ones, then takes them
/// again): the reconnect counter goes 0 -> 1, in `/metrics` and `health`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_and_restored_broker_connection_counts_one_reconnect() -> Result<()> {
    const RECONNECTS: &str = "msgflo_participant_broker_reconnects_total";
    const CONNECTED: &str = "msgflo_participant_broker_connected";
    let vhost = Vhost::new("metrics-reconnect")?;
    let (proxy, through_proxy) = CutProxy::in_front_of(vhost.url()).await?;
    let role = unique("metrics-reconnect");
    let id = format!("{role}-1");
    let addr = format!("127.0.0.1:{}", free_port()?);
    let command = participant(
        &through_proxy,
        &role,
        "core/Repeat",
        &["--metrics-addr", &addr, "--id", &id],
    )?;
    let (child, _) = spawn_ready(command, READY).await?;
    let first = scrape(&addr).await?;
    ensure!(
        (gauge(&first, CONNECTED), total(&first, RECONNECTS)) == (Some(1.0), Some(0.0)),
        "{:?}",
        first.samples
    );
    proxy.go_down();
    let down = scrape_until(&addr, "disconnected", |s| gauge(s, CONNECTED) == Some(0.0)).await?;
    ensure!(
        total(&down, RECONNECTS) == Some(0.0),
        "counted before it reconnected"
    );
    proxy.come_up();
    let up = scrape_until(&addr, "connected again", |s| {
        gauge(s, CONNECTED) == Some(1.0)
    })
    .await?;
    ensure!(total(&up, RECONNECTS) == Some(1.0), "{:?}", up.samples);
    // The test asks directly, not through the proxy.
    let t = msgflo_tests::client(vhost.url(), "metrics-reconnect").await?;
    let health = health(t.clone(), &id).await?;
    ensure!(
        health.broker.connected && health.broker.reconnects == 1,
        "{health:?}"
    );
    child.stop_cleanly(Duration::from_secs(10)).await?;
    t.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_bad_metrics_address_is_one_line_and_exit_code_1() -> Result<()> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let in_use = taken.local_addr()?.to_string();
    for (addr, expected) in [
        ("nonsense", "metrics_addr"),
        (in_use.as_str(), "cannot serve metrics on"),
    ] {
        let command = participant(
            "amqp://127.0.0.1:1",
            "bad",
            "core/Repeat",
            &["--metrics-addr", addr],
        )?;
        let (code, stdout, stderr) = run_to_end(command, Duration::from_secs(20)).await?;
        ensure!(code == Some(1), "{addr}: exit {code:?}, stderr {stderr}");
        ensure!(stdout.is_empty(), "{addr}: stdout {stdout:?}");
        ensure!(
            stderr.trim().lines().count() == 1 && stderr.contains(expected),
            "{addr}: stderr {stderr:?}"
        );
    }
    Ok(())
}
