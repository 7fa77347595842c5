//! `--broker embedded`: an MQTT broker inside the coordinator (rumqttd), so a
//! machine with only Rust runs a whole msgflo system with one command.
//!
//! `embedded` listens on `127.0.0.1:1883` — or, when another broker has that
//! port (a laptop running Mosquitto), on the next free one ([`start_wanted`]
//! says which in the log; the coordinator prints the URL and the commands
//! that use it). `MSGFLO_EMBEDDED_PORT` changes the port tried first.
//! `embedded:PORT` or `embedded://HOST:PORT` ask for exactly that address (port
//! 0: any free port, as tests want). [`start`] returns once the broker takes
//! MQTT connections, with the `mqtt://` URL that the coordinator and its
//! participants connect to.
//!
//! What our MQTT transport needs, rumqttd 0.20 has: QoS 1, persistent sessions
//! (`clean_session = false`) and shared subscriptions (`$share/GROUP/TOPIC`,
//! handed out round-robin). Its limits are set for hundreds of participants:
//! [`MAX_CONNECTIONS`] clients, packets up to [`MAX_PAYLOAD`], and per topic a
//! log of recent messages of at most [`SEGMENT_SIZE`] x [`SEGMENTS`] bytes
//! (messages older than that are gone for a client that is away: the bound of
//! a persistent session's backlog).
//!
//! rumqttd's differences from Mosquitto (the transport contract run against
//! it, `tests/tests/transport_embedded.rs`, shows them):
//! - it drops a client that sends PUBACKs out of order (MQTT 3.1.1, 4.6.0-2):
//!   our transport acks in order;
//! - it keys share groups by name alone: our transport names a group after
//!   the inport *and* the bound outport;
//! - 0.20.0's router panics (`group must exists`, routing.rs
//!   `handle_disconnection`) when the last member of a share group leaves
//!   with messages in flight — a participant that stops can do that: a
//!   watchdog client notices the router's death and the broker starts afresh
//!   on the same address (clients reconnect and subscribe again; messages in
//!   flight and queued in sessions are lost);
//! - unsubscribing from a shared subscription whose reader is idle leaves
//!   that reader behind (0.20 looks it up under its `$share/...` name, not
//!   the topic's): the client keeps getting the topic's messages (our
//!   transport holds them until an inport takes the topic again), and
//!   subscribing again gives it a second reader. Debug builds of rumqttd
//!   assert against that and kill the router; release builds — what users
//!   run — do not, and the workspace's test builds skip rumqttd's debug
//!   assertions too (`Cargo.toml`), so tests run what ships;
//! - it speaks MQTT 3.1.1 only (an MQTT 5 CONNECT is dropped): our
//!   transport falls back to 3.1.1 on both connections, so messages carry
//!   no headers (no `traceparent`, no `msgflo-brackets`), and it cannot
//!   hold a publish that reached nobody (`transport/src/mqtt/unmatched.rs`)
//!   — moot here, as a restart of this broker ends every session anyway;
//! - a message delivered again carries no DUP flag (`redelivered` is false);
//! - a share group's read position lives only while the group has a member:
//!   what an inport's only consumer misses while it reconnects is skipped;
//! - it answers a client's publishes (PUBACK) and pings only while it may
//!   send that client more messages (at most 100 unacked): a client that
//!   acks its input only after its output is confirmed would wait forever on
//!   one connection, so our transport publishes on a second one
//!   (`transport/src/mqtt/mod.rs`).
//!
//! rumqttd logs through `tracing` under the target `rumqttd`; it reports
//! ordinary disconnections as errors, so the msgflo binaries keep it off
//! unless `RUST_LOG` asks for it (`RUST_LOG=warn,rumqttd=warn`).
//!
//! rumqttd has no way to stop its router: [`EmbeddedBroker::stop`] closes the
//! listener and every client connection; the router thread stays, idle, until
//! the process exits. Its panics are one debug line each, not a backtrace on
//! stderr (`embedded/router_panic.rs`), and after
//! [`EmbeddedBroker::expect_stop`] (the coordinator is stopping its
//! participants) a dying router is no longer an error.

mod router_panic;
mod wanted;

pub use wanted::{parse, start_wanted, Wanted, DEFAULT_ADDRESS, PORT_ENV};

