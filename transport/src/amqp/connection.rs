//! One AMQP connection: where and how to connect ([`Target`]: TCP, and TLS
//! for `amqps://`), the driver's side of it ([`Link`]: the control channel it
//! declares on, and noticing when the connection dies), and what publishers
//! and consumers share ([`Session`]).

use super::super::{tls, BrokerUrl, ConnectOptions, QueueDepth, TransportError};
use super::confirmed::Publisher;
use super::topology::{Declaration, Probe, Step};
use futures_util::{Stream, StreamExt};
use lapin::options::{
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::tcp::{AMQPUriTcpExt, RustlsConnector};
use lapin::types::FieldTable;
use lapin::uri::{AMQPScheme, AMQPUri};
use lapin::{Channel, Connection, ConnectionProperties, Event, ExchangeKind};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Heartbeat asked for when the URL sets none: a cut network is noticed
/// within about two of these (RabbitMQ's own default is 60 s).
const DEFAULT_HEARTBEAT_S: u16 = 10;
/// TCP connect timeout when the URL sets none (`connection_timeout`, ms).
const DEFAULT_TCP_TIMEOUT_MS: u64 = 10_000;
/// Largest frame asked for when the URL sets none (`frame_max`, bytes).
/// lapin keeps a send and a receive buffer of 32 frames each per
/// connection, and fills them: at RabbitMQ's 128 KiB that is 8 MiB of a
/// participant's memory; at 16 KiB, 1 MiB. A larger message is only split
/// into more frames.
const DEFAULT_FRAME_MAX: u32 = 16 * 1024;
/// Longest a whole connection attempt (TCP, AMQP handshake, channels) takes.
const OPEN_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the driver looks at the connection state besides lapin's events.
const STATUS_CHECK: Duration = Duration::from_secs(1);

/// Where to connect and as whom.
#[derive(Clone)]
pub(super) struct Target {
    uri: AMQPUri,
    properties: ConnectionProperties,
    /// For `amqps://`: the TLS client, built once, used for every attempt.
    tls: Option<RustlsConnector>,
}

impl Target {
    /// The lapin URI for `url` (host, port, credentials and vhost as parsed by
    /// [`BrokerUrl`]; `heartbeat`, `frame_max`, ... query parameters kept),
    /// naming the connection `options.client_id`; the TLS client for
    /// `amqps://`.
    pub(super) fn new(url: &BrokerUrl, options: &ConnectOptions) -> Result<Self, TransportError> {
        let refuse = |reason: String| TransportError::Connect {
            broker: url.to_string(),
            reason,
        };
        let mut uri: AMQPUri = url
            .as_secret_str()
            .parse()
            .map_err(|reason: String| refuse(format!("bad AMQP URL: {reason}")))?;
        // `[::1]` in a URL is `::1` to a socket.
        uri.authority.host = url
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        uri.authority.port = url.port;
        if let Some(user) = &url.username {
            uri.authority.userinfo.username = user.clone();
            uri.authority.userinfo.password = url.password.clone().unwrap_or_default();
        }
        uri.vhost = url.vhost.clone();
        uri.query.heartbeat.get_or_insert(DEFAULT_HEARTBEAT_S);
        uri.query.frame_max.get_or_insert(DEFAULT_FRAME_MAX);
        uri.query
            .connection_timeout
            .get_or_insert(DEFAULT_TCP_TIMEOUT_MS);
        let properties =
            ConnectionProperties::default().with_connection_name(options.client_id.clone().into());
        let tls = if url.scheme.is_tls() {
            tls::check_server_name(&uri.authority.host).map_err(refuse)?;
            let config = tls::client_config(&options.extra_root_certs).map_err(refuse)?;
            Some(RustlsConnector::from(config))
        } else {
            None
        };
        Ok(Self {
            uri,
            properties,
            tls,
        })
    }

    /// Opens the AMQP connection. For `amqps://`, lapin connects over TCP and
    /// we do the TLS handshake with our configuration.
    async fn connect(&self) -> lapin::Result<Connection> {
        let Some(tls) = self.tls.clone() else {
            return Connection::connect_uri(self.uri.clone(), self.properties.clone()).await;
        };
        let transport = async move |mut uri: AMQPUri, runtime| {
            let host = uri.authority.host.clone();
            uri.scheme = AMQPScheme::AMQP;
            let tcp = uri.connect_async(&runtime).await?;
            tcp.into_rustls(&tls, &host)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("TLS handshake failed: {e}")).into())
        };
        let runtime = lapin::runtime::default_runtime()?;
        Connection::connector(
            self.uri.clone(),
            runtime,
            transport,
            self.properties.clone(),
        )
        .await
    }

    /// Connects and opens the control channel and the publisher.
    pub(super) async fn open(&self) -> lapin::Result<(Link, Session)> {
        let attempt = async {
            let conn = self.connect().await?;
            let events = Box::pin(conn.events_listener());
            let conn = Arc::new(conn);
            let control = conn.create_channel().await?;
            let publisher = Publisher::open(conn.clone()).await?;
            let link = Link {
                conn: conn.clone(),
                control,
                events,
            };
            Ok((link, Session { conn, publisher }))
        };
        match tokio::time::timeout(OPEN_TIMEOUT, attempt).await {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s", OPEN_TIMEOUT.as_secs()),
            )
            .into()),
        }
    }
}

