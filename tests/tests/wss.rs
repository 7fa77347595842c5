//! Issue 17, an endpoint safe to expose: `msgflo --tls-cert --tls-key`
//! serves the FBP protocol over TLS (`wss://`). A client trusting the
//! certificate's CA talks to it; a plain `ws://` client and a client that
//! does not trust the certificate are turned away without disturbing it.
//! Certificates from a test CA (`tests/src/tls.rs`, openssl).

use anyhow::{ensure, Context, Result};
use futures_util::{SinkExt, StreamExt};
use msgflo_coordinator::client;
use msgflo_tests::fbp_client::{start, REPLY};
use msgflo_tests::tls::TestCa;
use msgflo_tests::vhost::Vhost;
use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// A TLS client configuration trusting only `ca`.
fn trusting(ca: &std::path::Path) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

/// Opens `wss://localhost:port/` with `config`, asks `runtime:getruntime`
/// and returns the answer.
async fn get_runtime(port: u16, config: Arc<rustls::ClientConfig>) -> Result<Value> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("localhost")?, tcp)
        .await
        .context("TLS handshake")?;
    let request = client::request(&format!("wss://localhost:{port}/"))?;
    let (mut ws, _) = tokio_tungstenite::client_async(request, tls)
        .await
        .context("WebSocket handshake over TLS")?;
    let ask = json!({"protocol": "runtime", "command": "getruntime", "payload": {}});
    ws.send(Message::text(ask.to_string())).await?;
    let answer = tokio::time::timeout(REPLY, async {
        while let Some(frame) = ws.next().await {
            if let Message::Text(text) = frame? {
                let message: Value = serde_json::from_str(text.as_str())?;
                if message["command"] == "runtime" {
                    return Ok(message);
                }
            }
        }
        anyhow::bail!("connection ended")
    })
    .await
    .context("no runtime answer within 1 s")??;
    Ok(answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fbp_endpoint_speaks_tls_and_turns_plain_and_untrusting_clients_away() -> Result<()> {
    let ca = TestCa::new()?;
    let vhost = Vhost::new("wss")?;
    let cert = ca.path("server.pem");
    let key = ca.path("server.key");
    let cert = cert.to_str().context("a UTF-8 path")?;
    let key = key.to_str().context("a UTF-8 path")?;
    let coordinator = start(vhost.url(), &["--tls-cert", cert, "--tls-key", key]).await?;
    let port = coordinator.port;

    let runtime = get_runtime(port, trusting(&ca.ca_pem())?).await?;
    ensure!(runtime["payload"]["type"] == "msgflo", "{runtime}");

    // Plain ws:// to the TLS port: refused, quickly, in one piece.
    let plain = tokio::time::timeout(
        Duration::from_secs(15),
        client::connect(&format!("ws://127.0.0.1:{port}/")),
    )
    .await
    .context("a plain client hung on the TLS port")?;
    ensure!(plain.is_err(), "a plain WebSocket client was served");

    // A client that trusts another CA does not complete the handshake.
    let other = TestCa::new()?;
    ensure!(
        get_runtime(port, trusting(&other.ca_pem())?).await.is_err(),
        "a client that does not trust the certificate got through"
    );

    // And the endpoint still serves.
    let again = get_runtime(port, trusting(&ca.ca_pem())?).await?;
    ensure!(again["payload"]["type"] == "msgflo", "{again}");
    Ok(())
}

#[tokio::test]
async fn a_key_without_its_certificate_is_refused_in_one_line() -> Result<()> {
    let ca = TestCa::new()?;
    let key = ca.path("server.key");
    let output = tokio::process::Command::new(msgflo_tests::bins::binary("msgflo")?)
        .args(["--tls-key", key.to_str().context("a UTF-8 path")?])
        .output()
        .await?;
    ensure!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(stderr.contains("--tls-cert"), "{stderr}");
    let wrong = ca.path("ca.pem"); // a certificate, but not the key's
    let output = tokio::process::Command::new(msgflo_tests::bins::binary("msgflo")?)
        .args(["--tls-cert", wrong.to_str().context("a UTF-8 path")?])
        .args(["--tls-key", key.to_str().context("a UTF-8 path")?])
        .args(["--broker", "amqp://127.0.0.1:1/"])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(20), output)
        .await
        .context("msgflo did not exit")??;
    ensure!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        stderr.trim().lines().count() == 1 && stderr.contains("--tls-key"),
        "{stderr}"
    );
    Ok(())
}
