//! Transports: one [`Transport`] trait, implemented for AMQP (RabbitMQ, via
//! lapin), MQTT (via rumqttc) and an in-memory broker for tests. Pick one with
//! [`connect`] and a URL: `amqp://`, `amqps://`, `mqtt://`, `mqtts://`,
//! `memory://NAME`.
//!
//! # The model (msgflo's, AMQP-shaped)
//! - An **inport** is a queue (`repeater.IN`): messages wait there until a
//!   participant takes them; several consumers of one inport share its messages
//!   round-robin.
//! - An **outport** is a fan-out point (`repeater.OUT`): every inport bound to it
//!   gets a copy of each message published to it.
//! - [`Transport::bind`] connects an outport to an inport; [`Transport::unbind`]
//!   removes that again. An end that does not exist yet is declared, with
//!   this transport's shape; an end that exists is used as it is, never
//!   declared again (it may be a peer's, declared its own way).
//! - [`Transport::send_to_inport`] puts a message straight into an inport (IIPs,
//!   CLI tools, discovery on `fbp`).
//! - A consumed [`Delivery`] is acked once its outputs were published, or nacked:
//!   rejected without requeue, which dead-letters it to `dead-<queue>`.
//!
//! Payloads are bytes and are never re-encoded: what was published is what is
//! delivered. A message may carry [`Headers`] (name -> text), published with
//! [`Transport::publish_with`] or sent with [`Transport::send_to_inport_with`]
//! and found in [`Delivery::headers`]: AMQP and
//! the memory broker keep them, and MQTT carries them as MQTT 5 user
//! properties where the broker speaks MQTT 5 (MQTT 3.1.1, the embedded
//! broker's, has none: [`Transport::capabilities`] says which). Graph
//! participants carry brackets in them (see `runner/brackets.rs`), every
//! participant the W3C `traceparent` (see the participant's `trace/`).
//! A message goes persistent or transient ([`DeliveryMode`]).
//!
//! # Per transport
//! - AMQP: exactly msgflo-nodejs' topology, so Node.js, Python and Rust
//!   participants share one broker: an outport is a durable fanout exchange; an
//!   inport is a durable queue with `x-dead-letter-exchange: dead-<queue>` plus a
//!   same-named durable fanout exchange bound to it; bind = queue bind. A
//!   participant's own ports are declared whatever is there (a name taken
//!   with another shape is an error to report); `bind` first looks for each
//!   end (passive declare) and declares it only if missing, so a peer's
//!   queue or exchange of another shape (msgflo-python's are not durable)
//!   is bound as it is, and not declared again after a reconnection either.
//!   Publisher confirms for persistent messages (transient ones are done
//!   once written); manual acks; prefetch per consumer.
//! - MQTT: topics are queue names. An inport consumer subscribes to its own topic
//!   and to the topics of the outports bound to it (shared subscriptions whose
//!   group names the inport, so consumers of one inport share messages); so
//!   `bind` takes effect in the process that consumes the inport. QoS 1, manual
//!   acks in the order received; nack publishes the message to `dead-<queue>`
//!   and acks it.
//! - Memory: a broker inside this process with the AMQP semantics, one per
//!   `memory://NAME` (`bind` declares a missing end, as on AMQP).
//!
//! TLS (`amqps://`, `mqtts://`): rustls, trusting the platform's root
//! certificates (or those `SSL_CERT_FILE` / `SSL_CERT_DIR` name) and
//! [`ConnectOptions::extra_root_certs`]; the broker's certificate must name
//! the URL's host.
//!
//! Several brokers: a comma-separated list of URLs ([`Brokers`]) is tried in
//! order at the start; a lost connection tries the next broker at once, each
//! in turn, and backs off only after all failed once.
//!
//! Connection loss: every transport reconnects with back-off, declares its
//! topology and bindings again and resumes its consumers; messages that were
//! not acked come back from the broker; publishing while disconnected waits (up
//! to [`ConnectOptions::publish_timeout`]) instead of dropping.
//! [`Transport::is_connected`] says whether it is up now,
//! [`Transport::reconnects`] how many times it was made again.
//!
//! # Layout
//! - this file — the trait, [`ConnectOptions`], [`connect`].
//! - `delivery.rs` — [`Delivery`], its [`Acker`], [`Consumer`].
//! - `url.rs` — [`BrokerUrl`]: parsing and printing (without password).
//! - `brokers.rs` — [`Brokers`]: a list of broker URLs to fail over between.
//! - `backoff.rs` — pauses between reconnection attempts (AMQP and MQTT).
//! - `error.rs` — [`TransportError`].
//! - `headers.rs` — [`Headers`]: a message's headers, in order.
//! - `mode.rs` — [`DeliveryMode`]: persistent or transient.
//! - `tls.rs` — the TLS client configuration both broker transports use.
//! - `amqp/`, `mqtt/`, `memory/` — the three implementations.

