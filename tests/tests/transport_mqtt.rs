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
