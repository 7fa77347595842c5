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
    fn carries_headers(&self) -> bool {
        false
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
