//! Confirmed publishing: [`Publisher`], the one confirmed channel of a
//! connection that every publishing task shares, and [`publish`], which waits
//! out a reconnection and publishes again a message whose confirm was lost
//! with the connection (at-least-once: duplicates are possible, loss is not).

use super::super::{BrokerUrl, Headers, Result, TransportError};
use super::state::{elapsed_ms, live_session, State};
use super::{errors, lock};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// AMQP delivery mode 2: the broker writes the message to disk (on durable
/// queues), so it survives a broker restart.
const PERSISTENT: u8 = 2;
/// Pause before trying again after an error that is neither a refusal nor a
/// lost connection.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

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
        payload: &[u8],
        headers: &Headers,
    ) -> lapin::Result<Confirmation> {
        let channel = self.channel().await?;
        let mut properties = BasicProperties::default().with_delivery_mode(PERSISTENT);
        if !headers.is_empty() {
            properties = properties.with_headers(field_table(headers));
        }
        let mut send = pin!(channel.basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            payload,
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

/// Headers as an AMQP field table of long strings.
fn field_table(headers: &Headers) -> FieldTable {
    let mut table = FieldTable::default();
    for (name, value) in headers.iter() {
        table.insert(name.into(), AMQPValue::LongString(value.into()));
    }
    table
}

/// The text headers of a delivered message; headers of other types (numbers,
/// tables: set by other clients) are left out.
pub(super) fn text_headers(properties: &BasicProperties) -> Headers {
    let Some(table) = properties.headers() else {
        return Headers::new();
    };
    table
        .inner()
        .iter()
        .filter_map(|(name, value)| {
            let text = match value {
                AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok()?.to_owned(),
                AMQPValue::ShortString(s) => s.as_str().to_owned(),
                _ => return None,
            };
            Some((name.as_str().to_owned(), text))
        })
        .collect()
}

async fn confirmed_channel(conn: &Connection) -> lapin::Result<Channel> {
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(channel)
}

/// Where a message goes.
pub(super) struct Route<'a> {
    /// `"publish to"` or `"send to"`, for errors.
    pub(super) operation: &'static str,
    /// The outport or inport, for errors.
    pub(super) queue: &'a str,
    /// Exchange to publish to (`""`: the default exchange).
    pub(super) exchange: &'a str,
    /// Routing key (the queue, on the default exchange).
    pub(super) routing_key: &'a str,
}

/// Publishes `payload` and returns once the broker confirmed it, waiting up to
/// `timeout` for a lost connection to come back, and publishing again a
/// message whose confirm was lost with the connection.
pub(super) async fn publish(
    mut state: watch::Receiver<State>,
    route: Route<'_>,
    payload: &[u8],
    headers: &Headers,
    timeout: Duration,
    broker: &BrokerUrl,
) -> Result<()> {
    let started = Instant::now();
    let deadline = started + timeout;
    let gave_up = || TransportError::Disconnected {
        broker: broker.to_string(),
        what: format!("{} {}", route.operation, route.queue),
        waited_ms: elapsed_ms(started),
    };
    let mut refusals = 0;
    loop {
        let session = live_session(&mut state, Some(deadline))
            .await
            .map_err(|unavailable| unavailable.into_error(gave_up))?;
        // A broker that blocks publishers (memory or disk alarm) never
        // confirms: the wait for the confirm is bounded too.
        let attempt =
            session
                .publisher
                .publish(route.exchange, route.routing_key, payload, headers);
        let Ok(outcome) = tokio::time::timeout_at(deadline, attempt).await else {
            return Err(TransportError::NotConfirmed {
                queue: route.queue.to_owned(),
            });
        };
        let error = match outcome {
            Ok(Confirmation::Ack(_)) => return Ok(()),
            Ok(_) => {
                return Err(TransportError::NotConfirmed {
                    queue: route.queue.to_owned(),
                })
            }
            Err(error) => error,
        };
        if !session.alive() {
            tracing::debug!(queue = route.queue, %error, "publish interrupted by the connection loss; publishing again once reconnected");
        } else if errors::is_refusal(&error) {
            // The broker closed the channel: this message's fault, or another
            // one's in flight on the same channel. Try once on a fresh channel.
            refusals += 1;
            if refusals > 1 {
                return Err(errors::broker(route.operation, route.queue, &error));
            }
        } else if Instant::now() + RETRY_PAUSE >= deadline {
            return Err(errors::broker(route.operation, route.queue, &error));
        } else {
            tracing::debug!(queue = route.queue, %error, "publish failed; trying again");
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }
}
