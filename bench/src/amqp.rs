//! The raw AMQP client (lapin) the benchmark drives every AMQP flow with:
//! messages published with confirms (as msgflo-rs publishes; persistent
//! unless `--delivery transient`; without confirms with `--no-confirms`,
//! as amqplib publishes), a
//! consumer with a prefetch window acking each message (as msgflo-rs
//! consumes). Queues and bindings are declared through msgflo-rs' transport,
//! so they have exactly the shapes participants use. With `--traceparent`
//! every message it publishes carries that header (baseline and
//! participants alike).

use crate::drive::{BoxFuture, Flow, Sender};
use anyhow::{bail, Context, Result};
use bytes::Bytes;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeleteOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use lapin::{Confirmation, PublisherConfirm};
use msgflo_participant::transport::DeliveryMode;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// AMQP `delivery_mode` of a persistent message, as msgflo-rs publishes.
const PERSISTENT: u8 = 2;
/// AMQP `delivery_mode` of a transient message, as msgflo-nodejs publishes.
const TRANSIENT: u8 = 1;
/// Confirms awaited behind the sender.
const CONFIRMS: usize = 65_536;

/// A lapin connection for the benchmark's own clients.
pub struct Raw {
    connection: Connection,
    /// The headers of every message published.
    headers: Option<FieldTable>,
    /// The `delivery_mode` of every message published.
    delivery_mode: u8,
    /// Publishes go on a channel in confirm mode.
    confirms: bool,
}

impl Raw {
    pub async fn connect(url: &str) -> Result<Self> {
        let connection = Connection::connect(url, ConnectionProperties::default())
            .await
            .with_context(|| format!("cannot connect to {url}"))?;
        Ok(Self {
            connection,
            headers: None,
            delivery_mode: PERSISTENT,
            confirms: true,
        })
    }

    /// Publishes without confirms when `off` (as amqplib does by default).
    pub fn without_confirms(mut self, off: bool) -> Self {
        self.confirms = !off;
        self
    }

    /// Every message published goes in `mode`.
    pub fn with_delivery(mut self, mode: DeliveryMode) -> Self {
        self.delivery_mode = match mode {
            DeliveryMode::Persistent => PERSISTENT,
            DeliveryMode::Transient => TRANSIENT,
        };
        self
    }

    /// Every message published carries `traceparent` (W3C trace context).
    pub fn with_traceparent(mut self, traceparent: Option<&str>) -> Self {
        self.headers = traceparent.map(|value| {
            let mut table = FieldTable::default();
            table.insert("traceparent".into(), AMQPValue::LongString(value.into()));
            table
        });
        self
    }

    /// A flow that publishes to the queue `into` (default exchange) and
    /// consumes `out` with `prefetch` unacked messages at most.
    pub async fn flow(&self, into: &str, out: &str, prefetch: u16) -> Result<Flow> {
        let mut sender = AmqpSender::open(&self.connection, into, self.confirms).await?;
        sender.headers = self.headers.clone();
        sender.delivery_mode = self.delivery_mode;
        let sink = self.consume(out, prefetch).await?;
        Ok(Flow {
            sender: Box::new(sender),
            sink,
        })
    }

    async fn consume(&self, queue: &str, prefetch: u16) -> Result<mpsc::Receiver<Bytes>> {
        let channel = self.connection.create_channel().await?;
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await?;
        let tag = format!("bench-{}", uuid::Uuid::new_v4().simple());
        let mut consumer = channel
            .basic_consume(
                queue.into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("cannot consume {queue}"))?;
        let (tx, rx) = mpsc::channel(usize::from(prefetch.max(1)) * 2);
        tokio::spawn(async move {
            let _channel = channel;
            while let Some(Ok(delivery)) = consumer.next().await {
                if delivery
                    .acker
                    .ack(BasicAckOptions::default())
                    .await
                    .is_err()
                {
                    break;
                }
                if tx.send(Bytes::from(delivery.data)).await.is_err() {
                    break;
                }
            }
        });
        Ok(rx)
    }

    /// Deletes queues and exchanges the run made (participants' durable
    /// ones too); missing ones are fine.
    pub async fn delete(&self, queues: &[String], exchanges: &[String]) -> Result<()> {
        for queue in queues {
            let channel = self.connection.create_channel().await?;
            let _ = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for exchange in exchanges {
            let channel = self.connection.create_channel().await?;
            let _ = channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
        Ok(())
    }

    pub async fn close(self) {
        let _ = self.connection.close(200, "bench done".into()).await;
    }
}

/// Publishes with confirms (or not); a task behind it awaits them in order.
struct AmqpSender {
    channel: Channel,
    queue: String,
    headers: Option<FieldTable>,
    delivery_mode: u8,
    confirms: Option<mpsc::Sender<PublisherConfirm>>,
    waiter: Option<JoinHandle<Result<()>>>,
}

impl AmqpSender {
    async fn open(connection: &Connection, queue: &str, confirms: bool) -> Result<Self> {
        let channel = connection.create_channel().await?;
        if confirms {
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
        }
        let mut sender = Self {
            channel,
            queue: queue.to_owned(),
            headers: None,
            delivery_mode: PERSISTENT,
            confirms: None,
            waiter: None,
        };
        sender.start_waiter();
        Ok(sender)
    }

    fn start_waiter(&mut self) {
        let (tx, mut rx) = mpsc::channel::<PublisherConfirm>(CONFIRMS);
        self.confirms = Some(tx);
        self.waiter = Some(tokio::spawn(async move {
            while let Some(confirm) = rx.recv().await {
                match confirm.await? {
                    Confirmation::Ack(_) | Confirmation::NotRequested => {}
                    Confirmation::Nack(_) => bail!("the broker refused a message"),
                }
            }
            Ok(())
        }));
    }
}

impl Sender for AmqpSender {
    fn send(&mut self, payload: Vec<u8>) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let mut properties = BasicProperties::default().with_delivery_mode(self.delivery_mode);
            if let Some(headers) = &self.headers {
                properties = properties.with_headers(headers.clone());
            }
            let confirm = self
                .channel
                .basic_publish(
                    "".into(),
                    self.queue.as_str().into(),
                    BasicPublishOptions::default(),
                    &payload,
                    properties,
                )
                .await
                .with_context(|| format!("publish to {}", self.queue))?;
            let confirms = self.confirms.as_ref().context("sender closed")?;
            confirms
                .send(confirm)
                .await
                .ok()
                .context("confirm waiter ended")
        })
    }

    fn confirmed(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.confirms = None;
            let waiter = self.waiter.take().context("no confirm waiter")?;
            let result = waiter.await.context("confirm waiter panicked")?;
            self.start_waiter();
            result
        })
    }
}
