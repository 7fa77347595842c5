//! A benchmark, not a test (ignored; BENCHMARKS.md has the figures):
//! 1,000 runtimes register with `msgflo-registry`, then each pings every
//! 10 s, for 60 s — Flowhub's runtimes ping every 5 minutes, so this is 30
//! times the load of 1,000 real ones. Starts are spread over the first
//! 10 s. Each request on a new connection, as flowhub-registry's
//! superagent makes them. Prints request times (p50, p99, max) per kind
//! and the server's RSS (VmRSS at the end, VmHWM). The raw baseline, in the
//! same run: after each ping the runtime also asks for a route the server
//! does not have (a 404 made without touching the database), so the HTTP,
//! connection and machine cost is measured beside the registry's own.
//!
//! ```sh
//! cargo test --release -p msgflo-registry --test load -- --ignored --nocapture
//! ```
//! `MSGFLO_BENCH_SECONDS` shortens or lengthens the run; `load_postgres`
//! uses `MSGFLO_TEST_POSTGRES_URL`'s server (a database of its own).

use anyhow::{bail, ensure, Context, Result};
use sqlx::{Connection, Executor, PgConnection};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RUNTIMES: usize = 1_000;
const PING_EVERY: Duration = Duration::from_secs(10);
const BINARY: &str = env!("CARGO_BIN_EXE_msgflo-registry");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand (see BENCHMARKS.md)"]
async fn load_sqlite() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("registry.sqlite").display());
    run("SQLite", &url).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand (see BENCHMARKS.md)"]
async fn load_postgres() -> Result<()> {
    let server = std::env::var("MSGFLO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("msgflo_registry_load_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&server).await?;
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await?;
    let mut url = url::Url::parse(&server)?;
    url.set_path(&name);
    let result = run("PostgreSQL", url.as_str()).await;
    admin
        .execute(format!("DROP DATABASE \"{name}\" WITH (FORCE)").as_str())
        .await?;
    result
}

