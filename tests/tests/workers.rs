//! Two workers of one role (`msgflo-participant` without `--id`, as a
//! Procfile or `docker compose --scale` starts them); one is SIGKILLed
//! under load and never started again. On RabbitMQ the inport is one queue,
//! and what the dead one held unacked goes back to it. On Mosquitto the dead
//! one's session stays in the role's share group and keeps taking its turn
//! (issue 15: half the messages, swallowed); the live worker adopts it
//! (`participant/src/runner/adopt.rs`) and its messages come back. Nothing
//! lost either way.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::chaos;
use msgflo_tests::flow::{sink, through_fault, Recovery};
use msgflo_tests::numbered::send_numbered;
use msgflo_tests::process::{participant, spawn_ready, Spawned};
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{mqtt_address, mqtt_url, unique};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
use std::time::Duration;

async fn worker(broker: &str, role: &str) -> Result<Spawned> {
    let command = participant(broker, role, "core/Repeat", &[])?;
    Ok(spawn_ready(command, Duration::from_secs(30)).await?.0)
}

async fn one_of_two_killed(broker: &str, n: usize, window: usize) -> Result<()> {
    let role = unique("workers");
    let survivor = worker(broker, &role).await?;
    let victim = worker(broker, &role).await?;
    let t = msgflo_tests::client(broker, "workers-client").await?;
    let outport = QueueName::new(format!("{role}.OUT"))?;
    let mut received = sink(&t, &outport, "workers.sink").await?;
    let sender = send_numbered(t.clone(), QueueName::new(format!("{role}.IN"))?, n, window);
    let kill = || async {
        victim.kill().await?;
        Ok(((), Recovery::FromFault))
    };
    let wait = Duration::from_secs(30);
    let (tally, _) = through_fault(&mut received, &sender, n, wait, n / 4, kill).await?;
    sender.finish().await?;
    tally.report(
        "one of two workers SIGKILLed, never restarted",
        chaos::broker_kind(broker),
        n as u64,
    );
    ensure!(tally.lost(n as u64) == 0, "lost messages");
    let (code, stderr) = survivor.terminate(Duration::from_secs(10)).await?;
    ensure!(
        code == Some(0),
        "exit code after SIGTERM: {code:?}: {stderr}"
    );
    if broker.starts_with("mqtt") {
        let adopted = stderr
            .lines()
            .find(|line| {
                line.contains("adopted the session of a participant of this role that died")
            })
            .and_then(|line| {
                line.split_whitespace()
                    .find_map(|field| field.strip_prefix("id="))
            })
            .with_context(|| format!("the survivor says whose session it adopted: {stderr}"))?;
        // Both of the dead one's sessions are gone from the broker.
        for id in [adopted.to_owned(), format!("{adopted}.control")] {
            ensure!(
                !session_present(&id).await?,
                "session {id} is still on the broker"
            );
        }
    }
    t.close().await?;
    Ok(())
}

#[tokio::test]
async fn amqp_one_of_two_workers_killed_loses_nothing() -> Result<()> {
    let vhost = Vhost::new("workers")?;
    one_of_two_killed(vhost.url(), 4_000, 1_000).await
}

#[tokio::test]
async fn mqtt_one_of_two_workers_killed_and_never_restarted_loses_nothing() -> Result<()> {
    one_of_two_killed(&mqtt_url(), 4_000, 100).await
}

/// Whether Mosquitto holds a session for `client_id` (asked by connecting
/// under it without a clean session; the session that makes is ended).
async fn session_present(client_id: &str) -> Result<bool> {
    let (host, port) = mqtt_address();
    let connect = |clean: bool| {
        let mut options = MqttOptions::new(client_id, host.clone(), port);
        options.set_clean_session(clean);
        AsyncClient::new(options, 10)
    };
    let (client, mut events) = connect(false);
    let present = loop {
        match tokio::time::timeout(Duration::from_secs(10), events.poll()).await?? {
            Event::Incoming(Packet::ConnAck(ack)) => break ack.session_present,
            _ => continue,
        }
    };
    client.disconnect().await?;
    let (client, mut events) = connect(true);
    loop {
        if let Event::Incoming(Packet::ConnAck(_)) =
            tokio::time::timeout(Duration::from_secs(10), events.poll()).await??
        {
            break;
        }
    }
    client.disconnect().await?;
    let _ = tokio::time::timeout(Duration::from_secs(1), events.poll()).await;
    Ok(present)
}
