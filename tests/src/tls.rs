//! A throw-away TLS world for the `amqps://` / `mqtts://` tests: a CA and a
//! server certificate for `localhost` and `127.0.0.1` made with the `openssl`
//! CLI ([`TestCa`]), a Mosquitto of our own with a TLS listener
//! ([`TlsMosquitto`]), and a TLS-terminating proxy in front of a plain broker
//! ([`TlsProxy`]: RabbitMQ has no TLS port here).
//!
//! Needs the `openssl` and `mosquitto` programs (`scripts/test` installs
//! them); without them the tests fail saying so, they never skip.

use anyhow::{anyhow, ensure, Result};
use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Child;
use tokio::task::JoinHandle;

/// The X.509 extensions of the two certificates: rustls wants a real CA, and
/// the server's names as subjectAltName.
const OPENSSL_CONFIG: &str = "\
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
";

/// A directory with the CA (`ca.pem`) and the server's `server.pem` and
/// `server.key`; removed when dropped.
pub struct TestCa {
    dir: PathBuf,
}

impl TestCa {
    /// Makes a new CA (EC P-256, valid two days) and a server certificate
    /// signed by it.
    pub fn new() -> Result<Self> {
        let dir = std::env::temp_dir().join(crate::unique("msgflo-tls"));
        std::fs::create_dir_all(&dir)?;
        let ca = TestCa { dir };
        std::fs::write(ca.path("openssl.cnf"), OPENSSL_CONFIG)?;
        let new_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        ca.openssl(&format!(
            "req -x509 -config openssl.cnf -extensions ca {new_key} -keyout ca.key \
             -out ca.pem -days 2 -subj /CN=msgflo-rs-test-CA"
        ))?;
        ca.openssl(&format!(
            "req -new -config openssl.cnf {new_key} -keyout server.key -out server.csr \
             -subj /CN=localhost"
        ))?;
        ca.openssl(
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 \
             -out server.pem -extfile openssl.cnf -extensions server",
        )?;
        Ok(ca)
    }

    /// A file in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The CA certificate clients must trust.
    pub fn ca_pem(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// Runs `openssl ARGS` (no argument has spaces) in the directory.
    fn openssl(&self, args: &str) -> Result<()> {
        let output = std::process::Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(&self.dir)
            .output()
            .map_err(|e| {
                anyhow!(
                    "the `openssl` program is needed to make the test certificates \
                     (Debian package openssl; scripts/test installs it): {e}"
                )
            })?;
        ensure!(
            output.status.success(),
            "openssl {args} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Ok(())
    }

    /// A rustls server configuration presenting the server certificate.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>> {
        let certs = CertificateDer::pem_file_iter(self.path("server.pem"))?
            .collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_file(self.path("server.key"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        Ok(Arc::new(config))
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Mosquitto with one TLS listener on a free port of 127.0.0.1, anonymous
/// clients allowed; killed when dropped.
pub struct TlsMosquitto {
    /// Where it listens.
    pub port: u16,
    _child: Child,
}

impl TlsMosquitto {
    /// Starts it with `ca`'s server certificate and waits until it accepts
    /// connections.
    pub async fn start(ca: &TestCa) -> Result<Self> {
        let port = free_port().await?;
        // Mosquitto started as root reads the key as user `mosquitto`.
        make_readable(&ca.path("server.key"))?;
        let config = format!(
            "listener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n\
             allow_anonymous true\npersistence false\n",
            ca.ca_pem().display(),
            ca.path("server.pem").display(),
            ca.path("server.key").display(),
        );
        std::fs::write(ca.path("mosquitto.conf"), config)?;
        let child =
            crate::own_mosquitto::run(&ca.path("mosquitto.conf"), &ca.path("mosquitto.log"), port)
                .await?;
        Ok(Self {
            port,
            _child: child,
        })
    }
}

/// Accepts TLS connections with `ca`'s server certificate on a free port and
/// pipes each to a plain TCP `upstream`; stops when dropped.
pub struct TlsProxy {
    /// Where it listens (127.0.0.1).
    pub port: u16,
    task: JoinHandle<()>,
}

impl TlsProxy {
    /// Starts the proxy in front of `upstream` (`host:port`).
    pub async fn start(ca: &TestCa, upstream: String) -> Result<Self> {
        let acceptor = tokio_rustls::TlsAcceptor::from(ca.server_config()?);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(mut client) = acceptor.accept(client).await else {
                        return;
                    };
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Ok(Self { port, task })
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port of 127.0.0.1 nobody listens on (just now).
async fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port())
}

fn make_readable(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    Ok(())
}