pub mod amqp;
pub mod backoff;
mod brokers;
mod delivery;
mod error;
mod headers;
pub mod memory;
mod mode;
pub mod mqtt;
pub mod tls;
mod url;

pub use brokers::Brokers;
pub use delivery::{Acker, Consumer, Delivery, Signal};
pub use error::TransportError;
pub use headers::Headers;
pub use mode::DeliveryMode;
pub use url::{BrokerUrl, Scheme};

use async_trait::async_trait;
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Result of transport operations.
pub type Result<T, E = TransportError> = std::result::Result<T, E>;

/// The queue (AMQP) or topic (MQTT) that discovery messages go to.
pub const DISCOVERY_QUEUE: &str = msgflo_protocol::discovery::DISCOVERY_QUEUE;

/// Prefix of the private queues of [`Transport::tap`].
pub const TAP_PREFIX: &str = ".tap.";

/// A private copy of an outport's messages ([`Transport::tap`]).
#[derive(Debug)]
pub struct Tap {
    /// The private queue bound to the outport: `unbind(outport, &tap.queue)`
    /// stops the copies.
    pub queue: QueueName,
    /// Its messages (ack them; nothing else sees them).
    pub consumer: Consumer,
}

/// The dead-letter queue of an inport: where nacked messages go (a wire
/// contract: `msgflo_protocol::queues`).
pub use msgflo_protocol::queues::dead_letter_queue;

/// What a transport can do ([`Transport::capabilities`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Messages carry [`Headers`] from publisher to consumer (AMQP,
    /// memory, MQTT 5 as user properties; MQTT 3.1.1 has none).
    pub headers: bool,
    /// Anyone can bind an outport to an inport on the broker (AMQP,
    /// memory); without, a binding takes effect only in the process that
    /// consumes the inport (MQTT: the coordinator asks the participant with
    /// `connectinport`).
    pub broker_bindings: bool,
    /// The discovery queue is one queue its consumers share, keeping what
    /// nobody took (AMQP, memory); without, every watcher gets every
    /// message and nothing is kept (an MQTT topic).
    pub shared_discovery: bool,
}

impl Capabilities {
    /// AMQP's and the memory broker's.
    pub const QUEUES: Capabilities = Capabilities {
        headers: true,
        broker_bindings: true,
        shared_discovery: true,
    };
    /// MQTT 3.1.1's.
    pub const TOPICS: Capabilities = Capabilities {
        headers: false,
        broker_bindings: false,
        shared_discovery: false,
    };
    /// MQTT 5's: MQTT 3.1.1's, with headers.
    pub const TOPICS_WITH_HEADERS: Capabilities = Capabilities {
        headers: true,
        ..Capabilities::TOPICS
    };
}

