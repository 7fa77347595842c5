//! The transport contract against the MQTT broker (Mosquitto).

mod contract;

use anyhow::Result;
use async_trait::async_trait;
use contract::Harness;
use msgflo_tests::{mqtt_address, mqtt_url, unique};

struct Mqtt {
    prefix: String,
}

impl Mqtt {
    fn new() -> Self {
        Mqtt {
            prefix: unique("c"),
        }
    }
}

#[async_trait]
impl Harness for Mqtt {
    /// Mosquitto 2 speaks MQTT 5: headers go as user properties.
    fn carries_headers(&self) -> bool {
        true
    }

    fn lists_queues(&self) -> bool {
        false
    }

    fn url(&self) -> String {
        mqtt_url()
    }

    fn client_id(&self, client: &str) -> String {
        format!("{}-{client}", self.prefix)
    }

    /// Takes over each client's session (see [`msgflo_tests::mqtt::take_over`]).
    async fn kill_connections(&self, clients: &[&str]) -> Result<()> {
        let (host, port) = mqtt_address();
        let ids: Vec<String> = clients.iter().map(|c| self.client_id(c)).collect();
        msgflo_tests::mqtt::take_over(&host, port, &ids).await
    }
}

contract_tests!(Mqtt::new());

/// A delivery held when its connection is lost is superseded: the broker
/// sends it again on the resumed session (so a participant does not publish
/// its output twice, and a consumer skips such copies still waiting), and
/// every message then comes again, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_of_a_lost_connection_are_superseded() -> Result<()> {
    use bytes::Bytes;
    use msgflo_participant::protocol::ids::QueueName;
    use msgflo_participant::transport::{connect, ConnectOptions};
    use std::time::Duration;
    const N: usize = 10;
    let wait = Duration::from_secs(15);
    let id = unique("mqtt-superseded").replace('.', "-");
    let options = ConnectOptions {
        client_id: id.clone(),
        ..ConnectOptions::default()
    };
    let t = connect(&mqtt_url(), options).await?;
    let q = QueueName::new(unique("superseded"))?;
    let mut consumer = t.consume(&q, N as u16).await?;
    let direct = msgflo_tests::client(&mqtt_url(), "mqtt-superseded-pub").await?;
    for i in 0..N {
        direct
            .send_to_inport(&q, Bytes::from(i.to_string()))
            .await?;
    }
    let mut held = Vec::new();
    for _ in 0..N {
        let delivery = tokio::time::timeout(wait, consumer.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("consumer ended"))?;
        anyhow::ensure!(!delivery.superseded(), "superseded while connected");
        held.push(delivery);
    }
    let signal = held[0]
        .superseded_signal()
        .ok_or_else(|| anyhow::anyhow!("an MQTT QoS 1 delivery has no superseded signal"))?;

    let (host, port) = mqtt_address();
    msgflo_tests::mqtt::take_over(&host, port, &[id]).await?;
    tokio::time::timeout(wait, signal).await?;
    anyhow::ensure!(held.iter().all(|d| d.superseded()), "not all superseded");
    drop(held);
    let mut again = Vec::new();
    for _ in 0..N {
        let delivery = tokio::time::timeout(wait, consumer.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("consumer ended"))?;
        again.push(String::from_utf8_lossy(&delivery.payload).into_owned());
        delivery.ack().await?;
    }
    again.sort_by_key(|n| n.parse::<usize>().unwrap_or(usize::MAX));
    let expected: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    anyhow::ensure!(again == expected, "{again:?}");
    t.close().await?;
    direct.close().await?;
    Ok(())
}

/// The next delivery's payload and mode, acked.
async fn next_seen(
    consumer: &mut msgflo_participant::transport::Consumer,
) -> Result<(String, msgflo_participant::transport::DeliveryMode)> {
    let wait = std::time::Duration::from_secs(15);
    let delivery = tokio::time::timeout(wait, consumer.next())
        .await?
        .ok_or_else(|| anyhow::anyhow!("consumer ended"))?;
    let seen = (
        String::from_utf8_lossy(&delivery.payload).into_owned(),
        delivery.mode,
    );
    delivery.ack().await?;
    Ok(seen)
}

