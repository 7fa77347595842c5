//! A TCP proxy in front of a broker that a test can cut: while cut it
//! forwards nothing either way but keeps the connections open, as a
//! broker that stopped answering (or a network that dropped every packet)
//! looks to a client — calls neither succeed nor fail until some timeout.
//! It can also play a broker restart ([`CutProxy::go_down`], then
//! [`CutProxy::come_up`]): every connection closes, and new ones are closed
//! at once until it is up again.

use anyhow::{Context, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running proxy; stops accepting when dropped.
pub struct CutProxy {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    cut: watch::Sender<bool>,
    accepting: Arc<AtomicBool>,
    /// Counts the restarts: each closes the connections made before it.
    restarts: watch::Sender<u64>,
    down: Arc<AtomicBool>,
}

impl CutProxy {
    /// Proxies `127.0.0.1:<free port>` to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (cut, cut_rx) = watch::channel(false);
        let (restarts, restarts_rx) = watch::channel(0);
        let accepting = Arc::new(AtomicBool::new(true));
        let down = Arc::new(AtomicBool::new(false));
        let (open, is_down) = (accepting.clone(), down.clone());
        tokio::spawn(async move {
            while open.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if is_down.load(Ordering::Relaxed) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let mut restarted = restarts_rx.clone();
                restarted.mark_unchanged();
                let forward = pipe(cr, sw, cut_rx.clone());
                let back = pipe(sr, cw, cut_rx.clone());
                // Both directions end together: at a restart, or when one
                // side closes (the other half is dropped with it).
                tokio::spawn(async move {
                    tokio::select! {
                        () = forward => {}
                        () = back => {}
                        _ = restarted.changed() => {}
                    }
                });
            }
        });
        Ok(Self {
            port,
            cut,
            accepting,
            restarts,
            down,
        })
    }

    /// A proxy in front of the broker of `url`, and `url` pointing at it
    /// instead (127.0.0.1, the proxy's port; the rest kept).
    pub async fn in_front_of(url: &str) -> Result<(Self, String)> {
        let mut url = url::Url::parse(url).with_context(|| format!("not a URL: {url}"))?;
        let upstream = format!(
            "{}:{}",
            url.host_str().context("a broker host")?,
            url.port_or_known_default()
                .or(match url.scheme() {
                    "amqp" => Some(5672),
                    "mqtt" => Some(1883),
                    _ => None,
                })
                .context("a broker port")?
        );
        let proxy = Self::start(upstream).await?;
        url.set_host(Some("127.0.0.1"))?;
        url.set_port(Some(proxy.port))
            .map_err(|()| anyhow::anyhow!("cannot set the port of {url}"))?;
        Ok((proxy, url.to_string()))
    }

    /// A broker going down: every connection through the proxy closes, and
    /// connections made until [`come_up`](Self::come_up) are closed at once.
    pub fn go_down(&self) {
        self.down.store(true, Ordering::Relaxed);
        self.restarts.send_modify(|n| *n += 1);
    }

    /// The broker is back: connections are forwarded again.
    pub fn come_up(&self) {
        self.down.store(false, Ordering::Relaxed);
    }

    /// Stops forwarding (`true`) or forwards again (`false`).
    pub fn set_cut(&self, cut: bool) -> Result<()> {
        self.cut.send(cut).context("the proxy has stopped")
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.accepting.store(false, Ordering::Relaxed);
    }
}

/// Copies `from` to `to`, holding whatever arrives while cut until it is
/// not (nothing is read meanwhile, so the sender's buffers fill).
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut cut: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        if cut.wait_for(|cut| !cut).await.is_err() {
            return;
        }
        let n = tokio::select! {
            read = from.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            // Cut while waiting: wait again (what is read later is held).
            Ok(()) = cut.changed() => continue,
        };
        if cut.wait_for(|cut| !cut).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}
