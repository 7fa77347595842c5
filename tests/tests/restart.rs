//! A library participant that dies (SIGKILL) is started again by the
//! coordinator: clients are told of the exit, messages sent to its inport
//! meanwhile come out once it is back, and `msgflo-participants` counts the
//! restart. On RabbitMQ, whose inport queue keeps what is sent while nobody
//! consumes it, so every wait is for a message or an FBP frame.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{start, Client};
use msgflo_tests::tools::run;
use msgflo_tests::{amqp_url, next_payload};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// How long a participant may take to start (or start again: the first
/// back-off is 1 s) and pass a message on.
const SETTLE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_library_participant_is_started_again() -> Result<()> {
    binary("msgflo-participant")?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let role = format!("restart{id}");
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("graph.fbp");
    std::fs::write(&graph, format!("{role}(core/Repeat)\n"))?;
    // The participant's pid, written by the shell that then becomes it.
    let pid_file = dir.path().join(format!("{role}.pid"));
    let command = format!(
        "echo $$ > {}/#ROLE.pid && exec msgflo-participant --name #ROLE --component core/Repeat",
        dir.path().display()
    );
    let library = dir.path().join("package.json");
    let config = json!({"msgflo": {"components": {"core/Repeat": command}}});
    std::fs::write(&library, config.to_string())?;
    let args = ["--graph", path(&graph)?, "--library", path(&library)?];
    let coordinator = start(&amqp_url(), &args).await?;

    let outcome = async {
        let broker = msgflo_tests::client(&amqp_url(), "restart-test").await?;
        let inport = QueueName::new(format!("{role}.IN"))?;
        let outport = QueueName::new(format!("{role}.OUT"))?;
        let mut tap = broker.tap(&outport).await?;
        broker.declare_inport(&inport).await?;

        // The first participant passes a message on.
        broker.send_to_inport(&inport, "\"before\"".into()).await?;
        let out = next_payload(&mut tap.consumer, SETTLE).await?;
        ensure!(out.as_ref() == b"\"before\"", "{out:?}");
        let first = pid(&pid_file)?;

        // Killed: clients are told it exited and comes back.
        let mut fbp = Client::connect(coordinator.port).await?;
        kill(first)?;
        let told = fbp.until("network", "output", SETTLE).await?;
        let message = told["payload"]["message"].as_str().unwrap_or_default();
        ensure!(
            message.starts_with(&format!("participant {role} exited"))
                && message.contains("starting it again in 1s"),
            "{told}"
        );

        // A message sent meanwhile comes out of the participant started again.
        broker.send_to_inport(&inport, "\"after\"".into()).await?;
        let out = next_payload(&mut tap.consumer, SETTLE).await?;
        ensure!(out.as_ref() == b"\"after\"", "{out:?}");
        let second = pid(&pid_file)?;
        ensure!(second != first, "the same pid {first}");

        // msgflo-participants counts the restart.
        let runtime = format!("ws://127.0.0.1:{}", coordinator.port);
        let (code, table, stderr) = run("msgflo-participants", &["--runtime", &runtime]).await?;
        ensure!(code == Some(0), "{stderr}");
        ensure!(
            table.lines().any(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                cells == [role.as_str(), "1", "running"]
            }),
            "{table}"
        );
        broker.close().await?;
        anyhow::Ok(())
    }
    .await;

    let (code, stderr) = coordinator
        .process
        .terminate(Duration::from_secs(15))
        .await?;
    outcome.with_context(|| format!("coordinator stderr:\n{stderr}"))?;
    ensure!(code == Some(0), "exit code {code:?}; stderr: {stderr}");
    ensure!(
        stderr.lines().any(|l| l.contains(" WARN ")
            && l.contains("participant exited; starting it again")
            && l.contains(&role)),
        "no warning of the exit: {stderr}"
    );
    ensure!(
        stderr.lines().any(|l| l.contains(" WARN ")
            && l.contains("starting the participant again")
            && l.contains("restart=1")
            && l.contains(&role)),
        "no line of the restart: {stderr}"
    );
    Ok(())
}

/// The pid in `file`.
fn pid(file: &Path) -> Result<i32> {
    let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
    text.trim()
        .parse()
        .with_context(|| format!("{}: {text:?}", file.display()))
}

/// SIGKILLs `pid`.
fn kill(pid: i32) -> Result<()> {
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()?;
    ensure!(status.success(), "kill -KILL {pid}: {status}");
    Ok(())
}

fn path(p: &Path) -> Result<&str> {
    p.to_str().context("a temporary path that is not UTF-8")
}