use rumqttd::local::{LinkBuilder, LinkRx};
use rumqttd::{ConnectionSettings, LinkType, RouterConfig, Server, ServerSettings};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Most clients connected at once.
pub const MAX_CONNECTIONS: usize = 10_000;
/// Largest packet a client may send: MQTT's own limit (256 MiB).
pub const MAX_PAYLOAD: usize = 256 * 1024 * 1024;
/// Bytes per segment of a topic's message log.
pub const SEGMENT_SIZE: usize = 8 * 1024 * 1024;
/// Segments kept per topic.
pub const SEGMENTS: usize = 4;
/// How long [`start`] waits for the broker to take a connection.
const READY: Duration = Duration::from_secs(10);

/// The embedded broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// `--broker embedded...` was not understood.
    #[error("--broker {spec}: {reason}")]
    Spec {
        /// What was given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The address is taken, or not ours.
    #[error(
        "embedded MQTT broker: cannot listen on {address}: {source}{}",
        taken_hint(source)
    )]
    Listen {
        /// Where it should listen.
        address: SocketAddr,
        /// Why it cannot.
        source: std::io::Error,
    },
    /// It listens, but does not take MQTT connections.
    #[error("embedded MQTT broker on {address}: {reason}")]
    NotReady {
        /// Where it listens.
        address: SocketAddr,
        /// What went wrong.
        reason: String,
    },
}

/// The second half of the error for a taken address.
fn taken_hint(source: &std::io::Error) -> &'static str {
    if source.kind() == std::io::ErrorKind::AddrInUse {
        " (another MQTT broker? `--broker embedded` takes a free port)"
    } else {
        ""
    }
}

/// A running embedded broker.
#[derive(Debug)]
pub struct EmbeddedBroker {
    address: SocketAddr,
    url: String,
    stop: Option<oneshot::Sender<()>>,
    stopping: Arc<AtomicBool>,
}

impl EmbeddedBroker {
    /// Where it listens (the real port when port 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The URL clients connect to: `mqtt://127.0.0.1:PORT` (the loopback
    /// address when it listens on all addresses).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Says that the broker is about to stop (its clients are leaving):
    /// a router dying now is logged at debug level, not as an error.
    pub fn expect_stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    /// Closes the listener and every client connection (dropping it does
    /// too).
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a broker listening on `address` and returns when it takes MQTT
/// connections. Must run inside a tokio runtime (the broker runs on threads
/// of its own).
pub async fn start(address: SocketAddr) -> Result<EmbeddedBroker, EmbeddedError> {
    // Binding first gives a clear error for a taken port, and the real port for
    // port 0. rumqttd binds by address itself, so the port is free again for a
    // moment in between; if someone takes it then, the broker's own bind fails
    // and so does this function.
    let address = std::net::TcpListener::bind(address)
        .and_then(|listener| listener.local_addr())
        .map_err(|source| EmbeddedError::Listen { address, source })?;
    let url = format!("mqtt://{}", client_address(address));
    router_panic::quiet_router_panics();
    let stopping = Arc::new(AtomicBool::new(false));
    let (stop, stopped) = oneshot::channel::<()>();
    let (failed_tx, mut failed) = oneshot::channel::<String>();
    std::thread::Builder::new()
        .name("embedded-mqtt".into())
        .spawn({
            let stopping = stopping.clone();
            move || match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(supervise(address, stopped, stopping, failed_tx)),
                Err(e) => {
                    let _ = failed_tx.send(format!("cannot start its runtime: {e}"));
                }
            }
        })
        .map_err(|e| EmbeddedError::NotReady {
            address,
            reason: format!("cannot start its thread: {e}"),
        })?;
    let not_ready = |reason: String| EmbeddedError::NotReady { address, reason };
    tokio::select! {
        ready = tokio::time::timeout(READY, wait_ready(client_address(address))) => {
            ready
                .map_err(|_| not_ready(format!("takes no connection within {READY:?}")))?
                .map_err(not_ready)?;
        }
        reason = &mut failed => {
            let reason = reason.unwrap_or_else(|_| "its thread ended".into());
            return Err(not_ready(reason));
        }
    }
    tracing::debug!(%address, "embedded MQTT broker ready");
    Ok(EmbeddedBroker {
        address,
        url,
        stop: Some(stop),
        stopping,
    })
}