/// What waits in an inport queue ([`Transport::inport_depths`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Messages ready for delivery.
    pub messages: u64,
    /// Consumers of the queue.
    pub consumers: u64,
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Who we are to the broker: the MQTT client id, the AMQP connection name.
    /// A participant passes its id, so a restarted participant with the same id
    /// resumes its MQTT session.
    pub client_id: String,
    /// How long a publish waits for a lost connection to come back before it
    /// fails with [`TransportError::Disconnected`].
    pub publish_timeout: Duration,
    /// Longest pause between two reconnection attempts (back-off doubles from
    /// 100 ms up to this). 500 ms by default: a flow's clients (each end of
    /// a hop, the sink) each wait out a pause of their own once the broker is
    /// back, and output must resume within a second (issue 15's recovery
    /// target, p99 over 20 restarts: with 1 s it was 1.05 s); the cost is two
    /// failed TCP connects a second per client while the broker is away.
    pub max_backoff: Duration,
    /// MQTT: keep the broker-side session after [`Transport::close`], so a
    /// process that connects again under the same `client_id` gets what was
    /// queued for it meanwhile. Off by default: a session left behind by a
    /// client id that never comes back keeps taking its share of messages.
    /// (While connected the session is always persistent, so nothing is lost
    /// across reconnections.)
    pub keep_session: bool,
    /// PEM files of CA certificates trusted for `amqps://` and `mqtts://`
    /// besides the platform's roots (a private CA). Empty by default.
    pub extra_root_certs: Vec<PathBuf>,
    /// MQTT: never unsubscribe an ended tap ([`Transport::untap`]): its
    /// copies keep coming and are acked and dropped. For rumqttd 0.20 (the
    /// embedded broker), where any UNSUBSCRIBE takes the client out of every
    /// shared-subscription group it is in, which stalls its other
    /// subscriptions. Off by default.
    pub keep_subscriptions: bool,
    /// AMQP: the type of the inport queues (and their dead-letter queues)
    /// this connection declares. Classic by default, as msgflo-nodejs and
    /// msgflo-python declare theirs; MQTT and the memory broker ignore it.
    pub queue_type: QueueType,
}

/// The RabbitMQ queue type of declared inports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueueType {
    /// A classic queue: on one node of a cluster, away while that node is.
    #[default]
    Classic,
    /// A quorum queue (`x-queue-type: quorum`): replicated over the
    /// cluster's nodes (up to 3 by default), available while most of its
    /// replicas are; its messages survive the loss of a minority. A queue's
    /// type cannot change: declaring an existing classic queue as quorum (or
    /// the reverse) is refused by the broker, and peers that declare the
    /// same inport classic (msgflo-nodejs, msgflo-python) are refused too.
    Quorum,
}

impl std::str::FromStr for QueueType {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text {
            "classic" => Ok(QueueType::Classic),
            "quorum" => Ok(QueueType::Quorum),
            other => Err(format!(
                "unknown queue type {other:?}: use classic or quorum"
            )),
        }
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            client_id: format!("msgflo-{}", uuid::Uuid::new_v4().simple()),
            publish_timeout: Duration::from_secs(30),
            max_backoff: Duration::from_millis(500),
            keep_session: false,
            extra_root_certs: Vec::new(),
            keep_subscriptions: false,
            queue_type: QueueType::Classic,
        }
    }
}