async fn run(storage: &str, database: &str) -> Result<()> {
    let seconds: u64 = std::env::var("MSGFLO_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let token = add_user(database)?;
    let (server, base) = Server::start(database)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()?;
    let user = client
        .get(format!("{base}/user"))
        .bearer_auth(&token)
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?["id"]
        .as_str()
        .context("GET /user names no id")?
        .to_owned();

    let times = Arc::new(Mutex::new(Times::default()));
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..RUNTIMES {
        let (client, base, token, user, times) = (
            client.clone(),
            base.clone(),
            token.clone(),
            user.clone(),
            times.clone(),
        );
        let offset = PING_EVERY * u32::try_from(i)? / u32::try_from(RUNTIMES)?;
        tasks.push(tokio::spawn(async move {
            runtime(
                i,
                started + offset,
                end,
                &client,
                &base,
                &token,
                &user,
                &times,
            )
            .await
        }));
    }
    let mut rss_max = 0;
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss_max = rss_max.max(server.status("VmRSS:")?);
    }
    for task in tasks {
        task.await??;
    }
    // One list of all 1,000, as an editor asks for it.
    let mut lists = Vec::new();
    for _ in 0..10 {
        let sent = Instant::now();
        let listed = client
            .get(format!("{base}/runtimes/"))
            .bearer_auth(&token)
            .send()
            .await?;
        ensure!(listed.status() == 200, "list: {}", listed.status());
        let list = listed.json::<Vec<serde_json::Value>>().await?;
        lists.push(sent.elapsed());
        ensure!(list.len() == RUNTIMES, "listed {} runtimes", list.len());
    }
    let (rss, hwm) = (server.status("VmRSS:")?, server.status("VmHWM:")?);
    let times = times.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    println!(
        "\n{storage}: {RUNTIMES} runtimes, pings every {PING_EVERY:?}, {seconds} s, errors {}",
        times.errors
    );
    println!("| request | count | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    for (kind, list) in [
        ("register (PUT)", &times.register),
        ("ping (POST)", &times.ping),
        ("list of 1,000 (GET)", &lists),
        (
            "baseline: unknown route (GET, 404, no database)",
            &times.baseline,
        ),
        (
            "all of the above",
            &[&times.register[..], &times.ping[..], &lists[..]].concat(),
        ),
    ] {
        let (p50, p99, max) = percentiles(list);
        println!(
            "| {kind} | {} | {p50:.2} | {p99:.2} | {max:.2} |",
            list.len()
        );
    }
    println!(
        "server RSS: {:.1} MB at the end, {:.1} MB the most sampled, VmHWM {:.1} MB",
        rss as f64 / 1024.0,
        rss_max.max(rss) as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    ensure!(times.errors == 0, "{} requests failed", times.errors);
    server.stop()
}

/// One runtime: registers at `start`, then pings every 10 s until `end`.
#[allow(clippy::too_many_arguments)]
async fn runtime(
    i: usize,
    start: Instant,
    end: Instant,
    client: &reqwest::Client,
    base: &str,
    token: &str,
    user: &str,
    times: &Mutex<Times>,
) -> Result<()> {
    let id = format!("load-{i:04}");
    let body = serde_json::json!({
        "id": id, "user": user, "address": format!("ws://10.0.{}.{}:3569", i / 250, i % 250),
        "protocol": "websocket", "type": "msgflo", "label": format!("runtime {i}"),
        "secret": "s3cret",
    });
    tokio::time::sleep_until(start.into()).await;
    let sent = Instant::now();
    let registered = client
        .put(format!("{base}/runtimes/{id}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await;
    record(times, |t| &mut t.register, sent, registered, 201);
    let mut next = start + PING_EVERY;
    while next < end {
        tokio::time::sleep_until(next.into()).await;
        let sent = Instant::now();
        let pinged = client
            .post(format!("{base}/runtimes/{id}"))
            .json(&serde_json::json!({}))
            .send()
            .await;
        record(times, |t| &mut t.ping, sent, pinged, 204);
        let sent = Instant::now();
        let baseline = client.get(format!("{base}/baseline/{id}")).send().await;
        record(times, |t| &mut t.baseline, sent, baseline, 404);
        next += PING_EVERY;
    }
    Ok(())
}

#[derive(Default)]
struct Times {
    register: Vec<Duration>,
    ping: Vec<Duration>,
    baseline: Vec<Duration>,
    errors: usize,
}

fn record(
    times: &Mutex<Times>,
    kind: fn(&mut Times) -> &mut Vec<Duration>,
    sent: Instant,
    answer: reqwest::Result<reqwest::Response>,
    expected: u16,
) {
    let took = sent.elapsed();
    if let Ok(mut times) = times.lock() {
        match answer {
            Ok(response) if response.status().as_u16() == expected => kind(&mut times).push(took),
            Ok(response) => {
                eprintln!("answered {}", response.status());
                times.errors += 1;
            }
            Err(e) => {
                eprintln!("request failed: {e}");
                times.errors += 1;
            }
        }
    }
}

/// p50, p99 and max in milliseconds.
fn percentiles(times: &[Duration]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        ms.get(((ms.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.99), at(1.0))
}

fn add_user(database: &str) -> Result<String> {
    let out = Command::new(BINARY)
        .args(["user", "add", "load", "--database", database])
        .output()?;
    ensure!(
        out.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("token "))
        .map(str::to_owned)
        .context("user add printed no token")
}

struct Server(Child);

impl Server {
    fn start(database: &str) -> Result<(Self, String)> {
        let mut child = Command::new(BINARY)
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("piped")?;
        let mut ready = String::new();
        BufReader::new(stdout).read_line(&mut ready)?;
        let base = ready
            .trim()
            .strip_prefix("msgflo-registry listening on ")
            .with_context(|| format!("not the ready line: {ready:?}"))?
            .to_owned();
        Ok((Self(child), base))
    }

    /// A `/proc/PID/status` field in kB.
    fn status(&self, field: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with(field))
            .with_context(|| format!("no {field}"))?;
        line.split_whitespace()
            .nth(1)
            .and_then(|kb| kb.parse().ok())
            .with_context(|| format!("unreadable {line}"))
    }

    fn stop(mut self) -> Result<()> {
        let pid = self.0.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let status = self.0.wait()?;
        if !status.success() {
            bail!("the server exited with {status} after SIGTERM");
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
