//! A message as a consumer gets it ([`Delivery`]: payload, headers, where
//! it came from, how to ack it), the [`Acker`] each transport implements,
//! and the [`Consumer`] that hands deliveries out.

use super::{DeliveryMode, Headers, Result};
use async_trait::async_trait;
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use tokio::sync::mpsc;

/// Acks or nacks one delivery; implemented by each transport.
#[async_trait]
pub trait Acker: Send + Sync + 'static {
    /// The message was handled: the broker may forget it.
    async fn ack(self: Box<Self>) -> Result<()>;
    /// The message failed: reject it without requeue (dead-letter it).
    async fn nack(self: Box<Self>) -> Result<()>;
    /// The broker will certainly deliver this message again, and this copy
    /// can no longer be acked: handling it would only make a duplicate. AMQP:
    /// the channel it came on is gone and the message is persistent (a
    /// durable queue keeps it across a broker restart too). MQTT: the
    /// connection it came on is gone and it is QoS 1 (the persistent session
    /// gets it again). The in-memory broker: never.
    fn superseded(&self) -> bool {
        false
    }
    /// Resolves when this message may have become [`superseded`]
    /// (then ask again); `None` when it never will.
    ///
    /// [`superseded`]: Acker::superseded
    fn superseded_signal(&self) -> Option<Signal> {
        None
    }
}

/// A future that resolves once something may have happened.
pub type Signal = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>>;

/// A message taken from an inport. Ack or nack it; dropping it without either
/// leaves it unacked, and the broker delivers it again after a reconnect.
pub struct Delivery {
    /// The message, byte for byte as published.
    pub payload: Bytes,
    /// The broker delivered this message before (it may be a duplicate).
    pub redelivered: bool,
    /// The message's headers (empty where the transport has none).
    pub headers: Headers,
    /// When the message was published, where the transport says (AMQP's
    /// `timestamp` property, in whole seconds: msgflo-rs sets it on every
    /// message it publishes; other clients may not).
    pub sent_at: Option<std::time::SystemTime>,
    /// The message's id, where the transport has one and the publisher set
    /// it (AMQP's `message_id` property; msgflo-rs sets none).
    pub message_id: Option<String>,
    /// How the broker kept it (AMQP's `delivery_mode`; persistent where the
    /// transport has no modes).
    pub mode: DeliveryMode,
    acker: Box<dyn Acker>,
}

impl Delivery {
    /// A delivery whose ack and nack go to `acker`.
    pub fn new(payload: Bytes, redelivered: bool, acker: Box<dyn Acker>) -> Self {
        Self {
            payload,
            redelivered,
            headers: Headers::new(),
            sent_at: None,
            message_id: None,
            mode: DeliveryMode::Persistent,
            acker,
        }
    }

    /// The same delivery, published at `sent_at`.
    pub fn with_sent_at(mut self, sent_at: Option<std::time::SystemTime>) -> Self {
        self.sent_at = sent_at;
        self
    }

    /// The same delivery, with the id its publisher gave it.
    pub fn with_message_id(mut self, message_id: Option<String>) -> Self {
        self.message_id = message_id;
        self
    }

    /// The same delivery, kept by the broker in `mode`.
    pub fn with_mode(mut self, mode: DeliveryMode) -> Self {
        self.mode = mode;
        self
    }

    /// The same delivery, with `headers`.
    pub fn with_headers(mut self, headers: Headers) -> Self {
        self.headers = headers;
        self
    }

    /// The message was handled.
    pub async fn ack(self) -> Result<()> {
        self.acker.ack().await
    }

    /// The message failed: dead-letter it.
    pub async fn nack(self) -> Result<()> {
        self.acker.nack().await
    }

    /// The broker will certainly deliver this message again (see
    /// [`Acker::superseded`]): what is done with this copy is a duplicate.
    pub fn superseded(&self) -> bool {
        self.acker.superseded()
    }

    /// Resolves when [`superseded`](Self::superseded) may have turned
    /// true; `None` if it never will.
    pub fn superseded_signal(&self) -> Option<Signal> {
        self.acker.superseded_signal()
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("payload", &self.payload)
            .field("redelivered", &self.redelivered)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// The messages of one inport, in the order the broker hands them out.
#[derive(Debug)]
pub struct Consumer {
    queue: QueueName,
    deliveries: mpsc::Receiver<Delivery>,
}

impl Consumer {
    /// A consumer of `queue` fed through `deliveries` by a transport's driver.
    pub fn new(queue: QueueName, deliveries: mpsc::Receiver<Delivery>) -> Self {
        Self { queue, deliveries }
    }

    /// The inport this consumes.
    pub fn queue(&self) -> &QueueName {
        &self.queue
    }

    /// The next message; `None` once the transport was closed. Messages
    /// that waited here while their connection was lost and that the broker
    /// delivers again anyway ([`Delivery::superseded`]) are skipped: after a
    /// fault, a consumer handles each of its waiting messages once, not twice.
    pub async fn next(&mut self) -> Option<Delivery> {
        let mut skipped = 0u32;
        loop {
            let delivery = self.deliveries.recv().await?;
            if !delivery.superseded() {
                if skipped > 0 {
                    tracing::debug!(queue = %self.queue, skipped, "messages of a lost connection skipped: the broker delivers them again");
                }
                return Some(delivery);
            }
            skipped += 1;
        }
    }
}