/// A connection to a broker. Cheap to share (`Arc<dyn Transport>`); every
/// method may be called from any task.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// The broker this is connected to (printable: no password); of a list
    /// of brokers, the one that took the first connection.
    fn broker(&self) -> &BrokerUrl;

    /// What this transport can do: callers ask this rather than the URL's
    /// scheme.
    fn capabilities(&self) -> Capabilities;

    /// Whether the connection to the broker is up now (it reconnects by
    /// itself when it is not; `false` once closed).
    fn is_connected(&self) -> bool;

    /// How many times the connection was made again after it was lost,
    /// since [`connect`]: a relaxed atomic read, cheap enough for every
    /// scrape. MQTT counts both of its connections (the session's and the
    /// publisher's, see `mqtt/`), so one outage that takes both counts 2;
    /// the memory broker counts its test hook's kills
    /// ([`memory::kill_connection`]).
    fn reconnects(&self) -> u64;

    /// Declares an inport queue (idempotent), and its dead-letter queue.
    async fn declare_inport(&self, queue: &QueueName) -> Result<()>;

    /// Declares an outport (idempotent).
    async fn declare_outport(&self, queue: &QueueName) -> Result<()>;

    /// Publishes to an outport; returns once the broker has the message
    /// (publisher confirm / PUBACK), so it is safe to ack the input after.
    async fn publish(&self, outport: &QueueName, payload: Bytes) -> Result<()>;

    /// [`publish`](Transport::publish) with message headers. Transports
    /// without headers (MQTT 3.1.1) publish the payload alone; MQTT 5
    /// sends them as user properties.
    async fn publish_with(
        &self,
        outport: &QueueName,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<()> {
        let _no_headers_here = headers;
        self.publish(outport, payload).await
    }

    /// [`publish_with`](Transport::publish_with) in delivery mode `mode`
    /// ([`DeliveryMode`]); confirmed by the broker in either mode. Only AMQP
    /// has modes; other transports publish as they always do.
    async fn publish_as(
        &self,
        outport: &QueueName,
        payload: Bytes,
        headers: &Headers,
        mode: DeliveryMode,
    ) -> Result<()> {
        let _one_mode_here = mode;
        self.publish_with(outport, payload, headers).await
    }

    /// Puts a message straight into an inport queue, confirmed like [`publish`].
    ///
    /// [`publish`]: Transport::publish
    async fn send_to_inport(&self, inport: &QueueName, payload: Bytes) -> Result<()>;

    /// [`send_to_inport`](Transport::send_to_inport) with message headers
    /// (a client's packet with brackets, from the coordinator). Transports
    /// without headers (MQTT 3.1.1) send the payload alone; MQTT 5 sends
    /// them as user properties.
    async fn send_to_inport_with(
        &self,
        inport: &QueueName,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<()> {
        let _no_headers_here = headers;
        self.send_to_inport(inport, payload).await
    }

    /// Whether the inport queue exists on the broker, asked without creating
    /// it (a CLI tool's "no such queue" check). On AMQP a passive declare on
    /// a channel of its own; on MQTT, where any topic can be published to,
    /// always `true` (the default).
    async fn inport_exists(&self, inport: &QueueName) -> Result<bool> {
        let _any_topic_exists = inport;
        Ok(true)
    }

    /// What waits in each of `inports` and how many consume it, in order:
    /// `None` where the broker has no such queue or cannot say (MQTT keeps
    /// no queues to ask about: the default). On AMQP passive declares on a
    /// channel of their own; the counts are the broker's at that moment
    /// (ready messages, not those delivered and unacked).
    async fn inport_depths(&self, inports: &[QueueName]) -> Result<Vec<Option<QueueDepth>>> {
        Ok(vec![None; inports.len()])
    }

    /// Starts consuming an inport with at most `prefetch` unacked messages.
    /// The consumer survives reconnections.
    async fn consume(&self, inport: &QueueName, prefetch: u16) -> Result<Consumer>;

    /// From now on, each consumer of `inport` made by this transport has at
    /// most `prefetch` unacked messages (also after a reconnection).
    /// Messages it already holds stay with it; while the limit changes they
    /// may not count against it (AMQP: see `amqp/consumer.rs`). An inport
    /// this transport does not consume is an error.
    async fn set_prefetch(&self, inport: &QueueName, prefetch: u16) -> Result<()>;

    /// Makes every message published to `outport` also go to `inport`. An
    /// end that does not exist is declared first (as by
    /// [`declare_outport`](Transport::declare_outport) /
    /// [`declare_inport`](Transport::declare_inport)); one that exists is
    /// left exactly as its owner declared it, also after a reconnection. On
    /// MQTT there is nothing to declare: the binding takes effect in the
    /// process that consumes `inport`.
    async fn bind(&self, outport: &QueueName, inport: &QueueName) -> Result<()>;

    /// Undoes [`bind`](Transport::bind).
    async fn unbind(&self, outport: &QueueName, inport: &QueueName) -> Result<()>;

    /// Messages published to `outport` reach `inport` (bound with
    /// [`bind`](Transport::bind), now or later, in the process that consumes
    /// `inport`) in `mode`, where the broker keeps a mode per binding: on
    /// MQTT a transient binding is a QoS 0 subscription (no acks; nothing
    /// kept while the consumer is away; what it holds when it dies is
    /// lost). Brokers where a message's mode is set when it is published
    /// (AMQP, memory) refuse.
    async fn set_binding_delivery(
        &self,
        outport: &QueueName,
        inport: &QueueName,
        mode: DeliveryMode,
    ) -> Result<()> {
        let _set = mode;
        Err(TransportError::no_binding_delivery(outport, inport))
    }

    /// Undoes [`set_binding_delivery`](Transport::set_binding_delivery) of
    /// `mode`, if the binding's mode is still `mode`.
    async fn unset_binding_delivery(
        &self,
        outport: &QueueName,
        inport: &QueueName,
        mode: DeliveryMode,
    ) -> Result<()> {
        let _set = mode;
        Err(TransportError::no_binding_delivery(outport, inport))
    }

    /// A copy of every message published to `outport` from now on, taking
    /// nothing away from the inports bound to it (watching an edge, reading
    /// a graph's exported outport): a private inport `.tap.<uuid>` bound to
    /// the outport. On AMQP it is transient (not durable, deleted with its
    /// consumer); on MQTT it is a subscription of this session.
    async fn tap(&self, outport: &QueueName) -> Result<Tap> {
        let name = format!("{TAP_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let queue = QueueName::new(name).map_err(|e| TransportError::Broker {
            operation: "tap",
            queue: outport.to_string(),
            reason: e.to_string(),
        })?;
        self.declare_inport(&queue).await?;
        let consumer = self.consume(&queue, 1000).await?;
        // Declares the outport only if it is missing: a peer's stays as it
        // declared it.
        self.bind(outport, &queue).await?;
        Ok(Tap { queue, consumer })
    }

    /// Ends a tap of `outport` made by [`tap`](Transport::tap): the copies
    /// stop, its private queue goes (AMQP and memory: deleted and never
    /// declared again after a reconnect; MQTT: unsubscribed, and copies
    /// still on their way are acked and dropped), and its consumer yields
    /// what it already held, then ends. Settling those last deliveries is
    /// harmless.
    async fn untap(&self, outport: &QueueName, tap: &QueueName) -> Result<()>;

    /// Takes over the broker-side session `client_id` that a dead
    /// participant consuming the same inports left behind, and puts what
    /// waited there back on the inports: how many messages. MQTT only
    /// (`mqtt/adopt.rs`); on AMQP and in memory what a dead consumer held
    /// goes back to the shared queue by itself, so there is nothing to
    /// adopt (0).
    async fn adopt_session(&self, client_id: &str) -> Result<usize> {
        let _ = client_id;
        Ok(0)
    }

    /// Ends the broker-side session `client_id` that a dead process left
    /// behind, with whatever waited in it (for sessions nobody needs, such as
    /// a dead participant's control session). MQTT only; elsewhere nothing
    /// to do.
    async fn end_session(&self, client_id: &str) -> Result<()> {
        let _ = client_id;
        Ok(())
    }

    /// Consumes discovery messages, as a coordinator or tool: on AMQP the
    /// `fbp` queue (shared by whoever consumes it, as msgflo's coordinator
    /// does); on MQTT a plain subscription to the `fbp` topic, so several
    /// watchers each see every message.
    async fn watch_discovery(&self) -> Result<Consumer> {
        self.consume(&discovery_queue(), 100).await
    }

    /// Closes the connection; pending acks are flushed first.
    async fn close(&self) -> Result<()>;

    /// Sends a discovery message to the `fbp` queue. On AMQP `fbp` is a plain
    /// durable queue (as msgflo declares it), not an inport; a transport
    /// overrides this where that differs from [`send_to_inport`].
    ///
    /// [`send_to_inport`]: Transport::send_to_inport
    async fn announce(&self, message: Bytes) -> Result<()> {
        self.send_to_inport(&discovery_queue(), message).await
    }
}

