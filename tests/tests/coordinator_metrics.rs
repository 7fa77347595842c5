//! Issue 19, the coordinator's `/metrics`: plain HTTP on the FBP protocol's
//! port (the WebSocket upgrade still works there), in Prometheus' text
//! format, read with a Prometheus text-format parser. The real coordinator
//! with `--secret` in a RabbitMQ vhost of its own, two real `core/Repeat`
//! participants of one role: the scrape counts them and the FBP client;
//! without the secret as a bearer token it is 401; other paths, methods and
//! garbage get one-line errors. FBP commands answered are timed per
//! sub-protocol (`msgflo_fbp_reply_seconds`); the coordinator's broker
//! connection cut and restored through a proxy counts one reconnect.

use anyhow::{ensure, Context, Result};
use msgflo_tests::fbp_client::{start, Client};
use msgflo_tests::process::{participant, spawn_ready};
use msgflo_tests::prometheus::{self, samples};
use msgflo_tests::proxy::CutProxy;
use msgflo_tests::unique;
use msgflo_tests::vhost::Vhost;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(30);
const SECRET: &str = "metrics-s3cret";

/// One scrape of the coordinator on `port` (no secret), as [`samples`].
async fn scrape(port: u16) -> Result<BTreeMap<String, f64>> {
    prometheus::scrape(&format!("http://127.0.0.1:{port}/metrics")).await
}

/// Scrapes until `done` holds (within [`WAIT`]): that scrape.
async fn scrape_until(
    port: u16,
    what: &str,
    done: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> Result<BTreeMap<String, f64>> {
    let url = format!("http://127.0.0.1:{port}/metrics");
    prometheus::scrape_until(&url, what, WAIT, done).await
}

/// How many answers of `protocol` the reply-time histogram counted.
fn answered(found: &BTreeMap<String, f64>, protocol: &str) -> Result<f64> {
    let name = format!("msgflo_fbp_reply_seconds_count{{protocol=\"{protocol}\"}}");
    found
        .get(&name)
        .copied()
        .with_context(|| format!("no {name}"))
}

/// Each FBP command answered is timed under its sub-protocol: the count of
/// `runtime` grows by the `getruntime`s sent, `component` by the
/// `component:list`s; the others stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fbp_answers_are_timed_per_sub_protocol() -> Result<()> {
    const RUNTIME: usize = 5;
    const LISTS: usize = 2;
    let vhost = Vhost::new("metrics-replies")?;
    let coordinator = start(vhost.url(), &[]).await?;
    let port = coordinator.port;
    let before = scrape(port).await?;
    let mut fbp = Client::connect(port).await?;
    for _ in 0..RUNTIME {
        fbp.send("runtime", "getruntime", serde_json::json!({}), None)
            .await?;
        fbp.until("runtime", "runtime", WAIT).await?;
    }
    for _ in 0..LISTS {
        fbp.send("component", "list", serde_json::json!({}), None)
            .await?;
        fbp.until("component", "componentsready", WAIT).await?;
    }
    // Each was counted before the loop took the next event: the scrape.
    let after = scrape(port).await?;
    for (protocol, more) in [("runtime", RUNTIME), ("component", LISTS), ("graph", 0)] {
        ensure!(
            answered(&after, protocol)? == answered(&before, protocol)? + more as f64,
            "{protocol}: before {before:?}, after {after:?}"
        );
    }
    let sum = "msgflo_fbp_reply_seconds_sum{protocol=\"runtime\"}";
    ensure!(
        after
            .get(sum)
            .is_some_and(|s| *s > 0.0 && *s < WAIT.as_secs_f64()),
        "{after:?}"
    );
    Ok(())
}

/// The coordinator's broker connection cut and restored (a proxy between
/// it and RabbitMQ closes every connection, refuses new ones, then takes
/// them again): `msgflo_broker_reconnects_total` goes 0 -> 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_and_restored_broker_connection_counts_one_reconnect() -> Result<()> {
    const RECONNECTS: &str = "msgflo_broker_reconnects_total";
    const CONNECTED: &str = "msgflo_broker_connected";
    let vhost = Vhost::new("metrics-reconnect")?;
    let (proxy, through_proxy) = CutProxy::in_front_of(vhost.url()).await?;
    let coordinator = start(&through_proxy, &[]).await?;
    let port = coordinator.port;
    let first = scrape(port).await?;
    ensure!(
        (first.get(CONNECTED), first.get(RECONNECTS)) == (Some(&1.0), Some(&0.0)),
        "{first:?}"
    );
    proxy.go_down();
    let down = scrape_until(port, "disconnected", |f| f.get(CONNECTED) == Some(&0.0)).await?;
    ensure!(down.get(RECONNECTS) == Some(&0.0), "{down:?}");
    proxy.come_up();
    let up = scrape_until(port, "connected again", |f| f.get(CONNECTED) == Some(&1.0)).await?;
    ensure!(up.get(RECONNECTS) == Some(&1.0), "{up:?}");
    Ok(())
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