/// Runs the broker until `stopped`; starts it afresh when its router dies.
/// The first failure goes to `failed`.
async fn supervise(
    address: SocketAddr,
    mut stopped: oneshot::Receiver<()>,
    stopping: Arc<AtomicBool>,
    failed: oneshot::Sender<String>,
) {
    let mut failed = Some(failed);
    let watchdog_id = format!("msgflo-embedded-watchdog-{}", uuid::Uuid::new_v4().simple());
    loop {
        let router = rumqttd::Router::new(0, router_config()).spawn();
        // A client inside the router: its link breaks when the router is gone.
        let (_watchdog_tx, watchdog) = match LinkBuilder::new(&watchdog_id, router.clone()).build()
        {
            Ok((tx, rx, _ack)) => (tx, rx),
            Err(e) => {
                return report(
                    &mut failed,
                    address,
                    format!("cannot reach its router: {e}"),
                )
            }
        };
        let mut server = Server::new(server_settings(address), router, rumqttd::protocol::v4::V4);
        tokio::select! {
            result = server.start(LinkType::Remote) => {
                let reason = match result {
                    Ok(()) => "the listener ended".to_owned(),
                    Err(e) => e.to_string(),
                };
                return report(&mut failed, address, reason);
            }
            () = router_gone(watchdog) => {
                if stopping.load(Ordering::Relaxed) {
                    tracing::debug!(%address, "embedded MQTT broker: its router died while stopping");
                } else {
                    tracing::error!(
                        %address,
                        "embedded MQTT broker: its router died (a rumqttd panic); starting a new \
                         one: clients reconnect and subscribe again, messages in flight are lost"
                    );
                }
            }
            _ = &mut stopped => return,
        }
    }
}

/// Tells [`start`] why the broker failed, or the log once `start` returned.
fn report(failed: &mut Option<oneshot::Sender<String>>, address: SocketAddr, reason: String) {
    let unheard = match failed.take() {
        Some(failed) => failed.send(reason).err(),
        None => Some(reason),
    };
    if let Some(reason) = unheard {
        tracing::error!(%address, reason, "embedded MQTT broker stopped");
    }
}

/// Returns when the router behind `link` is gone.
async fn router_gone(mut link: LinkRx) {
    while link.next().await.is_ok() {}
}

/// The address a client on this machine connects to.
fn client_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// Connects (clean session) until the broker answers with a CONNACK.
async fn wait_ready(address: SocketAddr) -> Result<(), String> {
    let id = format!("msgflo-embedded-probe-{}", uuid::Uuid::new_v4().simple());
    loop {
        let options =
            rumqttc::MqttOptions::new(id.clone(), address.ip().to_string(), address.port());
        let (client, mut events) = rumqttc::AsyncClient::new(options, 10);
        match events.poll().await {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                let _ = client.disconnect().await;
                // Drive the loop until the DISCONNECT is out (it then errors).
                let drain = async { while events.poll().await.is_ok() {} };
                let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
                return Ok(());
            }
            Ok(_) => continue,
            Err(rumqttc::ConnectionError::Io(e))
                if e.kind() == std::io::ErrorKind::ConnectionRefused =>
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => return Err(format!("refuses an MQTT connection: {e}")),
        }
    }
}

fn router_config() -> RouterConfig {
    RouterConfig {
        max_connections: MAX_CONNECTIONS,
        max_outgoing_packet_count: 200,
        max_segment_size: SEGMENT_SIZE,
        max_segment_count: SEGMENTS,
        ..RouterConfig::default()
    }
}

fn server_settings(address: SocketAddr) -> ServerSettings {
    ServerSettings {
        name: "embedded".into(),
        listen: address,
        tls: None,
        next_connection_delay_ms: 0,
        connections: ConnectionSettings {
            connection_timeout_ms: 10_000,
            max_payload_size: MAX_PAYLOAD,
            // Packets read from one client in one go.
            max_inflight_count: 500,
            auth: None,
            external_auth: None,
            // Publishing to a topic nobody subscribes to is allowed (rumqttd
            // drops such clients otherwise).
            dynamic_filters: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_reach_an_unspecified_address_on_loopback() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(client_address(a("0.0.0.0:5")), a("127.0.0.1:5"));
        assert_eq!(client_address(a("[::]:5")), a("[::1]:5"));
        assert_eq!(client_address(a("10.1.2.3:5")), a("10.1.2.3:5"));
    }

    #[tokio::test]
    async fn a_taken_port_is_one_clear_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = taken.local_addr().unwrap();
        let err = start(address).await.unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "embedded MQTT broker: cannot listen on {address}: "
            )),
            "{err}"
        );
        assert!(
            err.ends_with("(another MQTT broker? `--broker embedded` takes a free port)"),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[tokio::test]
    async fn port_zero_listens_on_a_real_port_that_takes_mqtt() {
        let broker = start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let port = broker.address().port();
        assert_ne!(port, 0);
        assert_eq!(broker.url(), format!("mqtt://127.0.0.1:{port}"));
        wait_ready(broker.address()).await.unwrap();
        broker.stop();
    }
}
