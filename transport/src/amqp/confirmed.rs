//! The confirmed publishing channel of one connection ([`Publisher`]),
//! which every publishing task shares: messages persistent or transient
//! (`DeliveryMode`), their confirms awaited concurrently.

use super::super::{DeliveryMode, Headers};
use super::headers::field_table;
use super::lock;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::{Arc, Mutex};

/// AMQP delivery mode 2: the broker writes the message to disk (on durable
/// queues), so it survives a broker restart.
pub(super) const PERSISTENT: u8 = 2;
/// AMQP delivery mode 1: the broker keeps the message in memory only.
const TRANSIENT: u8 = 1;

/// What is published.
#[derive(Clone, Copy)]
pub(super) struct Message<'a> {
    pub(super) payload: &'a [u8],
    pub(super) headers: &'a Headers,
    pub(super) mode: DeliveryMode,
}

/// The publishing channel of one connection, in confirm mode.
pub(super) struct Publisher {
    conn: Arc<Connection>,
    channel: Mutex<Channel>,
    /// Held while one publish takes its confirm number and queues its frames:
    /// lapin does the two under separate locks, and concurrent publishes could
    /// otherwise reach the broker in another order than they were numbered,
    /// confirming the wrong message.
    order: Mutex<()>,
    /// Held while a channel the broker closed is replaced.
    reopen: tokio::sync::Mutex<()>,
}

impl Publisher {
    /// Opens the confirmed channel on `conn`.
    pub(super) async fn open(conn: Arc<Connection>) -> lapin::Result<Self> {
        let channel = confirmed_channel(&conn).await?;
        Ok(Self {
            conn,
            channel: Mutex::new(channel),
            order: Mutex::new(()),
            reopen: tokio::sync::Mutex::new(()),
        })
    }

    /// The channel, replaced if the broker closed it (after refusing a
    /// publish) while the connection lives on.
    async fn channel(&self) -> lapin::Result<Channel> {
        let channel = lock(&self.channel).clone();
        if channel.status().connected() || !self.conn.status().connected() {
            return Ok(channel);
        }
        let _one_at_a_time = self.reopen.lock().await;
        let channel = lock(&self.channel).clone();
        if channel.status().connected() {
            return Ok(channel);
        }
        let fresh = confirmed_channel(&self.conn).await?;
        *lock(&self.channel) = fresh.clone();
        Ok(fresh)
    }

    /// Publishes once and waits for the broker's confirm. Many tasks may call
    /// this at once: only queueing the frames is serialised, not the wait.
    pub(super) async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        message: Message<'_>,
    ) -> lapin::Result<Confirmation> {
        let channel = self.channel().await?;
        let mut properties = BasicProperties::default()
            .with_delivery_mode(delivery_mode(message.mode))
            .with_timestamp(super::headers::unix_seconds_now());
        if !message.headers.is_empty() {
            properties = properties.with_headers(field_table(message.headers));
        }
        let mut send = pin!(channel.basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            message.payload,
            properties,
        ));
        // The first poll numbers the message and queues its frames.
        let mut first = true;
        let confirm = poll_fn(|cx| {
            if std::mem::take(&mut first) {
                let _in_order = lock(&self.order);
                send.as_mut().poll(cx)
            } else {
                send.as_mut().poll(cx)
            }
        })
        .await?;
        confirm.await
    }

    /// Closes the channel (reply code 200).
    pub(super) async fn close(&self) {
        let channel = lock(&self.channel).clone();
        if channel.status().connected() {
            if let Err(error) = channel.close(200, "OK".into()).await {
                tracing::debug!(%error, "closing the publishing channel failed");
            }
        }
    }
}

/// AMQP's `delivery_mode` for `mode`.
pub(super) fn delivery_mode(mode: DeliveryMode) -> u8 {
    match mode {
        DeliveryMode::Persistent => PERSISTENT,
        DeliveryMode::Transient => TRANSIENT,
    }
}

/// The mode of a message with AMQP `delivery_mode` `value` (none, as
/// msgflo-nodejs publishes: transient).
pub(super) fn mode_of(value: Option<u8>) -> DeliveryMode {
    match value {
        Some(PERSISTENT) => DeliveryMode::Persistent,
        _ => DeliveryMode::Transient,
    }
}

async fn confirmed_channel(conn: &Connection) -> lapin::Result<Channel> {
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(channel)
}