/// What publishers and consumers use of one connection.
pub(super) struct Session {
    /// The connection, for consumers to open their channels on.
    pub(super) conn: Arc<Connection>,
    /// The confirmed publishing channel.
    pub(super) publisher: Publisher,
}

impl Session {
    /// The connection is up.
    pub(super) fn alive(&self) -> bool {
        self.conn.status().connected()
    }
}

impl Session {
    /// Whether queue `name` exists: a passive declare on a channel of its
    /// own (the broker closes a channel that asks for a missing queue).
    pub(super) async fn queue_exists(&self, name: &str) -> lapin::Result<bool> {
        let depths = self.queue_depths(&[name]).await?;
        Ok(depths.first().is_some_and(Option::is_some))
    }

    /// What waits in each of `names` and how many consume it (`None`: no
    /// such queue): passive declares on one channel of their own, opened
    /// again after each missing queue (the broker closes a channel that
    /// asks for one).
    pub(super) async fn queue_depths(
        &self,
        names: &[&str],
    ) -> lapin::Result<Vec<Option<QueueDepth>>> {
        let options = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let mut channel = self.conn.create_channel().await?;
        let mut depths = Vec::with_capacity(names.len());
        for name in names {
            let answer = channel
                .queue_declare((*name).into(), options, FieldTable::default())
                .await;
            match answer {
                Ok(queue) => depths.push(Some(QueueDepth {
                    messages: u64::from(queue.message_count()),
                    consumers: u64::from(queue.consumer_count()),
                })),
                Err(error) if is_not_found(&error) => {
                    depths.push(None);
                    channel = self.conn.create_channel().await?;
                }
                Err(error) => return Err(error),
            }
        }
        if let Err(error) = channel.close(200, "OK".into()).await {
            tracing::debug!(%error, "closing the lookup channel failed");
        }
        Ok(depths)
    }
}

/// The broker said NOT_FOUND (404).
fn is_not_found(error: &lapin::Error) -> bool {
    use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
    matches!(error.kind(), lapin::ErrorKind::ProtocolError(e)
        if matches!(e.kind(), AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND)))
}

/// The driver's side of a connection.
pub(super) struct Link {
    conn: Arc<Connection>,
    control: Channel,
    events: Pin<Box<dyn Stream<Item = Event> + Send>>,
}

impl Link {
    /// Resolves once the connection is no longer usable (closed by the
    /// broker, network error, missed heartbeats).
    pub(super) async fn lost(&mut self) {
        let mut tick = tokio::time::interval(STATUS_CHECK);
        let mut events_open = true;
        loop {
            tokio::select! {
                event = self.events.next(), if events_open => events_open = event.is_some(),
                _ = tick.tick() => {}
            }
            if !self.conn.status().connected() {
                return;
            }
        }
    }

    /// The connection is up.
    pub(super) fn alive(&self) -> bool {
        self.conn.status().connected()
    }

    /// The control channel, opened again if the broker closed it after
    /// refusing an operation.
    async fn control(&mut self) -> lapin::Result<Channel> {
        if !self.control.status().connected() {
            self.control = self.conn.create_channel().await?;
        }
        Ok(self.control.clone())
    }

