//! `--ping-url`, `--ping-interval`, `--ping-method`: as msgflo does, the
//! coordinator requests a URL every interval (off by default) so a registry
//! such as Flowhub's knows the runtime is alive. `$RUNTIME_ID` in the URL is
//! replaced by the runtime id.
//!
//! A ping is one HTTP/1.1 request with an empty body and
//! `Connection: close`, over TCP or, for `https://`, TLS (rustls with the
//! platform's roots, as the broker connections use) — too small a need for
//! an HTTP client crate. A failed ping is logged and tried again next time.

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where and how to ping.
#[derive(Debug, Clone)]
pub struct Ping {
    /// The URL, `$RUNTIME_ID` already replaced.
    pub url: url::Url,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Time between pings.
    pub interval: Duration,
}

impl Ping {
    /// A ping of `url` (with `$RUNTIME_ID` replaced by `runtime_id`).
    pub fn new(
        url: &str,
        runtime_id: &str,
        method: &str,
        interval: Duration,
    ) -> Result<Self, String> {
        let url = url.replace("$RUNTIME_ID", runtime_id);
        let url = url::Url::parse(&url).map_err(|e| format!("--ping-url {url:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "--ping-url {url}: an http:// or https:// URL is needed"
            ));
        }
        let method = method.trim().to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!("--ping-method {method:?} is not an HTTP method"));
        }
        Ok(Self {
            url,
            method,
            interval,
        })
    }

    /// Pings every interval, forever (run it as a task).
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.interval);
        loop {
            ticks.tick().await;
            match tokio::time::timeout(Duration::from_secs(30), self.once()).await {
                Ok(Ok(status)) => tracing::debug!(url = %self.url, status, "pinged"),
                Ok(Err(error)) => tracing::warn!(url = %self.url, %error, "ping failed"),
                Err(_) => tracing::warn!(url = %self.url, "ping timed out"),
            }
        }
    }

    /// One request; returns the response's status code.
    pub async fn once(&self) -> Result<u16, String> {
        let host = self.url.host_str().unwrap_or_default();
        let port = self.url.port_or_known_default().unwrap_or(80);
        let tcp = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        if self.url.scheme() == "https" {
            let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|e| format!("{host}: {e}"))?;
            let tls = tokio_rustls::TlsConnector::from(tls_config()?)
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with {host}: {e}"))?;
            self.exchange(tls).await
        } else {
            self.exchange(tcp).await
        }
    }

    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut stream: S,
    ) -> Result<u16, String> {
        let path = match self.url.query() {
            Some(query) => format!("{}?{query}", self.url.path()),
            None => self.url.path().to_owned(),
        };
        let host = match self.url.port() {
            Some(port) => format!("{}:{port}", self.url.host_str().unwrap_or_default()),
            None => self.url.host_str().unwrap_or_default().to_owned(),
        };
        let request = format!(
            "{} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: msgflo-rs\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.method
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("sending the request: {e}"))?;
        let mut head = vec![0u8; 64];
        let n = stream
            .read(&mut head)
            .await
            .map_err(|e| format!("reading the response: {e}"))?;
        let line = String::from_utf8_lossy(&head[..n]);
        line.split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| {
                format!(
                    "not an HTTP response: {:?}",
                    line.lines().next().unwrap_or("")
                )
            })
    }
}

fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err("no trusted root certificates found".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn the_runtime_id_goes_into_the_url_and_bad_options_are_refused() {
        let ping = Ping::new(
            "http://h/runtimes/$RUNTIME_ID",
            "rt-7",
            "post",
            Duration::from_secs(1),
        )
        .expect("valid");
        assert_eq!(ping.url.as_str(), "http://h/runtimes/rt-7");
        assert_eq!(ping.method, "POST");
        assert!(Ping::new("ftp://h/", "x", "GET", Duration::from_secs(1)).is_err());
        assert!(Ping::new("not a url", "x", "GET", Duration::from_secs(1)).is_err());
        assert!(Ping::new("http://h/", "x", "GE T", Duration::from_secs(1)).is_err());
    }

    #[tokio::test]
    async fn a_ping_is_one_request_with_the_method_path_and_host() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
        let port = listener.local_addr().expect("address").port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.expect("read");
                assert!(n > 0, "request ended early");
                request.extend_from_slice(&buf[..n]);
            }
            socket
                .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
                .await
                .expect("write");
            String::from_utf8(request).expect("text")
        });
        let url = format!("http://127.0.0.1:{port}/runtimes/$RUNTIME_ID?x=1");
        let ping = Ping::new(&url, "rt-1", "POST", Duration::from_secs(60)).expect("valid");
        assert_eq!(ping.once().await, Ok(204));
        let request = server.await.expect("server");
        assert!(
            request.starts_with("POST /runtimes/rt-1?x=1 HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
            "{request}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_url_is_an_error_not_a_panic() {
        let ping =
            Ping::new("http://127.0.0.1:1/", "x", "GET", Duration::from_secs(1)).expect("valid");
        let error = ping.once().await.expect_err("nothing listens on port 1");
        assert!(
            error.starts_with("cannot connect to 127.0.0.1:1"),
            "{error}"
        );
    }
}
