//! The raw MQTT client (rumqttc) the benchmark drives every MQTT flow with:
//! QoS 1 publishes counted as confirmed on their PUBACK (as msgflo-rs
//! publishes), and a QoS 1 subscriber (as msgflo-rs consumes).

use crate::drive::{BoxFuture, Flow, Sender};
use anyhow::{bail, Context, Result};
use bytes::Bytes;
use msgflo_participant::transport::{BrokerUrl, Scheme};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// Publishes that may await their PUBACK at once (msgflo-rs' own setting).
const INFLIGHT: u16 = 512;
/// Largest packet either way.
const MAX_PACKET: usize = 16 * 1024 * 1024;

fn options(url: &str, role: &str) -> Result<MqttOptions> {
    let broker = BrokerUrl::parse(url)?;
    if broker.scheme != Scheme::Mqtt {
        bail!("{url}: the benchmark's MQTT URL is mqtt://HOST[:PORT]");
    }
    let id = format!("bench-{role}-{}", uuid::Uuid::new_v4().simple());
    let mut options = MqttOptions::new(id, broker.host, broker.port);
    if let Some(user) = broker.username {
        options.set_credentials(user, broker.password.unwrap_or_default());
    }
    options
        .set_keep_alive(Duration::from_secs(5))
        .set_inflight(INFLIGHT)
        .set_request_channel_capacity(1024)
        .set_max_packet_size(MAX_PACKET, MAX_PACKET);
    Ok(options)
}

/// Polls until the CONNACK; fails on the first error.
async fn connected(events: &mut EventLoop, url: &str) -> Result<()> {
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
            Ok(_) => {}
            Err(e) => bail!("cannot connect to {url}: {e}"),
        }
    }
}

/// A flow that publishes to the topic `into` and subscribes to `out`.
pub async fn flow(url: &str, into: &str, out: &str) -> Result<Flow> {
    let sink = subscribe(url, out).await?;
    let sender = MqttSender::connect(url, into).await?;
    Ok(Flow {
        sender: Box::new(sender),
        sink,
    })
}

/// Subscribes QoS 1 to `topic`; returns once the broker granted it.
async fn subscribe(url: &str, topic: &str) -> Result<mpsc::Receiver<Bytes>> {
    let (client, mut events) = AsyncClient::new(options(url, "sink")?, 1024);
    connected(&mut events, url).await?;
    client.subscribe(topic, QoS::AtLeastOnce).await?;
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::SubAck(_))) => break,
            Ok(_) => {}
            Err(e) => bail!("subscribe to {topic}: {e}"),
        }
    }
    let (tx, rx) = mpsc::channel(4096);
    tokio::spawn(async move {
        let _client = client;
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    if tx.send(publish.payload).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    Ok(rx)
}

/// Publishes QoS 1; its event loop counts PUBACKs.
struct MqttSender {
    client: AsyncClient,
    topic: String,
    sent: u64,
    acked: Arc<AtomicU64>,
    acked_changed: Arc<Notify>,
}

impl MqttSender {
    async fn connect(url: &str, topic: &str) -> Result<Self> {
        let (client, mut events) = AsyncClient::new(options(url, "send")?, 1024);
        connected(&mut events, url).await?;
        let acked = Arc::new(AtomicU64::new(0));
        let acked_changed = Arc::new(Notify::new());
        let (count, notify) = (acked.clone(), acked_changed.clone());
        tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        count.fetch_add(1, Ordering::AcqRel);
                        notify.notify_waiters();
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            notify.notify_waiters();
        });
        Ok(Self {
            client,
            topic: topic.to_owned(),
            sent: 0,
            acked,
            acked_changed,
        })
    }
}

impl Sender for MqttSender {
    fn send(&mut self, payload: Vec<u8>) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.client
                .publish(self.topic.as_str(), QoS::AtLeastOnce, false, payload)
                .await
                .with_context(|| format!("publish to {}", self.topic))?;
            self.sent += 1;
            Ok(())
        })
    }

    fn confirmed(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + crate::drive::STALL;
            loop {
                let changed = self.acked_changed.notified();
                if self.acked.load(Ordering::Acquire) >= self.sent {
                    return Ok(());
                }
                if tokio::time::timeout_at(deadline, changed).await.is_err() {
                    bail!(
                        "{} of {} publishes to {} unconfirmed",
                        self.sent - self.acked.load(Ordering::Acquire),
                        self.sent,
                        self.topic
                    );
                }
            }
        })
    }
}
