//! The publishing channels of one connection ([`Publisher`]), which every
//! publishing task shares: persistent messages with publisher confirms,
//! awaited concurrently; transient ones without (`DeliveryMode`).

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

/// The publishing channels of one connection: persistent messages go on a
/// channel in confirm mode and are answered once the broker confirmed them;
/// transient ones on a plain channel (opened on the first), answered once
/// their frames are written to the connection — ahead of the ack of the
/// input they answer, which goes out later on the same connection, so a
/// participant that dies after acking has handed its output over first.
pub(super) struct Publisher {
    conn: Arc<Connection>,
    confirmed: Mutex<Channel>,
    /// Opened on the first transient message.
    plain: Mutex<Option<Channel>>,
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
        let channel = open_channel(&conn, DeliveryMode::Persistent).await?;
        Ok(Self {
            conn,
            confirmed: Mutex::new(channel),
            plain: Mutex::new(None),
            order: Mutex::new(()),
            reopen: tokio::sync::Mutex::new(()),
        })
    }

    /// The channel messages in `mode` go on, if it is open.
    fn current(&self, mode: DeliveryMode) -> Option<Channel> {
        match mode {
            DeliveryMode::Persistent => Some(lock(&self.confirmed).clone()),
            DeliveryMode::Transient => lock(&self.plain).clone(),
        }
    }

    /// The channel messages in `mode` go on: opened if it is not yet,
    /// replaced if the broker closed it (after refusing a publish) while
    /// the connection lives on.
    async fn channel(&self, mode: DeliveryMode) -> lapin::Result<Channel> {
        let usable =
            |channel: &&Channel| channel.status().connected() || !self.conn.status().connected();
        if let Some(channel) = self.current(mode).as_ref().filter(usable) {
            return Ok(channel.clone());
        }
        let _one_at_a_time = self.reopen.lock().await;
        let channel = self.current(mode);
        if let Some(channel) = channel.as_ref().filter(usable) {
            return Ok(channel.clone());
        }
        if mode == DeliveryMode::Transient && channel.is_some() {
            tracing::warn!(
                "the broker closed the transient publishing channel: it refused a transient \
                 message (an outport whose exchange is gone?), which is lost; opening another"
            );
        }
        let fresh = open_channel(&self.conn, mode).await?;
        match mode {
            DeliveryMode::Persistent => *lock(&self.confirmed) = fresh.clone(),
            DeliveryMode::Transient => *lock(&self.plain) = Some(fresh.clone()),
        }
        Ok(fresh)
    }

    /// Publishes once; a persistent message is answered with the broker's
    /// confirm, a transient one with [`Confirmation::NotRequested`] once its
    /// frames are written. Many tasks may call this at once: only queueing
    /// the frames is serialised, not the wait.
    pub(super) async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        message: Message<'_>,
    ) -> lapin::Result<Confirmation> {
        let channel = self.channel(message.mode).await?;
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
        // The first poll numbers the message and queues its frames (only
        // confirmed messages are numbered, so only they take the order).
        let mut first = message.mode == DeliveryMode::Persistent;
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

    /// Closes the channels (reply code 200).
    pub(super) async fn close(&self) {
        for mode in [DeliveryMode::Persistent, DeliveryMode::Transient] {
            let Some(channel) = self.current(mode) else {
                continue;
            };
            if channel.status().connected() {
                if let Err(error) = channel.close(200, "OK".into()).await {
                    tracing::debug!(%error, "closing a publishing channel failed");
                }
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

/// A channel for messages in `mode`: in confirm mode for persistent ones.
async fn open_channel(conn: &Connection, mode: DeliveryMode) -> lapin::Result<Channel> {
    let channel = conn.create_channel().await?;
    if mode == DeliveryMode::Persistent {
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
    }
    Ok(channel)
}
