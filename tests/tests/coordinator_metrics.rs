//! Issue 19, the coordinator's `/metrics`: plain HTTP on the FBP protocol's
//! port (the WebSocket upgrade still works there), in Prometheus' text
//! format, read with a Prometheus text-format parser. The real coordinator
//! with `--secret` in a RabbitMQ vhost of its own, two real `core/Repeat`
//! participants of one role: the scrape counts them and the FBP client;
//! without the secret as a bearer token it is 401; other paths, methods and
//! garbage get one-line errors.

use anyhow::{ensure, Context, Result};
use msgflo_tests::fbp_client::{start, Client};
use msgflo_tests::process::{participant, spawn_ready};
use msgflo_tests::unique;
use msgflo_tests::vhost::Vhost;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(30);
const SECRET: &str = "metrics-s3cret";

/// Every sample of a scrape, as `name{label="value",...}` -> value.
fn samples(text: &str) -> Result<BTreeMap<String, f64>> {
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).context("not Prometheus text")?;
    let mut samples = BTreeMap::new();
    for sample in scrape.samples {
        let mut labels: Vec<String> = sample
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        labels.sort();
        let name = match labels.is_empty() {
            true => sample.metric.clone(),
            false => format!("{}{{{}}}", sample.metric, labels.join(",")),
        };
        let value = match sample.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => continue,
        };
        samples.insert(name, value);
    }
    Ok(samples)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_participants_and_clients_and_keep_the_secret() -> Result<()> {
    let vhost = Vhost::new("metrics")?;
    let coordinator = start(vhost.url(), &["--secret", SECRET]).await?;
    let base = format!("http://127.0.0.1:{}", coordinator.port);
    let role = unique("metrics").replace('.', "-");
    let mut participants = Vec::new();
    for _ in 0..2 {
        let command = participant(vhost.url(), &role, "core/Repeat", &[])?;
        participants.push(spawn_ready(command, WAIT).await?.0);
    }
    // An FBP client on the same port, let in by the secret.
    let mut fbp = Client::connect(coordinator.port).await?;
    fbp.send("runtime", "getruntime", serde_json::json!({}), Some(SECRET))
        .await?;
    fbp.until("runtime", "runtime", WAIT).await?;

    // reqwest's rustls wants a process-wide provider (ring, as the rest).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let scrape = |bearer: Option<&'static str>| {
        let mut request = http.get(format!("{base}/metrics"));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    let wanted = format!("msgflo_participants{{role=\"{role}\"}}");
    let deadline = tokio::time::Instant::now() + WAIT;
    let found = loop {
        let response = scrape(Some(SECRET)).await?;
        ensure!(response.status() == 200, "{}", response.status());
        let kind = response.headers()["content-type"].to_str()?.to_owned();
        ensure!(kind.starts_with("application/openmetrics-text"), "{kind}");
        let found = samples(&response.text().await?)?;
        if found.get(&wanted) == Some(&2.0) {
            break found;
        }
        ensure!(tokio::time::Instant::now() < deadline, "{found:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    ensure!(found.get("msgflo_fbp_clients") == Some(&1.0), "{found:?}");
    ensure!(found.get("msgflo_pending_nodes") == Some(&0.0), "{found:?}");
    ensure!(
        found.get("msgflo_broker_connected") == Some(&1.0),
        "{found:?}"
    );

    // The secret's rules: none, or a wrong one, is 401 and shows nothing.
    for bearer in [None, Some("wrong")] {
        let response = scrape(bearer).await?;
        ensure!(
            response.status() == 401,
            "{bearer:?}: {}",
            response.status()
        );
        ensure!(response.headers().contains_key("www-authenticate"));
        let body = response.text().await?;
        ensure!(
            !body.contains("msgflo_") && body.lines().count() == 1,
            "{body}"
        );
    }
    // Other paths and methods, and garbage: one line each.
    let response = http.get(format!("{base}/nope")).send().await?;
    ensure!(response.status() == 404, "{}", response.status());
    ensure!(response.text().await?.lines().count() == 1);
    let response = http
        .post(format!("{base}/metrics"))
        .bearer_auth(SECRET)
        .send()
        .await?;
    ensure!(response.status() == 405, "{}", response.status());
    let mut raw = tokio::net::TcpStream::connect(("127.0.0.1", coordinator.port)).await?;
    raw.write_all(b"\x16\x03\x01 not http at all\r\n\r\n")
        .await?;
    let mut answer = String::new();
    tokio::time::timeout(WAIT, raw.read_to_string(&mut answer)).await??;
    ensure!(answer.starts_with("HTTP/1.1 400 Bad Request"), "{answer}");

    // The FBP client is still served.
    fbp.send("runtime", "getruntime", serde_json::json!({}), Some(SECRET))
        .await?;
    fbp.until("runtime", "runtime", WAIT).await?;
    for p in participants {
        p.terminate(WAIT).await?;
    }
    Ok(())
}