/// This process's discovery queue as a queue name: `fbp`, or what
/// `MSGFLO_DISCOVERY_QUEUE` names
/// ([`discovery_queue_name`](msgflo_protocol::discovery::discovery_queue_name)).
pub fn discovery_queue() -> QueueName {
    let name = msgflo_protocol::discovery::discovery_queue_name();
    // Checked when it was read; "fbp" is a valid queue name.
    QueueName::new(name).unwrap_or_else(|_| unreachable!("a checked queue name"))
}

/// Whether `queue` is this process's discovery queue.
pub fn is_discovery(queue: &str) -> bool {
    queue == msgflo_protocol::discovery::discovery_queue_name()
}

/// Connects to the broker at `url`, or to the first of a comma-separated
/// list of brokers that answers (see [`Brokers`]: the transport fails over
/// between them).
pub async fn connect(url: &str, options: ConnectOptions) -> Result<Arc<dyn Transport>> {
    let brokers = Brokers::parse(url)?;
    match brokers.primary().scheme {
        Scheme::Amqp | Scheme::Amqps => amqp::connect(brokers, options).await,
        Scheme::Mqtt | Scheme::Mqtts => mqtt::connect(brokers, options).await,
        Scheme::Memory => memory::connect(brokers.primary().clone(), options).await,
    }
}
