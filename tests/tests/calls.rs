//! Calls to participant processes over real brokers, from the command line
//! (`msgflo-participants --runtime ... --call`: the participants as a
//! running coordinator knows them, the calls over the broker), on RabbitMQ
//! (a vhost of its own) and on Mosquitto: three `msgflo-participant`
//! processes of one role answer `health` with what each processed and sent
//! on its outport (each adds up to what was sent); each answers
//! `set-prefetch`; one of
//! them SIGSTOPped is named as not answering when the deadline passes, and
//! the tool exits 1 saying so; `drain` makes the others finish and exit 0.
//! The `health` call is also made by an FBP client through the coordinator
//! (`msgflo:call`). Each test hears only its own participants
//! (`MSGFLO_DISCOVERY_QUEUE` of its own).

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{self, Coordinator};
use msgflo_tests::process::{run_to_end, spawn_ready, Spawned};
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{client, mqtt_url, unique};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(30);
const MESSAGES: usize = 30;

/// What one test shares with its processes.
struct Setup {
    broker: String,
    discovery: String,
    role: String,
}

impl Setup {
    fn new(broker: String) -> Self {
        Self {
            broker,
            discovery: unique("calls-fbp"),
            role: unique("calls"),
        }
    }

    fn env(&self, command: &mut Command) {
        command
            .env("MSGFLO_BROKER", &self.broker)
            .env("MSGFLO_DISCOVERY_QUEUE", &self.discovery)
            .env("MSGFLO_DISCOVERY_PERIOD", "1")
            .env_remove("RUST_LOG");
    }

    async fn participant(&self) -> Result<Spawned> {
        let mut command = Command::new(binary("msgflo-participant")?);
        command.args(["--name", &self.role, "--component", "core/Repeat"]);
        self.env(&mut command);
        Ok(spawn_ready(command, WAIT).await?.0)
    }

    /// A coordinator on this test's discovery queue.
    async fn coordinator(&self) -> Result<Coordinator> {
        let env = [("MSGFLO_DISCOVERY_QUEUE", self.discovery.as_str())];
        fbp_client::start_with(&self.broker, &[], &env).await
    }

    /// `msgflo-participants --runtime ... --call NAME --json ...` (`name`
    /// may be followed by a space and the JSON arguments): (exit code, the
    /// JSON rows, stderr).
    async fn call(
        &self,
        port: u16,
        name: &str,
        timeout: &str,
    ) -> Result<(Option<i32>, Vec<Value>, String)> {
        let runtime = format!("ws://127.0.0.1:{port}");
        let mut command = Command::new(binary("msgflo-participants")?);
        let (name, args) = name.split_once(' ').unwrap_or((name, "null"));
        command.args(["--runtime", &runtime, "--call", name, "--role", &self.role]);
        command.args(["--args", args]);
        command.args(["--timeout", timeout, "--json"]);
        self.env(&mut command);
        let (code, stdout, stderr) = run_to_end(command, WAIT).await?;
        let rows: Value = serde_json::from_str(stdout.trim())
            .with_context(|| format!("not JSON: {stdout:?}; stderr: {stderr}"))?;
        let rows = rows.as_array().context("an array")?.clone();
        Ok((code, rows, stderr))
    }
}

fn processed(row: &Value) -> u64 {
    row["result"]["ports"]["in"]["processed"]
        .as_u64()
        .unwrap_or(0)
}

/// What `health` says was sent on outport `out`.
fn sent(row: &Value) -> u64 {
    row["result"]["sent"]["out"].as_u64().unwrap_or(0)
}