/// A transient binding (`set_binding_delivery`) is a QoS 0 subscription:
/// its messages arrive transient, and the broker keeps none of them while
/// the consumer is away (what comes on its own topic, QoS 1, is kept),
/// also after a lost connection. Undone, the binding is QoS 1 again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_binding_arrives_at_qos_0_and_is_not_kept_while_away() -> Result<()> {
    use bytes::Bytes;
    use msgflo_participant::protocol::ids::QueueName;
    use msgflo_participant::transport::{connect, ConnectOptions, DeliveryMode};
    let id = unique("mqtt-transient-binding").replace('.', "-");
    let options = || ConnectOptions {
        client_id: id.clone(),
        keep_session: true,
        ..ConnectOptions::default()
    };
    let (outport, inport) = (
        QueueName::new(unique("tb.OUT"))?,
        QueueName::new(unique("tb.IN"))?,
    );
    let publisher = msgflo_tests::client(&mqtt_url(), "mqtt-transient-binding-pub").await?;
    // A session of `id` consuming `inport`, with `outport` bound transient.
    let attach = || async {
        let t = connect(&mqtt_url(), options()).await?;
        let consumer = t.consume(&inport, 10).await?;
        t.bind(&outport, &inport).await?;
        t.set_binding_delivery(&outport, &inport, DeliveryMode::Transient)
            .await?;
        anyhow::Ok((t, consumer))
    };

    let (t, mut consumer) = attach().await?;
    publisher
        .publish(&outport, Bytes::from_static(b"1"))
        .await?;
    let seen = next_seen(&mut consumer).await?;
    anyhow::ensure!(seen == ("1".into(), DeliveryMode::Transient), "{seen:?}");
    t.close().await?;

    // Away: the QoS 0 binding's message is dropped, the own topic's kept.
    publisher
        .publish(&outport, Bytes::from_static(b"away"))
        .await?;
    publisher
        .send_to_inport(&inport, Bytes::from_static(b"kept"))
        .await?;
    let (t, mut consumer) = attach().await?;
    publisher
        .publish(&outport, Bytes::from_static(b"back"))
        .await?;
    let mut seen = vec![
        next_seen(&mut consumer).await?,
        next_seen(&mut consumer).await?,
    ];
    seen.sort();
    anyhow::ensure!(
        seen == [
            ("back".into(), DeliveryMode::Transient),
            ("kept".into(), DeliveryMode::Persistent)
        ],
        "{seen:?}"
    );

    // A lost connection: the binding is subscribed again at QoS 0.
    let (host, port) = mqtt_address();
    let before = t.reconnects();
    msgflo_tests::mqtt::take_over(&host, port, std::slice::from_ref(&id)).await?;
    publisher
        .send_to_inport(&inport, Bytes::from_static(b"reconnected"))
        .await?;
    let seen = next_seen(&mut consumer).await?;
    anyhow::ensure!(seen.0 == "reconnected", "{seen:?}");
    anyhow::ensure!(t.reconnects() > before, "the connection was not lost");
    for payload in ["after", "after again"] {
        publisher
            .publish(&outport, Bytes::from_static(payload.as_bytes()))
            .await?;
        let seen = next_seen(&mut consumer).await?;
        anyhow::ensure!(
            seen == (payload.into(), DeliveryMode::Transient),
            "{seen:?}"
        );
    }

    // Undone: QoS 1 again; an undo of persistent changes nothing.
    t.unset_binding_delivery(&outport, &inport, DeliveryMode::Persistent)
        .await?;
    publisher
        .publish(&outport, Bytes::from_static(b"2"))
        .await?;
    let seen = next_seen(&mut consumer).await?;
    anyhow::ensure!(seen == ("2".into(), DeliveryMode::Transient), "{seen:?}");
    t.unset_binding_delivery(&outport, &inport, DeliveryMode::Transient)
        .await?;
    publisher
        .publish(&outport, Bytes::from_static(b"3"))
        .await?;
    let seen = next_seen(&mut consumer).await?;
    anyhow::ensure!(seen == ("3".into(), DeliveryMode::Persistent), "{seen:?}");
    t.close().await?;
    // A clean close under the same id ends the session.
    let ending = ConnectOptions {
        keep_session: false,
        ..options()
    };
    connect(&mqtt_url(), ending).await?.close().await?;
    publisher.close().await?;
    Ok(())
}
