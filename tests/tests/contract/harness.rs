//! What the contract needs from each transport's test setup: its broker URL,
//! and a way to make the broker drop a client's connection.

use anyhow::Result;
use async_trait::async_trait;
use msgflo_participant::transport::{connect, ConnectOptions, Transport};
use std::sync::Arc;

/// A transport under test.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The broker URL for this transport.
    fn url(&self) -> String;

    /// Makes the broker close the connections of these clients (as named in
    /// [`Harness::connect`]), as a broker restart or a network cut would.
    async fn kill_connections(&self, clients: &[&str]) -> Result<()>;

    /// The broker-side client id for a client name: unique per harness, so that
    /// parallel cases never share one.
    fn client_id(&self, client: &str) -> String;

    /// The transport keeps message headers (MQTT 3.1.1 has none).
    fn carries_headers(&self) -> bool {
        true
    }

    /// The broker marks a message it delivers again as redelivered (the DUP
    /// flag on MQTT; rumqttd 0.20 does not set it).
    fn marks_redeliveries(&self) -> bool {
        true
    }

    /// [`Transport::inport_exists`] reads the broker's queues (MQTT has
    /// none: any topic exists).
    fn lists_queues(&self) -> bool {
        true
    }

    /// A new connection for `client`.
    async fn connect(&self, client: &str) -> Result<Arc<dyn Transport>> {
        let options = ConnectOptions {
            client_id: self.client_id(client),
            ..ConnectOptions::default()
        };
        Ok(connect(&self.url(), options).await?)
    }

    /// A connection for `client` whose MQTT session outlives `close`.
    async fn connect_keeping_session(&self, client: &str) -> Result<Arc<dyn Transport>> {
        let options = ConnectOptions {
            client_id: self.client_id(client),
            keep_session: true,
            ..ConnectOptions::default()
        };
        Ok(connect(&self.url(), options).await?)
    }

    /// Connects `client` again after it closed (same client id: a kept MQTT
    /// session resumes).
    async fn reconnect(&self, client: &str) -> Result<Arc<dyn Transport>> {
        self.connect(client).await
    }
}
