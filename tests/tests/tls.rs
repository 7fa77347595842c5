//! `mqtts://` and `amqps://` for real: a throw-away CA, a Mosquitto of our own
//! with a TLS listener, and a TLS proxy in front of the test RabbitMQ. The
//! participant binary trusts the CA through `SSL_CERT_FILE` (set for the child
//! only), the test's own client through `ConnectOptions::extra_root_certs`.
//! Without the CA, or against a port that does not speak TLS (or AMQP),
//! connecting fails fast with one line.

use anyhow::{anyhow, ensure, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{connect, BrokerUrl, ConnectOptions, Transport};
use msgflo_tests::bins::binary;
use msgflo_tests::process::{run_to_end, spawn_ready};
use msgflo_tests::tls::{TestCa, TlsMosquitto, TlsProxy};
use msgflo_tests::{amqp_url, mqtt_address, next_payload, unique};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::Command;

const READY: Duration = Duration::from_secs(30);
/// "Fails fast": well within the transports' own connection time limits.
const FAST: Duration = Duration::from_secs(5);

/// `msgflo-participant` running core/Repeat as `role`, with no CA settings
/// of ours in its environment.
fn participant(broker: &str, role: &str) -> Result<Command> {
    let mut command = Command::new(binary("msgflo-participant")?);
    command
        .args([
            "--broker",
            broker,
            "--name",
            role,
            "--component",
            "core/Repeat",
        ])
        .env_remove("RUST_LOG")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    Ok(command)
}

/// Connects a client trusting `roots` besides the platform's roots.
async fn client(broker: &str, roots: &[PathBuf]) -> Result<Arc<dyn Transport>> {
    let options = ConnectOptions {
        client_id: unique("tls-client"),
        extra_root_certs: roots.to_vec(),
        ..ConnectOptions::default()
    };
    Ok(connect(broker, options).await?)
}

/// Connecting to `broker` fails within [`FAST`]; returns the error, checked
/// to be one line naming the broker without its password.
async fn connect_error(broker: &str, roots: &[PathBuf]) -> Result<String> {
    let started = Instant::now();
    let err = match client(broker, roots).await {
        Ok(_) => return Err(anyhow!("connected to {broker}")),
        Err(err) => err.to_string(),
    };
    ensure!(
        started.elapsed() < FAST,
        "took {:?}: {err}",
        started.elapsed()
    );
    let shown = BrokerUrl::parse(broker)?;
    ensure!(
        err.starts_with(&format!("cannot connect to {shown}: ")),
        "{err}"
    );
    ensure!(!err.contains('\n'), "more than one line: {err}");
    if let Some(password) = &shown.password {
        ensure!(
            !err.contains(&format!(":{password}@")),
            "password shown: {err}"
        );
    }
    Ok(err)
}

/// The test RabbitMQ's URL (credentials, vhost) at another address, as amqps.
fn amqps_url(host: &str, port: u16) -> Result<String> {
    let mut url = url::Url::parse(&amqp_url())?;
    url.set_scheme("amqps")
        .map_err(|()| anyhow!("cannot make {url} amqps"))?;
    url.set_host(Some(host))?;
    url.set_port(Some(port))
        .map_err(|()| anyhow!("cannot set the port of {url}"))?;
    Ok(url.to_string())
}

/// Where the test RabbitMQ listens, as `host:port`.
fn rabbitmq_address() -> Result<(String, u16)> {
    let url = BrokerUrl::parse(&amqp_url())?;
    Ok((url.host, url.port))
}

/// Starts a Repeat participant on `broker` trusting `ca` through
/// `SSL_CERT_FILE`, and sends a message through it with a client trusting
/// `ca` through its options.
async fn round_trip(broker: &str, ca: &TestCa) -> Result<()> {
    let role = unique("tls-repeat");
    let mut command = participant(broker, &role)?;
    command.env("SSL_CERT_FILE", ca.ca_pem());
    let (_participant, line) = spawn_ready(command, READY).await?;
    let shown = BrokerUrl::parse(broker)?;
    ensure!(line == format!("{role} connected to {shown}"), "{line:?}");

    let t = client(broker, &[ca.ca_pem()]).await?;
    let outport = QueueName::new(format!("{role}.OUT"))?;
    let sink = QueueName::new(unique("tls.sink"))?;
    t.declare_outport(&outport).await?;
    t.declare_inport(&sink).await?;
    let mut received = t.consume(&sink, 10).await?;
    t.bind(&outport, &sink).await?;
    let message = Bytes::from_static(br#"{"over":"tls"}"#);
    let inport = QueueName::new(format!("{role}.IN"))?;
    t.send_to_inport(&inport, message.clone()).await?;
    let payload = next_payload(&mut received, Duration::from_secs(10)).await?;
    ensure!(payload == message, "got {payload:?}");
    t.close().await?;
    Ok(())
}

/// A message goes through a participant over mqtts://, the CA trusted.
#[tokio::test]
async fn mqtts_round_trip_through_a_participant() -> Result<()> {
    let ca = TestCa::new()?;
    let mosquitto = TlsMosquitto::start(&ca).await?;
    round_trip(&format!("mqtts://localhost:{}", mosquitto.port), &ca).await
}

/// A message goes through a participant over amqps://: RabbitMQ behind a
/// proxy that terminates TLS with the test certificate.
#[tokio::test]
async fn amqps_round_trip_through_a_participant() -> Result<()> {
    let ca = TestCa::new()?;
    let (host, port) = rabbitmq_address()?;
    let proxy = TlsProxy::start(&ca, format!("{host}:{port}")).await?;
    round_trip(&amqps_url("localhost", proxy.port)?, &ca).await
}

/// Without the CA, the client and the participant refuse the broker's
/// certificate, saying so in one line.
#[tokio::test]
async fn mqtts_without_the_ca_fails_naming_the_certificate() -> Result<()> {
    let ca = TestCa::new()?;
    let mosquitto = TlsMosquitto::start(&ca).await?;
    let broker = format!("mqtts://localhost:{}", mosquitto.port);
    let err = connect_error(&broker, &[]).await?;
    ensure!(err.contains("certificate"), "{err}");

    let command = participant(&broker, &unique("tls-untrusted"))?;
    let (code, _, stderr) = run_to_end(command, READY).await?;
    ensure!(code == Some(1), "exit code {code:?}; stderr: {stderr}");
    ensure!(
        stderr.trim().lines().count() == 1 && stderr.contains("certificate"),
        "stderr: {stderr}"
    );
    Ok(())
}

/// mqtts:// to the plain MQTT port fails fast, in one line.
#[tokio::test]
async fn mqtts_to_a_plain_port_fails_fast() -> Result<()> {
    let (host, port) = mqtt_address();
    let err = connect_error(&format!("mqtts://{host}:{port}"), &[]).await?;
    ensure!(err.contains("TLS handshake failed"), "{err}");
    Ok(())
}

/// amqps:// to RabbitMQ's plain port fails fast, in one line.
#[tokio::test]
async fn amqps_to_a_plain_port_fails_fast() -> Result<()> {
    let (host, port) = rabbitmq_address()?;
    let err = connect_error(&amqps_url(&host, port)?, &[]).await?;
    ensure!(err.contains("TLS handshake failed"), "{err}");
    Ok(())
}

/// amqps:// to a TLS port that does not speak AMQP (Mosquitto's) fails fast
/// after a good handshake, rather than waiting for an answer.
#[tokio::test]
async fn amqps_to_a_tls_port_of_another_protocol_fails_fast() -> Result<()> {
    let ca = TestCa::new()?;
    let mosquitto = TlsMosquitto::start(&ca).await?;
    let broker = amqps_url("localhost", mosquitto.port)?;
    let err = connect_error(&broker, &[ca.ca_pem()]).await?;
    ensure!(!err.contains("TLS handshake failed"), "{err}");
    Ok(())
}
