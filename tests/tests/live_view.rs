//! Issue 19, the live web view on the coordinator's port, and the edges'
//! numbers in `/metrics`:
//! - the example order pipeline running (the coordinator starts its
//!   participants from the example's library, in a RabbitMQ vhost of the
//!   test's own) under a steady load with a bad order in it, seen in
//!   headless Chromium: every role is drawn with its participant, the busy
//!   edges show non-zero rates, `parse` shows the bad order dead-lettered;
//!   a screenshot is kept in `target/live-view/`;
//! - 1,000 nodes are drawn (the time it takes is printed);
//! - the secret rules: the page, its state and its stream refuse a request
//!   without the secret, in one line; unknown view paths are 404;
//! - `/metrics` scraped twice under load: each edge's counter grows by what
//!   was sent.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{connect, ConnectOptions};
use msgflo_tests::bins::path_with_binaries;
use msgflo_tests::browser::Driver;
use msgflo_tests::fbp_client::{start, start_with, Coordinator};
use msgflo_tests::prometheus::scrape_until;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::workspace_root;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const ROLES: [&str; 7] = [
    "ingest", "jobs", "parse", "rejected", "totals", "audit", "report",
];

/// The example pipeline's coordinator in `vhost`, starting its
/// participants; returns once every one of them announced itself.
async fn pipeline(vhost: &Vhost, extra: &[&str]) -> Result<Coordinator> {
    let dir = workspace_root().join("examples/pipeline");
    let graph = dir.join("pipeline.fbp").display().to_string();
    let library = dir.join("package.json").display().to_string();
    let path = path_with_binaries()?;
    let mut args = vec!["--graph", &graph, "--library", &library];
    args.extend_from_slice(extra);
    let coordinator = start_with(vhost.url(), &args, &[("PATH", &path)]).await?;
    let state = format!("http://127.0.0.1:{}/view/state", coordinator.port);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let seen = get_json(&state, extra_secret(extra)).await?;
        let nodes = seen["topology"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let up = nodes
            .iter()
            .filter(|n| n["wiring"] == false)
            .all(|n| n["participants"].as_array().is_some_and(|p| !p.is_empty()));
        if nodes.len() == ROLES.len() && up {
            return Ok(coordinator);
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the pipeline's participants did not all come up within {WAIT:?}: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn extra_secret<'a>(extra: &[&'a str]) -> Option<&'a str> {
    extra.windows(2).find(|w| w[0] == "--secret").map(|w| w[1])
}

fn http() -> reqwest::Client {
    // reqwest's rustls wants a process-wide provider (ring, as the rest).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn get_json(url: &str, bearer: Option<&str>) -> Result<Value> {
    let mut request = http().get(url);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await?;
    ensure!(response.status() == 200, "{url}: {}", response.status());
    Ok(response.json().await?)
}

/// Sends orders to `ingest.IN` until stopped (about 100 a second), the
/// first one unreadable; counts what it sent.
struct Load {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl Load {
    async fn start(vhost: &Vhost, bad_first: bool) -> Result<Self> {
        let transport = connect(vhost.url(), ConnectOptions::default()).await?;
        let queue = QueueName::new("ingest.IN")?;
        let (stop, sent) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let (stopping, counting) = (stop.clone(), sent.clone());
        let task = tokio::spawn(async move {
            if bad_first {
                transport
                    .send_to_inport(&queue, Bytes::from_static(b"\"not an order\""))
                    .await?;
                counting.fetch_add(1, Ordering::SeqCst);
            }
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            while !stopping.load(Ordering::SeqCst) {
                tick.tick().await;
                transport
                    .send_to_inport(&queue, Bytes::from_static(b"\"widget,2,2.50\""))
                    .await?;
                counting.fetch_add(1, Ordering::SeqCst);
            }
            Ok(())
        });
        Ok(Self { stop, sent, task })
    }

    async fn stop(self) -> Result<u64> {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await??;
        Ok(self.sent.load(Ordering::SeqCst))
    }
}

fn edge<'a>(view: &'a Value, id: &str) -> Option<&'a Value> {
    view["edges"].as_array()?.iter().find(|e| e["id"] == id)
}

fn node<'a>(view: &'a Value, id: &str) -> Option<&'a Value> {
    view["nodes"].as_array()?.iter().find(|n| n["id"] == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipeline_is_seen_live_with_rates_and_dead_letters() -> Result<()> {
    let vhost = Vhost::new("live-view")?;
    let coordinator = pipeline(&vhost, &[]).await?;
    let (mut page, _) = Driver::start("live-view.js", "live-view", "pipeline", &[]).await?;
    let url = format!("http://127.0.0.1:{}/", coordinator.port);
    let opened = page
        .call(json!({"cmd": "open", "url": url, "nodes": ROLES.len()}))
        .await?;
    println!("the page drew the pipeline in {} ms", opened["ms"]);
    let view = &opened["view"];
    for role in ROLES {
        ensure!(
            node(view, role).is_some(),
            "no node {role} on the page: {view}"
        );
    }
    let load = Load::start(&vhost, true).await?;
    let busy = [
        "ingest() OUT -> IN jobs()",
        "jobs() OUT -> IN parse()",
        "parse() OUT -> IN totals()",
        "parse() OUT -> IN audit()",
        "totals() OUT -> IN report()",
    ];
    let seen = page
        .until(
            "rates on the busy edges and the bad order dead-lettered",
            WAIT,
            |view| {
                let flowing = busy.iter().all(|id| {
                    edge(view, id).is_some_and(|e| e["rate"].as_f64().is_some_and(|r| r > 0.0))
                });
                let dead = node(view, "parse").is_some_and(|n| n["dead"].as_u64() >= Some(1));
                let up = ROLES
                    .iter()
                    .filter(|r| **r != "jobs")
                    .all(|r| node(view, r).is_some_and(|n| n["participants"].as_u64() >= Some(1)));
                flowing && dead && up
            },
        )
        .await;
    let shot = page.screenshot("pipeline").await?;
    let sent = load.stop().await?;
    let seen = seen?;
    ensure!(
        std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0) > 10_000,
        "no screenshot at {}",
        shot.display()
    );
    let parse = node(&seen, "parse").context("parse")?;
    ensure!(
        parse["text"].to_string().contains("dead"),
        "parse's box does not say what it dead-lettered: {parse}"
    );
    let label = edge(&seen, "jobs() OUT -> IN parse()").context("jobs -> parse")?;
    ensure!(
        label["label"].as_str().is_some_and(|l| l.contains("/s")),
        "the busy edge's label shows no rate: {label}"
    );
    println!("sent {sent} orders; screenshot {}", shot.display());
    page.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_nodes_are_drawn() -> Result<()> {
    let vhost = Vhost::new("live-view-1000")?;
    let dir = tempfile::tempdir()?;
    let mut processes = serde_json::Map::new();
    let mut connections = Vec::new();
    for i in 0..1000 {
        processes.insert(format!("n{i}"), json!({"component": "core/Repeat"}));
        if i % 10 != 0 {
            let mut edge = json!({
                "src": {"process": format!("n{}", i - 1), "port": "out"},
                "tgt": {"process": format!("n{i}"), "port": "in"},
            });
            if i == 1 {
                edge["metadata"] = json!({"delivery": "transient"});
            }
            connections.push(edge);
        }
    }
    let graph = json!({"properties": {"name": "thousand"}, "processes": processes, "connections": connections});
    let file = dir.path().join("thousand.json");
    std::fs::write(&file, graph.to_string())?;
    let file = file.display().to_string();
    // No library: every node waits for a participant started elsewhere.
    let coordinator = start(vhost.url(), &["--graph", &file]).await?;
    let (mut page, _) = Driver::start("live-view.js", "live-view", "thousand", &[]).await?;
    let url = format!("http://127.0.0.1:{}/", coordinator.port);
    let opened = page
        .call(json!({"cmd": "open", "url": url, "nodes": 1000, "timeoutMs": 45_000}))
        .await?;
    println!("the page drew 1,000 nodes in {} ms", opened["ms"]);
    let view = &opened["view"];
    ensure!(
        view["nodes"].as_array().map(Vec::len) == Some(1000)
            && view["edges"].as_array().map(Vec::len) == Some(900),
        "not 1,000 nodes and 900 edges: {}",
        view["summary"]
    );
    // An edge that names its delivery mode says so.
    let transient = edge(view, "n0() OUT -> IN n1()").context("n0 -> n1")?;
    ensure!(
        transient["label"]
            .as_str()
            .is_some_and(|l| l.contains("transient")),
        "the transient edge does not say so: {transient}"
    );
    ensure!(
        transient["class"]
            .as_str()
            .is_some_and(|c| c.split(' ').any(|c| c == "transient")),
        "the transient edge is not drawn as one: {transient}"
    );
    let plain = edge(view, "n1() OUT -> IN n2()").context("n1 -> n2")?;
    ensure!(
        plain["label"]
            .as_str()
            .is_some_and(|l| !l.contains("transient"))
            && plain["class"]
                .as_str()
                .is_some_and(|c| !c.contains("transient")),
        "{plain}"
    );
    // One line per reason, naming a few nodes and counting the rest.
    let pending = view["pending"].as_array().cloned().unwrap_or_default();
    ensure!(
        pending.len() == 1
            && pending[0]
                .as_str()
                .is_some_and(|p| p.contains("and 997 more") && p.contains("library")),
        "the pending nodes are not listed by reason: {pending:?}"
    );
    page.screenshot("thousand").await?;
    let errors = page.call(json!({"cmd": "errors"})).await?;
    ensure!(
        errors.as_array().is_some_and(Vec::is_empty),
        "page errors: {errors}"
    );
    page.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_view_keeps_the_secret() -> Result<()> {
    let vhost = Vhost::new("live-view-secret")?;
    let coordinator = start(vhost.url(), &["--secret", "view-s3cret"]).await?;
    let base = format!("http://127.0.0.1:{}", coordinator.port);
    let client = http();
    for path in ["/", "/view/state", "/view/events"] {
        let refused = client.get(format!("{base}{path}")).send().await?;
        ensure!(
            refused.status() == 401,
            "{path} without the secret: {}",
            refused.status()
        );
        let text = refused.text().await?;
        ensure!(
            text.lines().count() == 1 && text.contains("secret"),
            "{path}: not a one-line error: {text:?}"
        );
        let wrong = client
            .get(format!("{base}{path}?secret=nope"))
            .send()
            .await?;
        ensure!(
            wrong.status() == 401,
            "{path} with a wrong secret: {}",
            wrong.status()
        );
    }
    let page = client
        .get(format!("{base}/?secret=view-s3cret"))
        .send()
        .await?;
    ensure!(
        page.status() == 200,
        "the page with the secret: {}",
        page.status()
    );
    ensure!(page.text().await?.contains("/view/view.js"), "not the page");
    let state = get_json(&format!("{base}/view/state"), Some("view-s3cret")).await?;
    ensure!(
        state["topology"]["nodes"].is_array(),
        "no topology: {state}"
    );
    // The stream: headers, then a layout and a state event.
    let mut events = client
        .get(format!("{base}/view/events?secret=view-s3cret"))
        .send()
        .await?;
    ensure!(
        events.headers()["content-type"] == "text/event-stream",
        "the stream's type: {:?}",
        events.headers()["content-type"]
    );
    let mut text = String::new();
    while !text.contains("event: state") {
        let chunk = tokio::time::timeout(WAIT, events.chunk())
            .await
            .context("no event within a minute")??
            .context("the stream ended")?;
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    ensure!(
        text.contains("event: layout"),
        "no layout event first: {text}"
    );
    let assets = client.get(format!("{base}/view/view.js")).send().await?;
    ensure!(assets.status() == 200, "the script: {}", assets.status());
    let missing = client.get(format!("{base}/view/nope")).send().await?;
    ensure!(missing.status() == 404, "/view/nope: {}", missing.status());
    let posted = client.post(format!("{base}/view/state")).send().await?;
    ensure!(
        posted.status() == 405,
        "POST /view/state: {}",
        posted.status()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_counters_grow_by_what_was_sent() -> Result<()> {
    let vhost = Vhost::new("live-view-metrics")?;
    let coordinator = pipeline(&vhost, &[]).await?;
    let metrics = format!("http://127.0.0.1:{}/metrics", coordinator.port);
    let series = |edge: &str| format!("msgflo_edge_messages_total{{edge=\"{edge}\"}}");
    let (into_jobs, out_of_totals) = (
        series("ingest() OUT -> IN jobs()"),
        series("totals() OUT -> IN report()"),
    );
    // The first scrape starts the observing; wait for its first numbers.
    let before = scrape_until(&metrics, "edge counters", WAIT, |now| {
        now.contains_key(&into_jobs) && now.contains_key(&out_of_totals)
    })
    .await?;
    let load = Load::start(&vhost, false).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = load.stop().await? as f64;
    let grown = |now: &std::collections::BTreeMap<String, f64>, name: &str| {
        now.get(name).copied().unwrap_or(0.0) - before.get(name).copied().unwrap_or(0.0)
    };
    let what = format!("{into_jobs} and {out_of_totals} grown by the {sent} sent");
    let after = scrape_until(&metrics, &what, WAIT, |now| {
        grown(now, &into_jobs) >= sent && grown(now, &out_of_totals) >= sent
    })
    .await?;
    let (a, b) = (grown(&after, &into_jobs), grown(&after, &out_of_totals));
    ensure!(a == sent && b == sent, "sent {sent}: grew by {a} and {b}");
    ensure!(sent > 50.0, "the load sent only {sent}");
    Ok(())
}

/// On MQTT (the coordinator's embedded broker) the view shows the edge as a
/// `connectinport` in place, counts what the source sent, and has no depth
/// (MQTT keeps no queue to ask).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_mqtt_an_edge_counts_what_its_source_sent() -> Result<()> {
    const MESSAGES: u64 = 50;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (a, b) = (format!("a{id}"), format!("b{id}"));
    let dir = tempfile::tempdir()?;
    let files = msgflo_tests::repeat_pair::RepeatPair::write(dir.path(), &a, &b)?;
    let path = path_with_binaries()?;
    let coordinator = start_with("embedded:0", &files.args()?, &[("PATH", &path)]).await?;
    let broker = coordinator
        .embedded_broker
        .clone()
        .context("no embedded broker line")?;
    let state = format!("http://127.0.0.1:{}/view/state", coordinator.port);
    let edge_id = format!("{a}() OUT -> IN {b}()");
    let wait_for = |what: &'static str, done: Box<dyn Fn(&Value) -> bool>| {
        let (state, edge_id) = (state.clone(), edge_id.clone());
        async move {
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                let seen = get_json(&state, None).await?;
                let edge = seen["topology"]["edges"]
                    .as_array()
                    .and_then(|edges| edges.iter().find(|e| e["id"] == edge_id.as_str()))
                    .cloned()
                    .unwrap_or_default();
                let numbers = seen["numbers"]["edges"][edge_id.as_str()].clone();
                if done(&json!({"edge": edge, "numbers": numbers})) {
                    return Ok::<_, anyhow::Error>(numbers);
                }
                ensure!(
                    tokio::time::Instant::now() < deadline,
                    "{what} within {WAIT:?}: {seen}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    wait_for(
        "the edge in place as a connectinport",
        Box::new(|e| {
            let route = &e["edge"]["routes"][0];
            route["link"] == "connectinport" && route["in_place"] == true
        }),
    )
    .await?;
    let client = msgflo_tests::client(&broker, "live-view-mqtt").await?;
    let inport = QueueName::new(format!("{a}.IN"))?;
    for i in 0..MESSAGES {
        client
            .send_to_inport(&inport, Bytes::from(i.to_string()))
            .await?;
    }
    let numbers = wait_for(
        "the edge's count at what was sent",
        Box::new(|e| e["numbers"]["messages"].as_u64() == Some(MESSAGES)),
    )
    .await?;
    ensure!(numbers["depth"].is_null(), "a depth on MQTT: {numbers}");
    Ok(())
}
