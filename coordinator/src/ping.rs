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

/// A `--ping-url` or `--ping-method` that cannot be used ([`Ping::new`]);
/// msgflo prints its text and exits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PingOptionError {
    /// Not a URL.
    #[error("--ping-url {url:?}: {reason}")]
    NotAUrl {
        /// The URL, runtime id put in.
        url: String,
        /// Why it does not parse.
        reason: url::ParseError,
    },
    /// A URL that is not `http://` or `https://` with a host.
    #[error("--ping-url {url}: an http:// or https:// URL is needed")]
    NotHttp {
        /// The URL.
        url: url::Url,
    },
    /// Not an HTTP method's name.
    #[error("--ping-method {method:?} is not an HTTP method")]
    NotAMethod {
        /// The method, trimmed and upper-cased.
        method: String,
    },
}

/// Why one ping failed ([`Ping::once`]); it is logged and tried again.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    /// No TCP connection.
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        /// The URL's host.
        host: String,
        /// Its port.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// A host that cannot be a TLS server name.
    #[error("{host}: {source}")]
    ServerName {
        /// The URL's host.
        host: String,
        /// Why.
        source: rustls::pki_types::InvalidDnsNameError,
    },
    /// The machine has no trusted root certificates.
    #[error("no trusted root certificates found")]
    NoRoots,
    /// rustls refused the configuration.
    #[error(transparent)]
    Config(#[from] rustls::Error),
    /// The TLS handshake failed.
    #[error("TLS with {host}: {source}")]
    Tls {
        /// The URL's host.
        host: String,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the request failed.
    #[error("sending the request: {0}")]
    Send(#[source] std::io::Error),
    /// Reading the response failed.
    #[error("reading the response: {0}")]
    Read(#[source] std::io::Error),
    /// The answer does not start with an HTTP status line.
    #[error("not an HTTP response: {first_line:?}")]
    NotHttp {
        /// Its first line.
        first_line: String,
    },
}

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
    ) -> Result<Self, PingOptionError> {
        let url = url.replace("$RUNTIME_ID", runtime_id);
        let url = match url::Url::parse(&url) {
            Ok(parsed) => parsed,
            Err(reason) => return Err(PingOptionError::NotAUrl { url, reason }),
        };
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(PingOptionError::NotHttp { url });
        }
        let method = method.trim().to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(PingOptionError::NotAMethod { method });
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
    pub async fn once(&self) -> Result<u16, PingError> {
        let host = self.url.host_str().unwrap_or_default();
        let port = self.url.port_or_known_default().unwrap_or(80);
        let tcp = TcpStream::connect((host, port))
            .await
            .map_err(|source| PingError::Connect {
                host: host.to_owned(),
                port,
                source,
            })?;
        if self.url.scheme() == "https" {
            let name =
                rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|source| {
                    PingError::ServerName {
                        host: host.to_owned(),
                        source,
                    }
                })?;
            let tls = tokio_rustls::TlsConnector::from(tls_config()?)
                .connect(name, tcp)
                .await
                .map_err(|source| PingError::Tls {
                    host: host.to_owned(),
                    source,
                })?;
            self.exchange(tls).await
        } else {
            self.exchange(tcp).await
        }
    }

    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut stream: S,
    ) -> Result<u16, PingError> {
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
            .map_err(PingError::Send)?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await.map_err(PingError::Read)?;
        let line = String::from_utf8_lossy(&head[..n]);
        line.split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| PingError::NotHttp {
                first_line: line.lines().next().unwrap_or("").to_owned(),
            })
    }
}

fn tls_config() -> Result<Arc<rustls::ClientConfig>, PingError> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(PingError::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
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

    #[test]
    fn a_refused_option_is_named_with_its_value() {
        let refusal = |url: &str, method: &str| {
            Ping::new(url, "rt", method, Duration::from_secs(1))
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            refusal("ftp://h/$RUNTIME_ID", "GET"),
            Err("--ping-url ftp://h/rt: an http:// or https:// URL is needed".into())
        );
        assert_eq!(
            refusal("not a url", "GET"),
            Err("--ping-url \"not a url\": relative URL without a base".into())
        );
        assert_eq!(
            refusal("http://h/", " ge t"),
            Err("--ping-method \"GE T\" is not an HTTP method".into())
        );
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
        assert_eq!(ping.once().await.expect("a response"), 204);
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
        let error = ping
            .once()
            .await
            .expect_err("nothing listens on port 1")
            .to_string();
        assert!(
            error.starts_with("cannot connect to 127.0.0.1:1"),
            "{error}"
        );
    }
}
