//! The transport contract against the MQTT broker (Mosquitto).

mod contract;

use anyhow::{Context, Result};
use async_trait::async_trait;
use contract::Harness;
use msgflo_tests::{mqtt_address, mqtt_url, unique};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
use std::time::Duration;

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
    fn carries_headers(&self) -> bool {
        false
    }

    fn url(&self) -> String {
        mqtt_url()
    }

    fn client_id(&self, client: &str) -> String {
        format!("{}-{client}", self.prefix)
    }

    /// Takes over each client's session: the broker disconnects a client when
    /// another one connects with its client id. The intruder then leaves
    /// without ending the session.
    async fn kill_connections(&self, clients: &[&str]) -> Result<()> {
        let (host, port) = mqtt_address();
        for client in clients {
            let mut options = MqttOptions::new(self.client_id(client), host.clone(), port);
            options.set_clean_session(false);
            // Never ack what arrives while holding the session: those
            // messages must go back to the real client.
            options.set_manual_acks(true);
            options.set_keep_alive(Duration::from_secs(5));
            let (intruder, mut events) = AsyncClient::new(options, 10);
            tokio::time::timeout(contract::WAIT, async {
                loop {
                    if let Event::Incoming(Packet::ConnAck(_)) = events.poll().await? {
                        return anyhow::Ok(());
                    }
                }
            })
            .await
            .context("session takeover timed out")??;
            intruder.disconnect().await?;
            // Drive the event loop until the DISCONNECT is on the wire.
            while events.poll().await.is_ok() {}
        }
        Ok(())
    }
}

contract_tests!(Mqtt::new());