    /// Whether `probe` is on the broker: a passive declare on the control
    /// channel. The broker closes a channel that asks for something missing
    /// (NOT_FOUND), so then the control channel is opened again.
    pub(super) async fn exists(&mut self, probe: &Probe) -> lapin::Result<bool> {
        let channel = self.control().await?;
        let name = probe.name().into();
        let answer = match probe {
            Probe::Queue(_) => {
                let options = QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                };
                channel
                    .queue_declare(name, options, FieldTable::default())
                    .await
                    .map(drop)
            }
            Probe::Exchange(_) => {
                let options = ExchangeDeclareOptions {
                    passive: true,
                    ..ExchangeDeclareOptions::default()
                };
                channel
                    .exchange_declare(name, ExchangeKind::Fanout, options, FieldTable::default())
                    .await
            }
        };
        match answer {
            Ok(()) => Ok(true),
            Err(error) if is_not_found(&error) => {
                self.control = self.conn.create_channel().await?;
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    /// Performs one step; `Ok(true)` if it declared something (a
    /// [`Step::IfAbsent`] whose probe is there declares nothing).
    pub(super) async fn perform(&mut self, step: &Step) -> lapin::Result<bool> {
        match step {
            Step::Always(declaration) => self.declare(declaration).await.map(|()| true),
            Step::IfAbsent {
                absent,
                declarations,
            } => {
                if self.exists(absent).await? {
                    tracing::debug!(
                        name = absent.name(),
                        "exists; left as its owner declared it"
                    );
                    return Ok(false);
                }
                for declaration in declarations {
                    self.declare(declaration).await?;
                }
                Ok(true)
            }
        }
    }

    /// Declares one thing (idempotent on the broker).
    pub(super) async fn declare(&mut self, declaration: &Declaration) -> lapin::Result<()> {
        let channel = self.control().await?;
        match declaration {
            Declaration::Exchange(name) => {
                let options = ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                };
                channel
                    .exchange_declare(
                        name.as_str().into(),
                        ExchangeKind::Fanout,
                        options,
                        FieldTable::default(),
                    )
                    .await
            }
            Declaration::Queue {
                name, transient, ..
            } => {
                let options = QueueDeclareOptions {
                    durable: !transient,
                    auto_delete: *transient,
                    ..QueueDeclareOptions::default()
                };
                let arguments = declaration.arguments();
                channel
                    .queue_declare(name.as_str().into(), options, arguments)
                    .await
                    .map(drop)
            }
            Declaration::Binding { queue, exchange } => {
                channel
                    .queue_bind(
                        queue.as_str().into(),
                        exchange.as_str().into(),
                        "".into(),
                        QueueBindOptions::default(),
                        FieldTable::default(),
                    )
                    .await
            }
        }
    }

    /// Removes a binding.
    pub(super) async fn unbind(&mut self, queue: &str, exchange: &str) -> lapin::Result<()> {
        self.control()
            .await?
            .queue_unbind(
                queue.into(),
                exchange.into(),
                "".into(),
                FieldTable::default(),
            )
            .await
    }

    /// Deletes a queue (its bindings and consumers go with it).
    pub(super) async fn delete_queue(&mut self, queue: &str) -> lapin::Result<()> {
        self.control()
            .await?
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await
            .map(drop)
    }

    /// Closes the control channel and the connection (reply code 200).
    pub(super) async fn close(self, session: Option<&Session>) {
        if let Some(session) = session {
            session.publisher.close().await;
        }
        if self.control.status().connected() {
            if let Err(error) = self.control.close(200, "OK".into()).await {
                tracing::debug!(%error, "closing the control channel failed");
            }
        }
        if self.alive() {
            if let Err(error) = self.conn.close(200, "OK".into()).await {
                tracing::debug!(%error, "closing the connection failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        let url = BrokerUrl::parse(url).expect("a valid URL");
        Target::new(&url, &ConnectOptions::default()).expect("a valid target")
    }

    #[test]
    fn asks_for_small_frames_unless_the_url_sets_frame_max() {
        let small = target("amqp://guest:guest@127.0.0.1:5672/%2f");
        assert_eq!(small.uri.query.frame_max, Some(DEFAULT_FRAME_MAX));
        assert_eq!(small.uri.query.heartbeat, Some(DEFAULT_HEARTBEAT_S));
        let own = target("amqp://guest:guest@127.0.0.1:5672/%2f?frame_max=131072&heartbeat=30");
        assert_eq!(own.uri.query.frame_max, Some(131_072));
        assert_eq!(own.uri.query.heartbeat, Some(30));
    }
}
