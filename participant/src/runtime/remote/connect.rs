//! Opening the WebSocket to a remote runtime: `ws://` over TCP, `wss://`
//! over the rustls client the broker transports use (the platform's roots,
//! or what `SSL_CERT_FILE` / `SSL_CERT_DIR` name). Errors are one line.

use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::WebSocketStream;
use url::{Host, Url};

/// A byte stream, plain or TLS.
pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open connection to a remote runtime.
pub(super) type Socket = WebSocketStream<Box<dyn Io>>;

/// The address, checked: `ws://` or `wss://` with a host.
pub(super) fn parse(address: &str) -> Result<Url, String> {
    let url = Url::parse(address).map_err(|e| format!("bad remote address {address:?}: {e}"))?;
    if !matches!(url.scheme(), "ws" | "wss") {
        return Err(format!(
            "bad remote address {address:?}: the scheme must be ws:// or wss://"
        ));
    }
    if url.host().is_none() {
        return Err(format!("bad remote address {address:?}: no host"));
    }
    Ok(url)
}

/// Connects and does the WebSocket handshake.
pub(super) async fn open(address: &str) -> Result<Socket, String> {
    let url = parse(address)?;
    let host = url.host().ok_or_else(|| format!("{address}: no host"))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| format!("{address}: no port"))?;
    let name = match &host {
        Host::Domain(domain) => (*domain).to_owned(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    };
    let tcp = TcpStream::connect((name.as_str(), port))
        .await
        .map_err(|e| format!("cannot reach {name}:{port}: {e}"))?;
    // Packets go as they come; the link batches its own writes.
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if url.scheme() == "wss" {
        let config = msgflo_transport::tls::client_config(&[])?;
        let server = ServerName::try_from(name.clone())
            .map_err(|_| format!("TLS cannot check a certificate against host {name:?}"))?;
        let tls = TlsConnector::from(Arc::clone(&config))
            .connect(server, tcp)
            .await
            .map_err(|e| format!("TLS with {name}:{port} failed: {e}"))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (socket, _) = tokio_tungstenite::client_async(address, stream)
        .await
        .map_err(|e| format!("WebSocket handshake with {address} failed: {e}"))?;
    Ok(socket)
}
