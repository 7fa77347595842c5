//! `msgflo-participant --metrics-addr`: a real participant on RabbitMQ (in a
//! vhost of its own) serves `GET /metrics` in the Prometheus text format,
//! read here with a Prometheus text parser; scraped before and after N
//! messages, its counters grew by exactly N in and N out, the processing
//! histogram by N observations. Also as a graph participant (the address from
//! `$MSGFLO_METRICS_ADDR`), and a bad address is one line at start.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::free_port;
use msgflo_tests::process::{participant, run_to_end, spawn_ready};
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{next_payload, unique};
use prometheus_parse::{Sample, Scrape, Value};
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
    let (code, stderr) = child.terminate(Duration::from_secs(10)).await?;
    ensure!(code == Some(0), "exit code {code:?}, stderr {stderr}");
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
