//! Issue 18, the coordinator's side of a runtime registry: the real `msgflo
//! --registry` against the real `msgflo-registry` (a SQLite file of the
//! test's own), each coordinator in a RabbitMQ vhost of its own. It shows
//! up in the registry's list (through `msgflo-participants --registry` and
//! npm `flowhub-registry` 0.2.0) with its address and type; a registry that
//! is down at first is registered with once it comes up, the coordinator
//! running on meanwhile; a registry that lost its runtimes answers the next
//! ping 404 and is registered with again. Events are awaited (log lines,
//! lists polled with a deadline), never slept for.

use anyhow::{bail, ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{free_port, start_with, Coordinator};
use msgflo_tests::process::{run_to_end, spawn_ready, Spawned};
use msgflo_tests::registry_server::{add_user, Account, Flowhub, Registry};
use msgflo_tests::unique;
use msgflo_tests::vhost::Vhost;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;
use tokio::time::Instant;

/// How long a registration may take to show.
const DEADLINE: Duration = Duration::from_secs(20);

/// RUST_LOG for the coordinator: its registry lines down to INFO.
const LOG: (&str, &str) = ("RUST_LOG", "warn,msgflo_coordinator::runtime_registry=info");

/// A SQLite database URL for `file`.
fn sqlite(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// Copies the SQLite database `from` (with its write-ahead log, if any) to `to`.
fn copy_sqlite(from: &Path, to: &Path) -> Result<()> {
    for suffix in ["", "-wal"] {
        let with = |path: &Path| format!("{}{suffix}", path.display());
        if suffix.is_empty() || Path::new(&with(from)).exists() {
            std::fs::copy(with(from), with(to))
                .with_context(|| format!("copying {}", with(from)))?;
        }
    }
    Ok(())
}

/// `msgflo-registry serve` on `127.0.0.1:port` (a fixed port, so a
/// coordinator can be told it before the registry runs).
async fn serve_on(database: &str, port: u16) -> Result<Spawned> {
    let mut command = Command::new(binary("msgflo-registry")?);
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--database", database])
        .env_remove("RUST_LOG");
    let (process, ready) = spawn_ready(command, DEADLINE).await?;
    ensure!(
        ready == format!("msgflo-registry listening on http://127.0.0.1:{port}"),
        "ready line: {ready:?}"
    );
    Ok(process)
}

/// `msgflo` on `vhost` registering with `registry` as `id`, with `args` added.
async fn coordinator(
    vhost: &Vhost,
    registry: &str,
    account: &Account,
    id: &str,
    args: &[&str],
) -> Result<Coordinator> {
    let mut all = vec![
        "--registry",
        registry,
        "--registry-token",
        &account.token,
        "--runtime-id",
        id,
    ];
    all.extend_from_slice(args);
    start_with(vhost.url(), &all, &[LOG]).await
}

/// `msgflo-participants --registry URL [--registry-token T] ARGS`:
/// (exit code, stdout, stderr).
async fn participants(
    registry: &str,
    token: Option<&str>,
    args: &[&str],
) -> Result<(Option<i32>, String, String)> {
    let mut command = Command::new(binary("msgflo-participants")?);
    command
        .args(["--registry", registry])
        .args(args)
        .env_remove("MSGFLO_REGISTRY_TOKEN")
        .env_remove("RUST_LOG");
    if let Some(token) = token {
        command.args(["--registry-token", token]);
    }
    run_to_end(command, DEADLINE).await
}

/// The runtimes `msgflo-participants --registry --json` lists.
async fn listed(registry: &str, token: &str) -> Result<Vec<Value>> {
    let (code, stdout, stderr) = participants(registry, Some(token), &["--json"]).await?;
    ensure!(code == Some(0), "exit {code:?}: {stderr}");
    match serde_json::from_str(stdout.trim())? {
        Value::Array(list) => Ok(list),
        other => bail!("not a list: {other}"),
    }
}

/// Polls the registry's list until it holds runtime `id`; returns the entry.
async fn until_listed(registry: &str, token: &str, id: &str) -> Result<Value> {
    let end = Instant::now() + DEADLINE;
    let mut last = Err(anyhow::anyhow!("not asked yet"));
    while Instant::now() < end {
        last = listed(registry, token).await;
        if let Ok(list) = &last {
            if let Some(runtime) = list.iter().find(|r| r["id"] == id) {
                return Ok(runtime.clone());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{id} not listed by {registry} within {DEADLINE:?}; last: {last:?}")
}

/// Waits until the coordinator's stderr holds `text`; returns it all.
async fn until_logged(coordinator: &Coordinator, text: &str) -> Result<String> {
    let end = Instant::now() + DEADLINE;
    loop {
        let stderr = coordinator.process.stderr_so_far();
        if stderr.contains(text) {
            return Ok(stderr);
        }
        if Instant::now() > end {
            bail!("no {text:?} in the coordinator's log within {DEADLINE:?}: {stderr}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_with_a_registry_is_listed_there_with_its_address_and_type() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = sqlite(&dir.path().join("registry.sqlite"));
    let account = add_user(&database, "ops").await?;
    let registry = Registry::start(&database, &[]).await?;
    let vhost = Vhost::new("registry")?;
    let id = unique("rt");
    let args = ["--label", "test rig", "--description", "by the door"];
    let msgflo = coordinator(&vhost, &registry.url, &account, &id, &args).await?;
    let address = format!("ws://127.0.0.1:{}", msgflo.port);

    let runtime = until_listed(&registry.url, &account.token, &id).await?;
    ensure!(runtime["address"] == address.as_str(), "{runtime}");
    ensure!(runtime["type"] == "msgflo", "{runtime}");
    ensure!(runtime["protocol"] == "websocket", "{runtime}");
    ensure!(runtime["user"] == account.id.as_str(), "{runtime}");
    ensure!(runtime["description"] == "by the door", "{runtime}");
    ensure!(runtime["state"] == "online", "{runtime}");

    // The table: one line for it, with its label, type, state and address.
    let (code, table, stderr) = participants(&registry.url, Some(&account.token), &[]).await?;
    ensure!(code == Some(0), "exit {code:?}: {stderr}");
    let lines: Vec<&str> = table.lines().collect();
    ensure!(lines.len() == 2, "{table}");
    ensure!(lines[0].starts_with("ID "), "{table}");
    let row: Vec<&str> = lines[1].split("  ").filter(|c| !c.is_empty()).collect();
    let row: Vec<&str> = row.iter().map(|c| c.trim()).collect();
    ensure!(
        row.first() == Some(&id.as_str())
            && row.contains(&"test rig")
            && row.contains(&"msgflo")
            && row.contains(&"online")
            && row.last() == Some(&address.as_str())
            && lines[1].contains(" s ago"),
        "{table}"
    );

    // npm flowhub-registry, Flowhub's own client, lists it the same.
    let flowhub = Flowhub::install()?;
    let answer = flowhub
        .run(&registry.url, "list", Some(&account.token), &json!({}))
        .await?;
    let found = answer["ok"]
        .as_array()
        .and_then(|list| list.iter().find(|r| r["id"] == id.as_str()))
        .with_context(|| format!("flowhub-registry list: {answer}"))?;
    ensure!(
        found["address"] == address.as_str() && found["type"] == "msgflo",
        "{found}"
    );
    ensure!(found["label"] == "test rig", "{found}");

    // Nothing in the coordinator's log but its one registration line.
    let log = until_logged(&msgflo, "registered with the runtime registry").await?;
    let warned = |l: &&str| l.contains("WARN") && l.contains("runtime_registry");
    ensure!(!log.lines().any(|l| warned(&l)), "{log}");
    registry.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_a_registry_that_refuses_or_is_not_there_is_one_line_and_exit_1() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = sqlite(&dir.path().join("registry.sqlite"));
    add_user(&database, "ops").await?;
    let registry = Registry::start(&database, &[]).await?;

    let (code, stdout, stderr) = participants(&registry.url, Some("not-a-token"), &[]).await?;
    ensure!(code == Some(1) && stdout.is_empty(), "{code:?} {stdout}");
    ensure!(stderr.lines().count() == 1, "{stderr}");
    ensure!(
        stderr.starts_with("msgflo-participants: registry GET ") && stderr.contains("401"),
        "{stderr}"
    );
    let (code, _, stderr) = participants(&registry.url, None, &[]).await?;
    ensure!(
        code == Some(1) && stderr.contains("--registry-token"),
        "{stderr}"
    );

    let nobody = format!("http://127.0.0.1:{}", free_port()?);
    let (code, _, stderr) = participants(&nobody, Some("t"), &[]).await?;
    ensure!(code == Some(1) && stderr.lines().count() == 1, "{stderr}");
    ensure!(
        stderr.contains(&format!("cannot reach the registry at {nobody}/runtimes/")),
        "{stderr}"
    );
    registry.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_down_at_first_is_registered_with_once_it_comes_up() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = sqlite(&dir.path().join("registry.sqlite"));
    let account = add_user(&database, "ops").await?;
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let vhost = Vhost::new("registry")?;
    let id = unique("rt");
    // No --registry-user: the token's user is asked of the registry first.
    let args = ["--registry-interval", "2"];
    let msgflo = coordinator(&vhost, &url, &account, &id, &args).await?;

    // It runs on and says why, one line per failed attempt.
    let log = until_logged(&msgflo, "cannot reach the registry").await?;
    let failures: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("runtime_registry"))
        .collect();
    ensure!(!failures.is_empty(), "{log}");
    ensure!(
        failures
            .iter()
            .all(|l| l.contains(&format!("cannot reach the registry at {url}/"))),
        "{log}"
    );

    let server = serve_on(&database, port).await?;
    let runtime = until_listed(&url, &account.token, &id).await?;
    ensure!(runtime["user"] == account.id.as_str(), "{runtime}");
    ensure!(
        runtime["address"] == format!("ws://127.0.0.1:{}", msgflo.port).as_str(),
        "{runtime}"
    );
    until_logged(&msgflo, "registered with the runtime registry").await?;
    ensure!(msgflo.process.id().is_some(), "the coordinator exited");
    drop(server);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_lost_its_data_is_registered_with_again_after_the_next_ping() -> Result<()>
{
    let dir = tempfile::tempdir()?;
    let first = dir.path().join("registry.sqlite");
    let account = add_user(&sqlite(&first), "ops").await?;
    // The users alone, as a backup would hold them: the registry started
    // again from it knows the token but none of the runtimes.
    let wiped = dir.path().join("restored.sqlite");
    copy_sqlite(&first, &wiped)?;
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let server = serve_on(&sqlite(&first), port).await?;
    let vhost = Vhost::new("registry")?;
    let id = unique("rt");
    let args = ["--registry-interval", "1", "--registry-user", &account.id];
    let msgflo = coordinator(&vhost, &url, &account, &id, &args).await?;
    let before = until_listed(&url, &account.token, &id).await?;

    server.terminate(DEADLINE).await?;
    let server = serve_on(&sqlite(&wiped), port).await?;
    let after = until_listed(&url, &account.token, &id).await?;
    ensure!(
        after["registered"] != before["registered"],
        "{before} {after}"
    );
    ensure!(after["address"] == before["address"], "{before} {after}");
    until_logged(
        &msgflo,
        "the registry forgot this runtime; registering again",
    )
    .await?;
    drop(server);
    Ok(())
}

/// The registry and its token from a settings file: the coordinator
/// registers (at the file's `public_url`), and `msgflo-participants
/// --registry` alone lists the file's registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_and_its_token_can_come_from_a_settings_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = sqlite(&dir.path().join("registry.sqlite"));
    let account = add_user(&database, "ops").await?;
    let registry = Registry::start(&database, &[]).await?;
    let settings = dir.path().join("msgflo.toml");
    std::fs::write(
        &settings,
        format!(
            "registry = {:?}\nregistry_token = {:?}\nlabel = \"from a file\"\n\
             public_url = \"wss://flow.example.com/rt\"\n",
            registry.url, account.token
        ),
    )?;
    let settings = settings.display().to_string();
    let vhost = Vhost::new("registry")?;
    let id = unique("rt");
    let env = [LOG, ("MSGFLO_CONFIG", settings.as_str())];
    let msgflo = start_with(vhost.url(), &["--runtime-id", &id], &env).await?;
    let runtime = until_listed(&registry.url, &account.token, &id).await?;
    ensure!(runtime["label"] == "from a file", "{runtime}");
    // Registered where clients reach it, not where it listens.
    ensure!(
        runtime["address"] == "wss://flow.example.com/rt",
        "{runtime}"
    );

    let mut command = Command::new(binary("msgflo-participants")?);
    command
        .args(["--registry", "--json", "--config", &settings])
        .env_remove("MSGFLO_REGISTRY")
        .env_remove("MSGFLO_REGISTRY_TOKEN");
    let (code, stdout, stderr) = run_to_end(command, DEADLINE).await?;
    ensure!(code == Some(0), "exit {code:?}: {stderr}");
    ensure!(stdout.contains(&id), "{stdout}");
    msgflo.process.terminate(DEADLINE).await?;
    registry.stop().await?;
    Ok(())
}
