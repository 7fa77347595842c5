//! `msgflo-participant` as msgflo deployments run it, against real RabbitMQ and
//! Mosquitto: msgflo's cross-language participant check, a 10,000-message
//! round trip, a SIGKILL halfway with nothing lost, clean SIGTERM, and one-line
//! errors.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::discovery::Participant;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{discovery_queue, Transport};
use msgflo_tests::chaos;
use msgflo_tests::flow::{sink, through_fault, Recovery};
use msgflo_tests::numbered::send_numbered;
use msgflo_tests::process::{participant, run_to_end, spawn_ready, Spawned};
use msgflo_tests::{amqp_url, mqtt_url, next_payload, unique};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const READY: Duration = Duration::from_secs(30);

async fn start(broker: &str, role: &str, extra: &[&str]) -> Result<Spawned> {
    let (child, line) =
        spawn_ready(participant(broker, role, "core/Repeat", extra)?, READY).await?;
    ensure!(
        line.starts_with(&format!("{role} connected to ")),
        "ready line: {line:?}"
    );
    Ok(child)
}

async fn client(broker: &str) -> Result<Arc<dyn Transport>> {
    msgflo_tests::client(broker, "e2e-client").await
}

/// msgflo's `spec/heterogenous` check: discovery on `fbp` with exactly the
/// expected keys, and `{"bar":"foo"}` on the `in` queue comes back equal on a
/// queue bound to `out`.
async fn msgflo_participant_check(broker: &str) -> Result<()> {
    let role = unique("e2e-check");
    let _participant = start(broker, &role, &[]).await?;
    let t = client(broker).await?;
    let mut discoveries = t.consume(&discovery_queue(), 50).await?;
    let definition = loop {
        let payload = next_payload(&mut discoveries, Duration::from_secs(20)).await?;
        let Ok(p) = Participant::decode(&payload) else {
            continue;
        };
        if p.role.as_str() == role {
            break serde_json::from_slice::<serde_json::Value>(&payload)?["payload"].clone();
        }
    };
    let mut keys: Vec<&str> = definition
        .as_object()
        .context("payload is an object")?
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    ensure!(
        keys == [
            "component",
            "icon",
            "id",
            "inports",
            "label",
            "outports",
            "role"
        ],
        "keys: {keys:?}"
    );
    let queue_of = |ports: &str, id: &str| -> Result<QueueName> {
        let port = definition[ports]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["id"] == id);
        let queue = port
            .and_then(|p| p["queue"].as_str())
            .with_context(|| format!("{ports} has no {id} queue"))?;
        Ok(QueueName::new(queue)?)
    };
    let (inq, outq) = (queue_of("inports", "in")?, queue_of("outports", "out")?);
    let mut received = sink(&t, &outq, "e2e.sink").await?;
    t.send_to_inport(&inq, Bytes::from_static(br#"{ "bar": "foo" }"#))
        .await?;
    let payload = next_payload(&mut received, Duration::from_secs(10)).await?;
    ensure!(
        serde_json::from_slice::<serde_json::Value>(&payload)? == serde_json::json!({"bar": "foo"})
    );
    t.close().await?;
    Ok(())
}

/// How many messages may be on their way at once. An MQTT broker has no
/// back-pressure from subscribers to publishers: Mosquitto queues at most
/// `max_queued_messages` (default 1000) per client and drops the rest, so a
/// sender must not run further ahead than that. AMQP queues hold everything.
/// (Mosquitto was seen dropping for a participant with 500 on their way, on
/// the loaded shared broker: 100.)
fn window(broker: &str) -> usize {
    if broker.starts_with("mqtt") {
        100
    } else {
        usize::MAX >> 4
    }
}

/// Sends `n` numbered messages through a Repeat participant and checks that
/// each comes out at least once; with `kill_halfway`, the participant is
/// SIGKILLed after half of them came out and started again with the same id.
/// What happens to the participant halfway through a round trip.
#[derive(Clone, Copy, PartialEq)]
enum Halfway {
    Nothing,
    /// SIGKILL, then a new participant with the same id.
    Kill,
    /// SIGTERM (a clean stop), then a new participant with the same id.
    Term,
    /// SIGKILL of a participant started without `--id`, then another one
    /// started the same way (on MQTT it takes the dead one's process slot).
    KillWithoutId,
    /// [`Halfway::Kill`] of a participant sending transient outputs
    /// (`--delivery transient`): confirmed before its input is acked too.
    KillTransient,
}

impl Halfway {
    /// The chaos suite's name for the fault (`tests/src/chaos.rs`).
    fn scenario(self) -> Option<&'static str> {
        match self {
            Halfway::Nothing => None,
            Halfway::Kill => Some("participant SIGKILLed, restarted with its --id"),
            Halfway::Term => Some("participant stopped with SIGTERM, restarted"),
            Halfway::KillWithoutId => Some("participant SIGKILLed, restarted without --id"),
            Halfway::KillTransient => Some(
                "participant with transient outputs (--delivery transient) SIGKILLed, restarted with its --id",
            ),
        }
    }

    /// Killed, not stopped.
    fn kills(self) -> bool {
        matches!(
            self,
            Halfway::Kill | Halfway::KillWithoutId | Halfway::KillTransient
        )
    }
}

