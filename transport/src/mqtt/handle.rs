//! The handle side: [`Command`]s for the driver and [`Handle`], which sends
//! them and waits for the answer.

use super::super::{BrokerUrl, Delivery, DeliveryMode, Headers, Result, TransportError};
use super::outbox::Reply;
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

/// What the transport, its consumers and ackers ask of the driver.
#[derive(Debug)]
pub(super) enum Command {
    /// QoS 1 publish to `topic`; answered on PUBACK. `headers` go as
    /// MQTT 5 user properties where the connection speaks MQTT 5 (the
    /// publisher), and nowhere over MQTT 3.1.1.
    Publish {
        topic: String,
        payload: Bytes,
        headers: Headers,
        reply: Reply,
    },
    /// Start feeding `deliveries` from `inport`; answered on SUBACK.
    Consume {
        inport: QueueName,
        window: usize,
        deliveries: mpsc::Sender<Delivery>,
        reply: Reply,
    },
    /// Every consumer of `inport` gets `window` from now on; answered at
    /// once (an error when nothing consumes it).
    SetWindow {
        inport: QueueName,
        window: usize,
        reply: Reply,
    },
    /// Route `outport`'s messages to `inport`; answered on SUBACK.
    Bind {
        outport: QueueName,
        inport: QueueName,
        reply: Reply,
    },
    /// `outport -> inport` is delivered in `mode` (`set`), or no longer in
    /// `mode` if it was; answered on the SUBACK of the subscription made
    /// again at the new QoS, if one was.
    BindingDelivery {
        outport: QueueName,
        inport: QueueName,
        mode: DeliveryMode,
        set: bool,
        reply: Reply,
    },
    /// Undo [`Command::Bind`]; answered on UNSUBACK.
    Unbind {
        outport: QueueName,
        inport: QueueName,
        reply: Reply,
    },
    /// End consuming `tap` (bound to `outport`): unsubscribe its filters,
    /// ack what waits for it, end its consumers; answered on the last
    /// UNSUBACK.
    Untap {
        outport: QueueName,
        tap: QueueName,
        reply: Reply,
    },
    /// A delivery was handled (acks need no answer in MQTT).
    Ack {
        consumer: u64,
        generation: u64,
        pkid: u16,
    },
    /// Flush acks, say goodbye, end consumers.
    Close { reply: oneshot::Sender<()> },
    /// Which topics each consumed inport takes (its own and those of the
    /// outports bound to it): answered at once.
    Takers {
        reply: oneshot::Sender<Vec<(QueueName, Vec<QueueName>)>>,
    },
}

/// What the handles and the driver share.
#[derive(Debug)]
pub(super) struct Shared {
    pub broker: BrokerUrl,
    pub publish_timeout: Duration,
    /// Ended taps stay subscribed ([`ConnectOptions::keep_subscriptions`]).
    ///
    /// [`ConnectOptions::keep_subscriptions`]: crate::ConnectOptions::keep_subscriptions
    pub keep_subscriptions: bool,
    /// The driver has a live connection.
    pub connected: AtomicBool,
    /// Connections made again after one was lost (counted by the driver
    /// at each CONNACK after the first).
    pub reconnects: AtomicU64,
    /// The session's connection generation: a lost connection starts the
    /// next, and the broker sends the unacked messages of the ones before
    /// again (see `consumer.rs`). The publisher's stays 0.
    pub generation: watch::Sender<u64>,
    /// `close` was called (or the driver ended).
    pub closed: AtomicBool,
}

impl Shared {
    /// The state of a client just connected to `broker`.
    pub fn connected(broker: BrokerUrl, options: &crate::ConnectOptions) -> Arc<Self> {
        Arc::new(Self {
            broker,
            publish_timeout: options.publish_timeout,
            keep_subscriptions: options.keep_subscriptions,
            connected: AtomicBool::new(true),
            reconnects: AtomicU64::new(0),
            generation: watch::Sender::new(0),
            closed: AtomicBool::new(false),
        })
    }
}

/// Sends commands to the driver. Cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct Handle {
    pub commands: mpsc::Sender<Command>,
    pub shared: Arc<Shared>,
}

impl Handle {
    /// Fails once the transport was closed.
    pub fn check_open(&self) -> Result<()> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(TransportError::Closed);
        }
        Ok(())
    }

    /// Sends a command that needs no answer.
    pub async fn send(&self, command: Command) -> Result<()> {
        self.check_open()?;
        self.commands
            .send(command)
            .await
            .map_err(|_| TransportError::Closed)
    }

    /// Publishes QoS 1 to `queue`'s topic and waits for the PUBACK, at most
    /// `publish_timeout`.
    pub async fn publish(&self, queue: &QueueName, payload: Bytes) -> Result<()> {
        self.publish_with(queue, payload, &Headers::new()).await
    }

    /// [`Handle::publish`] with `headers` (user properties over MQTT 5).
    pub async fn publish_with(
        &self,
        queue: &QueueName,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<()> {
        let topic = queue.as_str().to_owned();
        let headers = headers.clone();
        let command = |reply| Command::Publish {
            topic,
            payload,
            headers,
            reply,
        };
        self.request(command, || TransportError::NotConfirmed {
            queue: queue.to_string(),
        })
        .await
    }

    /// Sends the command `make` builds around a reply channel and waits for
    /// the answer, at most `publish_timeout`. When that runs out while the
    /// connection is down the error is [`TransportError::Disconnected`],
    /// otherwise `late()`.
    pub async fn request(
        &self,
        make: impl FnOnce(Reply) -> Command,
        late: impl FnOnce() -> TransportError,
    ) -> Result<()> {
        let start = Instant::now();
        let (reply, answer) = oneshot::channel();
        let command = make(reply);
        let what = describe(&command);
        let wait = async {
            self.send(command).await?;
            answer.await.map_err(|_| TransportError::Closed)?
        };
        match tokio::time::timeout(self.shared.publish_timeout, wait).await {
            Ok(result) => result,
            Err(_) if !self.shared.connected.load(Ordering::Acquire) => {
                Err(TransportError::Disconnected {
                    broker: self.shared.broker.to_string(),
                    what,
                    waited_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
                })
            }
            Err(_) => Err(late()),
        }
    }
}

fn describe(command: &Command) -> String {
    match command {
        Command::Publish { topic, .. } => format!("publish to {topic}"),
        Command::Consume { inport, .. } => format!("consume {inport}"),
        Command::SetWindow { inport, .. } => format!("set the prefetch of {inport}"),
        Command::Bind {
            outport, inport, ..
        } => format!("bind {outport} to {inport}"),
        Command::Unbind {
            outport, inport, ..
        } => format!("unbind {outport} from {inport}"),
        Command::BindingDelivery {
            outport, inport, ..
        } => format!("set the delivery mode of {outport} -> {inport}"),
        Command::Untap { outport, tap, .. } => format!("untap {tap} from {outport}"),
        Command::Ack { .. } => "ack".into(),
        Command::Close { .. } => "close".into(),
        Command::Takers { .. } => "list the inports' topics".into(),
    }
}