async fn health_stop_and_drain(setup: Setup) -> Result<()> {
    let coordinator = setup.coordinator().await?;
    let port = coordinator.port;
    let mut participants = Vec::new();
    for _ in 0..3 {
        participants.push(setup.participant().await?);
    }
    let t = client(&setup.broker, "calls-test").await?;
    let inport = QueueName::new(format!("{}.IN", setup.role))?;
    let mut out = t
        .tap(&QueueName::new(format!("{}.OUT", setup.role))?)
        .await?;
    for n in 0..MESSAGES {
        t.send_to_inport(&inport, Bytes::from(n.to_string()))
            .await?;
    }
    for _ in 0..MESSAGES {
        let delivery = tokio::time::timeout(WAIT, out.consumer.next())
            .await?
            .context("the tap ended")?;
        delivery.ack().await?;
    }

    // All three answer; what they processed adds up to what was sent (once
    // the last acks are out: the tap may see an output before its
    // publisher has the broker's confirm).
    let deadline = Instant::now() + WAIT;
    let (rows, total, total_sent) = loop {
        let (code, rows, stderr) = setup.call(port, "health", "3s").await?;
        ensure!(code == Some(0), "exit {code:?}: {stderr}");
        let total: u64 = rows.iter().map(processed).sum();
        let total_sent: u64 = rows.iter().map(sent).sum();
        let settled = total == MESSAGES as u64 && rows.len() == 3;
        if settled || Instant::now() > deadline {
            break (rows, total, total_sent);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    ensure!(
        total == MESSAGES as u64,
        "processed {total} of {MESSAGES}: {rows:?}"
    );
    // A message is acked once its output is sent: all were.
    ensure!(
        total_sent == MESSAGES as u64,
        "sent {total_sent} of {MESSAGES}: {rows:?}"
    );
    ensure!(rows.len() == 3, "{rows:?}");
    for row in &rows {
        ensure!(row["result"]["broker"]["connected"] == true, "{row}");
        ensure!(row["result"]["in_flight"] == 0, "{row}");
    }

    // The same call from an FBP client (`msgflo:call`): three answers as
    // they come, then the end, each with the request's id.
    let mut fbp = fbp_client::Client::connect(port).await?;
    let call = serde_json::json!({"protocol": "msgflo", "command": "call", "requestId": "c1",
        "payload": {"call": "health", "role": setup.role, "timeout": 3000}});
    fbp.send_text(call.to_string()).await?;
    let mut results = Vec::new();
    let done = loop {
        let reply = fbp.reply(WAIT).await?;
        ensure!(reply["responseTo"] == "c1", "{reply}");
        match reply["command"].as_str() {
            Some("callresult") => results.push(reply["payload"].clone()),
            Some("calldone") => break reply,
            _ => anyhow::bail!("not an answer to msgflo:call: {reply}"),
        }
    };
    ensure!(results.len() == 3, "{results:?}");
    ensure!(
        done["payload"]["missing"] == serde_json::json!([]),
        "{done}"
    );
    let total: u64 = results.iter().map(processed).sum();
    ensure!(total == MESSAGES as u64, "{results:?}");

    // set-prefetch: each answers with the prefetch now in force.
    let (code, rows, stderr) = setup
        .call(port, r#"set-prefetch {"prefetch": 4}"#, "3s")
        .await?;
    ensure!(code == Some(0), "exit {code:?}: {stderr}");
    ensure!(rows.len() == 3, "{rows:?}");
    ensure!(
        rows.iter().all(|r| r["result"]["prefetch"] == 4),
        "{rows:?}"
    );

    // One stopped with SIGSTOP: named at the deadline, exit 1.
    let stopped = participants[0].id().context("a pid")?;
    let signal = |name: &str| {
        std::process::Command::new("kill")
            .args([name, &stopped.to_string()])
            .status()
    };
    ensure!(signal("-STOP")?.success(), "kill -STOP");
    let started = Instant::now();
    let (code, rows, stderr) = setup.call(port, "health", "1s").await?;
    let took = started.elapsed();
    ensure!(signal("-CONT")?.success(), "kill -CONT");
    ensure!(code == Some(1), "exit {code:?}: {stderr}");
    let silent: Vec<&Value> = rows.iter().filter(|r| r["answered"] == false).collect();
    ensure!(silent.len() == 1, "{rows:?}");
    ensure!(
        stderr.contains("1 of 3 participants did not answer, 0 answered with an error"),
        "{stderr}"
    );
    // 1 s of waiting, the rest is start-up and asking the coordinator.
    ensure!(took < Duration::from_secs(5), "took {took:?}");

    // Drain: each answers, finishes and exits 0.
    let (code, rows, stderr) = setup.call(port, "drain", "3s").await?;
    ensure!(code == Some(0), "exit {code:?}: {stderr}");
    ensure!(
        rows.iter().all(|r| r["result"]["draining"] == true),
        "{rows:?}"
    );
    for mut participant in participants {
        let code = participant.exited(WAIT).await?;
        ensure!(code == Some(0), "a drained participant exited {code:?}");
    }
    t.close().await?;
    drop(coordinator);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_stop_and_drain_on_rabbitmq() -> Result<()> {
    let vhost = Vhost::new("calls")?;
    health_stop_and_drain(Setup::new(vhost.url().to_owned())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_stop_and_drain_on_mosquitto() -> Result<()> {
    health_stop_and_drain(Setup::new(mqtt_url())).await
}