async fn round_trip(broker: &str, n: usize, halfway: Halfway) -> Result<()> {
    let role = unique("e2e-repeat");
    let id = format!("{role}-fixed");
    let mut id_args = if halfway == Halfway::KillWithoutId {
        Vec::new()
    } else {
        vec!["--id", id.as_str()]
    };
    if halfway == Halfway::KillTransient {
        id_args.extend(["--delivery", "transient"]);
    }
    let mut first = Some(start(broker, &role, &id_args).await?);
    let t = client(broker).await?;
    let inq = QueueName::new(format!("{role}.IN"))?;
    let mut received = sink(&t, &QueueName::new(format!("{role}.OUT"))?, "e2e.sink").await?;

    let sender = send_numbered(t.clone(), inq, n, window(broker));
    let replace = || {
        let (child, role, id_args) = (first.take(), role.clone(), id_args.clone());
        async move {
            let child = child.context("the first participant")?;
            if halfway.kills() {
                child.kill().await?;
            } else {
                child.stop_cleanly(Duration::from_secs(10)).await?;
            }
            Ok((start(broker, &role, &id_args).await?, Recovery::FromFault))
        }
    };
    let fault_at = match halfway {
        Halfway::Nothing => usize::MAX,
        _ => n / 2,
    };
    let wait = Duration::from_secs(30);
    let (tally, replaced) =
        through_fault(&mut received, &sender, n, wait, fault_at, replace).await?;
    let running = replaced.or(first);
    sender.finish().await?;
    if let Some(scenario) = halfway.scenario() {
        tally.report(scenario, chaos::broker_kind(broker), n as u64);
    }
    ensure!(tally.lost(n as u64) == 0, "lost messages");
    // A clean stop acks what it finished before its connection closes.
    let duplicates = tally.duplicates();
    ensure!(
        halfway.kills() || duplicates == 0,
        "{duplicates} duplicates without a crash"
    );
    if let Some(child) = running {
        let (code, stderr) = child.terminate(Duration::from_secs(10)).await?;
        ensure!(code == Some(0), "exit code after SIGTERM: {code:?}");
        // Nothing on stderr in a normal run, before the ready line or after it.
        ensure!(stderr.is_empty(), "stderr: {stderr}");
    }
    t.close().await?;
    Ok(())
}

