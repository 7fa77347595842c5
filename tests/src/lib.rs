//! Support for the end-to-end tests in `tests/tests/`: where the brokers are,
//! unique names so tests can run in parallel, the workspace root, public npm
//! and PyPI packages installed at test time ([`npm`], [`python`]), a
//! throw-away CA, TLS broker and TLS proxy ([`tls`]), running the data
//! tools ([`tools`]), a RabbitMQ vhost of a test's own ([`vhost`]),
//! noflo-ui in headless Chromium as the user ([`noflo_ui`]), and the
//! runtime registry server with its storage ([`registry_server`], a
//! PostgreSQL database of a test's own in [`postgres`]), and an OTLP/HTTP
//! trace receiver standing in for a collector ([`otlp_receiver`]).
//!
//! Broker addresses come from the environment that `scripts/test` sets up:
//! `MSGFLO_TEST_AMQP_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`) and
//! `MSGFLO_TEST_MQTT_URL` (default `mqtt://127.0.0.1:1883`). Tests never skip when
//! a broker is missing: they fail, saying which broker they could not reach.

pub mod bins;
pub mod browser;
pub mod chaos;
pub mod fbp_client;
pub mod flow;
pub mod lossy;
pub mod mqtt;
pub mod noflo_runtime;
pub mod noflo_ui;
pub mod npm;
pub mod numbered;
pub mod opened;
pub mod otlp_receiver;
pub mod own_mosquitto;
pub mod postgres;
pub mod process;
pub mod prometheus;
pub mod proxy;
pub mod python;
pub mod rabbitmq_cluster;
pub mod registry_server;
pub mod repeat_pair;
pub mod tls;
pub mod tools;
pub mod vhost;

use std::path::PathBuf;

/// The RabbitMQ the tests use.
pub fn amqp_url() -> String {
    std::env::var("MSGFLO_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// The MQTT broker the tests use, as `(host, port)`.
pub fn mqtt_address() -> (String, u16) {
    let url =
        std::env::var("MSGFLO_TEST_MQTT_URL").unwrap_or_else(|_| "mqtt://127.0.0.1:1883".into());
    let rest = url.trim_start_matches("mqtt://").trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.parse().unwrap_or(1883)),
        None => (rest.to_owned(), 1883),
    }
}

/// The MQTT broker the tests use, as a URL (`mqtt://host:port`).
pub fn mqtt_url() -> String {
    let (host, port) = mqtt_address();
    format!("mqtt://{host}:{port}")
}

/// A name no other test (or test run) uses: `<prefix>.<uuid>`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::new_v4().simple())
}

/// A test client of `broker` under a client id no other test uses (`name.<uuid>`).
pub async fn client(
    broker: &str,
    name: &str,
) -> anyhow::Result<std::sync::Arc<dyn msgflo_participant::transport::Transport>> {
    use msgflo_participant::transport::{connect, ConnectOptions};
    let options = ConnectOptions {
        client_id: unique(name),
        ..ConnectOptions::default()
    };
    Ok(connect(broker, options).await?)
}

/// The root of the workspace (where `Cargo.toml` and `scripts/` are).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The next message of `consumer`, acked, within `wait`; the error says which
/// queue stayed silent.
pub async fn next_payload(
    consumer: &mut msgflo_participant::transport::Consumer,
    wait: std::time::Duration,
) -> anyhow::Result<bytes::Bytes> {
    use anyhow::Context;
    let delivery = tokio::time::timeout(wait, consumer.next())
        .await
        .with_context(|| format!("nothing on {} within {wait:?}", consumer.queue()))?
        .with_context(|| format!("consumer of {} ended", consumer.queue()))?;
    let payload = delivery.payload.clone();
    delivery.ack().await?;
    Ok(payload)
}
