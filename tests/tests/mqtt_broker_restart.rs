//! Issue 15, item 2, measured: a Mosquitto of the test's own (persistence
//! on) is restarted while numbered messages flow at a steady rate through a
//! `core/Repeat` participant (`--id`, so a persistent session). Counted:
//! lost, duplicates, and how long after the broker is back output resumes.
//! The sink is a plain persistent subscription (Mosquitto keeps what it
//! misses while away), so what is lost is lost on the participant's side.
//! A measurement, outside the test command while MQTT still loses here:
//! `cargo test -p msgflo-tests --test mqtt_broker_restart -- --ignored --nocapture`.

use anyhow::Result;
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::chaos;
use msgflo_tests::own_mosquitto::OwnMosquitto;
use msgflo_tests::process::spawn_ready;
use msgflo_tests::{client, unique};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Messages per run, and how fast they are sent.
const MESSAGES: u64 = 10_000;
const EVERY: Duration = Duration::from_micros(500);
/// How long the broker is away.
const DOWN: Duration = Duration::from_secs(2);

#[derive(Debug)]
#[allow(dead_code)] // Read through Debug.
struct Run {
    sent: u64,
    lost: usize,
    duplicates: usize,
    resumed_after_up: Option<Duration>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: cargo test -p msgflo-tests --test mqtt_broker_restart -- --ignored --nocapture"]
async fn a_mosquitto_restart_under_load() -> Result<()> {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    for _ in 0..runs {
        let run = one_run().await?;
        println!("{run:?}");
        chaos::report(&chaos::Outcome {
            scenario: "broker restarted (2 s down, persistence on)",
            broker: "MQTT",
            sent: run.sent,
            lost: run.lost as u64,
            duplicates: run.duplicates as u64,
            recovery: run.resumed_after_up,
            loss_allowed: false,
        });
    }
    Ok(())
}

async fn one_run() -> Result<Run> {
    let mut broker = OwnMosquitto::start().await?;
    let url = broker.url();
    let role = unique("mr").replace('.', "");
    let mut command = tokio::process::Command::new(binary("msgflo-participant")?);
    command.args(["--name", &role, "--component", "core/Repeat"]);
    command.args(["--broker", &url, "--id", &format!("{role}-1")]);
    let (_participant, _) = spawn_ready(command, Duration::from_secs(30)).await?;

    // The sink: a plain subscription of a persistent session.
    let received: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let mut options = MqttOptions::new(unique("sink"), "127.0.0.1", broker.port);
    options.set_clean_session(false);
    options.set_keep_alive(Duration::from_secs(5));
    let (sink, mut events) = AsyncClient::new(options, 1_000);
    sink.subscribe(format!("{role}.OUT"), QoS::AtLeastOnce)
        .await?;
    let got = received.clone();
    let sink_task = tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if let Some(n) = std::str::from_utf8(&p.payload)
                        .ok()
                        .and_then(|t| t.parse().ok())
                    {
                        got.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push((n, Instant::now()));
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });

    let t = client(&url, "mr-load").await?;
    let inport = QueueName::new(format!("{role}.IN"))?;
    let sender = {
        let (t, inport) = (t.clone(), inport.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            for n in 0..MESSAGES {
                tick.tick().await;
                t.send_to_inport(&inport, Bytes::from(n.to_string()))
                    .await?;
            }
            anyhow::Ok(())
        })
    };
    // Halfway through, the broker restarts.
    tokio::time::sleep(EVERY * (MESSAGES / 2) as u32).await;
    broker.restart(DOWN).await?;
    let up = Instant::now();
    sender.await??;

    // Output settles: nothing new for 5 s.
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let now = received.lock().map(|r| r.len()).unwrap_or_default();
        if now == last {
            break;
        }
        last = now;
    }
    sink_task.abort();
    let received = received
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let seen: BTreeSet<u64> = received.iter().map(|(n, _)| *n).collect();
    let resumed_after_up = received
        .iter()
        .find(|(_, at)| *at > up)
        .map(|(_, at)| at.duration_since(up));
    Ok(Run {
        sent: MESSAGES,
        lost: (0..MESSAGES).filter(|n| !seen.contains(n)).count(),
        duplicates: received.len() - seen.len(),
        resumed_after_up,
    })
}