/// A participant stopped with SIGTERM and replaced by a new one (a new id)
/// leaves nothing behind that takes a share of the messages: every message
/// reaches the new participant.
async fn replaced_participant_takes_all_messages(broker: &str) -> Result<()> {
    let role = unique("e2e-replace");
    let first = start(broker, &role, &[]).await?;
    first.stop_cleanly(Duration::from_secs(10)).await?;
    let _second = start(broker, &role, &[]).await?;
    let t = client(broker).await?;
    let mut received = sink(&t, &QueueName::new(format!("{role}.OUT"))?, "e2e.sink").await?;
    let inq = QueueName::new(format!("{role}.IN"))?;
    for i in 0..20 {
        t.send_to_inport(&inq, Bytes::from(format!("{i}"))).await?;
    }
    let mut got = BTreeSet::new();
    while got.len() < 20 {
        let payload = next_payload(&mut received, Duration::from_secs(10))
            .await
            .with_context(|| format!("after {} of 20 messages", got.len()))?;
        got.insert(String::from_utf8_lossy(&payload).into_owned());
    }
    t.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_replaced_participant_takes_all_messages() -> Result<()> {
    replaced_participant_takes_all_messages(&amqp_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_replaced_participant_takes_all_messages() -> Result<()> {
    replaced_participant_takes_all_messages(&mqtt_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_msgflo_participant_check() -> Result<()> {
    msgflo_participant_check(&amqp_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_msgflo_participant_check() -> Result<()> {
    msgflo_participant_check(&mqtt_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_10000_messages_round_trip() -> Result<()> {
    round_trip(&amqp_url(), 10_000, Halfway::Nothing).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_10000_messages_round_trip() -> Result<()> {
    round_trip(&mqtt_url(), 10_000, Halfway::Nothing).await
}

/// SIGTERM under load: the stopping participant acks everything it
/// finished before its channel closes, so its successor gets no message
/// twice (it used to: the inport's channel closed with messages still in
/// the graph, whose acks were then lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_sigterm_halfway_repeats_nothing() -> Result<()> {
    round_trip(&amqp_url(), 10_000, Halfway::Term).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_sigterm_halfway_repeats_nothing() -> Result<()> {
    round_trip(&mqtt_url(), 10_000, Halfway::Term).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_sigkill_halfway_loses_nothing() -> Result<()> {
    round_trip(&amqp_url(), 10_000, Halfway::Kill).await
}

/// Issue 20: transient outputs are confirmed before the input is acked,
/// as persistent ones are, so a participant crash loses nothing either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_sigkill_halfway_with_transient_outputs_loses_nothing() -> Result<()> {
    round_trip(&amqp_url(), 10_000, Halfway::KillTransient).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_sigkill_halfway_loses_nothing() -> Result<()> {
    round_trip(&mqtt_url(), 10_000, Halfway::Kill).await
}

/// Issue 15, item 1: killed without `--id`, an MQTT participant's session
/// stayed in the share group and swallowed every second message after a
/// restart. The next process now takes its slot, so its id and session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_sigkill_without_an_id_loses_nothing() -> Result<()> {
    round_trip(&mqtt_url(), 10_000, Halfway::KillWithoutId).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_sigkill_without_an_id_loses_nothing() -> Result<()> {
    round_trip(&amqp_url(), 10_000, Halfway::KillWithoutId).await
}

/// Any built-in runs alone: `core/Counter` with an IIP counts it at start,
/// then each message; its outport is `ROLE.COUNT`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_builtin_with_an_iip_runs_as_a_participant() -> Result<()> {
    let broker = amqp_url();
    let role = unique("e2e-counter");
    let t = client(&broker).await?;
    let mut counts = sink(&t, &QueueName::new(format!("{role}.COUNT"))?, "e2e.sink").await?;
    let command = participant(
        &broker,
        &role,
        "core/Counter",
        &["--iips", r#"{"in": "x"}"#],
    )?;
    let (_participant, line) = spawn_ready(command, READY).await?;
    ensure!(line.starts_with(&role), "ready line: {line:?}");
    let inport = QueueName::new(format!("{role}.IN"))?;
    for _ in 0..2 {
        t.send_to_inport(&inport, Bytes::from_static(b"{}")).await?;
    }
    for expected in ["1", "2", "3"] {
        let count = next_payload(&mut counts, Duration::from_secs(10)).await?;
        ensure!(
            count == expected.as_bytes(),
            "count {count:?}, expected {expected}"
        );
    }
    t.close().await?;
    Ok(())
}

/// Bad input ends with one line on stderr, exit code 1, and nothing on stdout.
#[tokio::test]
async fn bad_input_is_one_line_and_exit_code_1() -> Result<()> {
    let cases: [(&str, &str, &[&str], &str); 5] = [
        (
            "amqp://127.0.0.1:1",
            "core/Repeat",
            &[],
            "cannot connect to amqp://127.0.0.1:1",
        ),
        (
            "mqtt://127.0.0.1:1",
            "core/Repeat",
            &[],
            "cannot connect to mqtt://127.0.0.1:1",
        ),
        (
            "foo://user:secret@x",
            "core/Repeat",
            &[],
            "bad broker URL foo://user:***@x",
        ),
        (
            "amqp://127.0.0.1",
            "core/Nope",
            &[],
            "unknown component \"core/Nope\"",
        ),
        (
            "amqp://127.0.0.1",
            "core/Counter",
            &["--iips", r#"{"nope": 1}"#],
            "core/Counter has no inport \"nope\"",
        ),
    ];
    for (broker, component, extra, expected) in cases {
        let command = participant(broker, "bad", component, extra)?;
        let (code, stdout, stderr) = run_to_end(command, Duration::from_secs(30)).await?;
        ensure!(
            code == Some(1),
            "{broker} {component}: exit {code:?}, stderr {stderr}"
        );
        ensure!(stdout.is_empty(), "{broker}: stdout {stdout:?}");
        ensure!(
            stderr.lines().count() == 1,
            "{broker}: not one line: {stderr:?}"
        );
        ensure!(
            stderr.starts_with("msgflo-participant: ") && stderr.contains(expected),
            "{broker}: {stderr:?}"
        );
        ensure!(
            !stderr.contains("secret") && !stderr.contains("panicked"),
            "{stderr:?}"
        );
    }
    Ok(())
}
