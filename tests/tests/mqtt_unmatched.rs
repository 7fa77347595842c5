//! Issue 15, item 2: after a Mosquitto restart, an inport's share group is
//! gone until its consumer subscribes again (Mosquitto 2.0 does not persist
//! shared subscriptions). A message published in that window used to be
//! acked by the broker and lost; the transport's MQTT 5 publisher is told
//! it reached nobody and holds it until the subscriber is back
//! (`transport/src/mqtt/unmatched.rs`). A topic that never had a subscriber
//! is not held. Each test runs a Mosquitto of its own (it is restarted).

use anyhow::{Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::own_mosquitto::OwnMosquitto;
use msgflo_tests::{client, unique};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use std::time::Duration;

/// How long a subscriber stays away after the restart.
const AWAY: Duration = Duration::from_secs(1);

/// A consumer as a participant is one: a persistent session subscribed to
/// the inport's share group.
async fn subscriber(port: u16, id: &str, topic: &str) -> Result<(AsyncClient, EventLoop)> {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_clean_session(false);
    let (client, mut events) = AsyncClient::new(options, 10);
    client
        .subscribe(format!("$share/{topic}/{topic}"), QoS::AtLeastOnce)
        .await?;
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = events.poll().await? {
            return Ok((client, events));
        }
    }
}

/// The payload of the next message `events` receives, within 10 s.
async fn next_message(events: &mut EventLoop) -> Result<Bytes> {
    let wait = async {
        loop {
            if let Event::Incoming(Packet::Publish(p)) = events.poll().await? {
                return anyhow::Ok(p.payload);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .context("no message within 10 s")?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_right_after_a_broker_restart_waits_for_its_subscriber() -> Result<()> {
    let mut broker = OwnMosquitto::start().await?;
    let topic = unique("um").replace('.', "");
    let inport = QueueName::new(topic.clone())?;
    let id = unique("um-sub");
    let (_sub, mut events) = subscriber(broker.port, &id, &topic).await?;
    let publisher = client(&broker.url(), "um-pub").await?;
    publisher
        .send_to_inport(&inport, Bytes::from_static(b"before"))
        .await?;
    assert_eq!(next_message(&mut events).await?, "before");
    drop(events);

    broker.restart(Duration::from_millis(200)).await?;
    let reconnected = async {
        while !publisher.is_connected() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), reconnected)
        .await
        .context("the publisher did not reconnect within 10 s")?;
    let sent = {
        let (publisher, inport) = (publisher.clone(), inport.clone());
        tokio::spawn(async move {
            publisher
                .send_to_inport(&inport, Bytes::from_static(b"after"))
                .await
        })
    };
    tokio::time::sleep(AWAY).await;
    assert!(!sent.is_finished(), "confirmed while nobody subscribes");

    let (_sub, mut events) = subscriber(broker.port, &id, &topic).await?;
    assert_eq!(
        next_message(&mut events).await?,
        "after",
        "the message published while the share group was gone"
    );
    tokio::time::timeout(Duration::from_secs(5), sent).await???;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_nobody_ever_subscribed_is_not_held_after_a_restart() -> Result<()> {
    let mut broker = OwnMosquitto::start().await?;
    let publisher = client(&broker.url(), "um-pub").await?;
    let nobody = QueueName::new(unique("um-nobody").replace('.', ""))?;
    publisher.send_to_inport(&nobody, Bytes::new()).await?;
    broker.restart(Duration::from_millis(200)).await?;
    tokio::time::timeout(
        Duration::from_secs(5),
        publisher.send_to_inport(&nobody, Bytes::new()),
    )
    .await
    .context("held: a publish to a topic nobody subscribed")??;
    Ok(())
}
