//! Consuming an inport: a channel per consumer with its prefetch and manual
//! acks ([`subscribe`]), and a [`Feeder`] task that hands the deliveries to the
//! user's [`Consumer`](super::super::Consumer) through an mpsc, subscribing
//! again on every new connection so the user's consumer goes on.
//!
//! The prefetch is per consumer (`basic.qos` without `global`), which
//! RabbitMQ applies only to consumers started after it: so
//! [`Transport::set_prefetch`](super::super::Transport::set_prefetch)
//! cancels the consumer, passes on what the broker had already sent it,
//! and consumes again on the same channel with the new limit
//! ([`Feeder::requalify`]). The deliveries it holds stay valid (acks are
//! per channel) but no longer count against a limit: during the change a
//! consumer may hold up to old + new. A channel-wide (`global`) limit would
//! change at once and count them, but cost 7-12 % of one hop's throughput
//! and multiplied the three-hop p99 when every consumer used it
//! (BENCHMARKS.md, same session).

use super::super::{Acker, BrokerUrl, Delivery, DeliveryMode, Result, Signal, TransportError};
use super::confirmed::mode_of;
use super::connection::Session;
use super::errors;
use super::headers::text_headers;
use super::state::{elapsed_ms, is_live, live_session, replaced, State};
use super::topology;
use crate::backoff::Backoff;
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::FieldTable;
use lapin::Channel;
use msgflo_protocol::ids::QueueName;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{debug, warn};

/// A live AMQP consumer.
pub(super) struct Subscription {
    session: Arc<Session>,
    channel: Channel,
    stream: lapin::Consumer,
}

/// Opens a channel with `prefetch` and starts consuming `queue` on it.
async fn subscribe(
    session: Arc<Session>,
    queue: &str,
    prefetch: u16,
) -> lapin::Result<Subscription> {
    let channel = session.conn.create_channel().await?;
    let stream = consume_on(&channel, queue, prefetch).await?;
    Ok(Subscription {
        session,
        channel,
        stream,
    })
}

/// Starts a consumer of `queue` on `channel` with `prefetch`.
async fn consume_on(
    channel: &Channel,
    queue: &str,
    prefetch: u16,
) -> lapin::Result<lapin::Consumer> {
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await?;
    channel
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
}

/// The first subscription, made before `consume` returns so that refusals
/// (no such queue) reach the caller; waits up to `timeout` for a connection.
pub(super) async fn first_subscription(
    mut state: watch::Receiver<State>,
    queue: &QueueName,
    prefetch: u16,
    timeout: Duration,
    broker: &BrokerUrl,
) -> Result<Subscription> {
    let started = Instant::now();
    let gave_up = || TransportError::Disconnected {
        broker: broker.to_string(),
        what: format!("consume {queue}"),
        waited_ms: elapsed_ms(started),
    };
    loop {
        let session = live_session(&mut state, Some(started + timeout))
            .await
            .map_err(|unavailable| unavailable.into_error(gave_up))?;
        match subscribe(session.clone(), queue.as_str(), prefetch).await {
            Ok(subscription) => return Ok(subscription),
            Err(error) if !session.alive() => {
                debug!(%queue, %error, "connection lost while subscribing; trying again");
            }
            Err(error) => return Err(errors::broker("consume", queue.as_str(), &error)),
        }
    }
}

/// Feeds one user's consumer, across reconnections.
pub(super) struct Feeder {
    pub(super) queue: Arc<QueueName>,
    /// Its prefetch, changed by `set_prefetch`.
    pub(super) prefetch: watch::Receiver<u16>,
    pub(super) state: watch::Receiver<State>,
    /// Becomes `true` when the transport closes or the consumer is ended.
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) deliveries: mpsc::Sender<Delivery>,
    pub(super) max_backoff: Duration,
}

/// Why forwarding stopped.
enum Stop {
    /// The AMQP consumer ended (connection lost, or cancelled by the broker).
    Ended,
    /// The transport is closing or the user dropped the consumer.
    Done,
}

impl Feeder {
    /// Forwards deliveries until the transport closes or the user's consumer
    /// is dropped; then cancels the AMQP consumer and closes its channel.
    pub(super) async fn run(mut self, first: Subscription) {
        let mut current = first;
        let mut backoff = Backoff::new(self.max_backoff);
        loop {
            let stop = self.forward(&mut current).await;
            match stop {
                Stop::Done => {
                    cancel(&current).await;
                    return;
                }
                Stop::Ended => match self.resubscribe(current.session, &mut backoff).await {
                    Some(next) => current = next,
                    None => return,
                },
            }
        }
    }

    async fn forward(&mut self, current: &mut Subscription) -> Stop {
        loop {
            let next = tokio::select! {
                next = current.stream.next() => Some(next),
                Ok(()) = self.prefetch.changed() => None,
                _ = self.shutdown.wait_for(|closing| *closing) => return Stop::Done,
                () = self.deliveries.closed() => return Stop::Done,
            };
            let Some(next) = next else {
                if let Err(stop) = self.requalify(current).await {
                    return stop;
                }
                continue;
            };
            if let Err(stop) = self.pass_on(next, &current.session).await {
                return stop;
            }
        }
    }

    /// The new prefetch for `current`: cancel its consumer, pass on what the
    /// broker had sent it, consume again on its channel (see the module
    /// docs). A failure ends the subscription, which subscribes again with
    /// the new prefetch.
    async fn requalify(&mut self, current: &mut Subscription) -> Result<(), Stop> {
        let prefetch = *self.prefetch.borrow_and_update();
        let queue = self.queue.clone();
        let ended = |error: lapin::Error| {
            debug!(%queue, %error, "changing the prefetch ended the consumer");
            Stop::Ended
        };
        let tag = current.stream.tag();
        current
            .channel
            .basic_cancel(tag, BasicCancelOptions::default())
            .await
            .map_err(ended)?;
        // A cancelled consumer's stream ends after what was already sent.
        while let Some(next) = current.stream.next().await {
            self.pass_on(Some(next), &current.session).await?;
        }
        current.stream = consume_on(&current.channel, self.queue.as_str(), prefetch)
            .await
            .map_err(ended)?;
        debug!(queue = %self.queue, prefetch, "prefetch changed");
        Ok(())
    }

    /// Hands one delivery (`None`: the consumer ended) to the user's consumer.
    async fn pass_on(
        &mut self,
        next: Option<lapin::Result<lapin::message::Delivery>>,
        session: &Arc<Session>,
    ) -> Result<(), Stop> {
        let delivery = match next {
            Some(Ok(delivery)) => delivery,
            Some(Err(error)) => {
                debug!(queue = %self.queue, %error, "consumer interrupted");
                return Err(Stop::Ended);
            }
            None => return Err(Stop::Ended),
        };
        let mode = mode_of(*delivery.properties.delivery_mode());
        let acker = Box::new(AmqpAcker {
            acker: delivery.acker,
            queue: self.queue.clone(),
            persistent: mode == DeliveryMode::Persistent
                && topology::is_durable(self.queue.as_str()),
            session: session.clone(),
            state: self.state.clone(),
        });
        let headers = text_headers(&delivery.properties);
        let sent_at = super::headers::sent_at(&delivery.properties);
        let message_id = super::headers::message_id(&delivery.properties);
        let delivery = Delivery::new(Bytes::from(delivery.data), delivery.redelivered, acker)
            .with_headers(headers)
            .with_sent_at(sent_at)
            .with_message_id(message_id)
            .with_mode(mode);
        tokio::select! {
            sent = self.deliveries.send(delivery) => if sent.is_err() { return Err(Stop::Done) },
            _ = self.shutdown.wait_for(|closing| *closing) => return Err(Stop::Done),
        }
        Ok(())
    }

    /// Subscribes again: on the next connection if `failed` died, or after a
    /// pause on the same one (the broker cancelled the consumer, e.g. its
    /// queue was deleted). `None` once the transport closes or the user's
    /// consumer is dropped.
    async fn resubscribe(
        &mut self,
        mut failed: Arc<Session>,
        backoff: &mut Backoff,
    ) -> Option<Subscription> {
        let mut attempts: u32 = 0;
        loop {
            if failed.alive() {
                let pause = tokio::time::sleep(backoff.next_delay());
                until_stopped(&mut self.shutdown, &self.deliveries, pause).await?;
            }
            let session = until_stopped(
                &mut self.shutdown,
                &self.deliveries,
                live_session(&mut self.state, None),
            )
            .await?
            .ok()?;
            attempts += 1;
            let prefetch = *self.prefetch.borrow_and_update();
            match subscribe(session.clone(), self.queue.as_str(), prefetch).await {
                Ok(subscription) => {
                    debug!(queue = %self.queue, attempts, "consumer resumed");
                    backoff.reset();
                    return Some(subscription);
                }
                Err(error) if session.alive() && attempts == 1 => {
                    let reason = errors::reason(&error);
                    warn!(queue = %self.queue, %reason, "cannot consume again; retrying with back-off");
                }
                Err(error) => {
                    debug!(queue = %self.queue, %error, attempts, "consuming again failed")
                }
            }
            failed = session;
        }
    }
}

/// Runs `work` unless the transport closes or the user's consumer is dropped
/// first (then `None`).
async fn until_stopped<F: Future>(
    shutdown: &mut watch::Receiver<bool>,
    deliveries: &mpsc::Sender<Delivery>,
    work: F,
) -> Option<F::Output> {
    tokio::select! {
        output = work => Some(output),
        _ = shutdown.wait_for(|closing| *closing) => None,
        () = deliveries.closed() => None,
    }
}

/// Cancels the AMQP consumer and closes its channel; the broker requeues what
/// was delivered but not acked.
async fn cancel(subscription: &Subscription) {
    let channel = &subscription.channel;
    if !channel.status().connected() {
        return;
    }
    let tag = subscription.stream.tag();
    if let Err(error) = channel
        .basic_cancel(tag, BasicCancelOptions::default())
        .await
    {
        debug!(%error, "cancelling a consumer failed");
    }
    if let Err(error) = channel.close(200, "OK".into()).await {
        debug!(%error, "closing a consumer channel failed");
    }
}

/// Acks or rejects one delivery on the channel it came from.
struct AmqpAcker {
    acker: lapin::Acker,
    queue: Arc<QueueName>,
    /// Published persistent into a durable queue (inports are; control and
    /// tap queues are not): it outlives its channel and a broker restart,
    /// so a copy whose channel is gone comes again.
    persistent: bool,
    /// The session it came on, and the transport's state, which says when
    /// that session was replaced.
    session: Arc<Session>,
    state: watch::Receiver<State>,
}

impl AmqpAcker {
    /// A delivery whose channel is gone cannot be settled: the broker delivers
    /// it again (marked redelivered), so this is not an error.
    fn settled(&self, what: &'static str, outcome: lapin::Result<bool>) {
        match outcome {
            Ok(true) => {}
            Ok(false) => {
                debug!(queue = %self.queue, what, "channel gone; the broker delivers the message again")
            }
            Err(error) => {
                debug!(queue = %self.queue, what, %error, "channel gone; the broker delivers the message again")
            }
        }
    }
}

#[async_trait]
impl Acker for AmqpAcker {
    async fn ack(self: Box<Self>) -> Result<()> {
        let outcome = bounded(self.acker.ack(BasicAckOptions::default())).await;
        self.settled("ack", outcome);
        Ok(())
    }

    async fn nack(self: Box<Self>) -> Result<()> {
        let outcome = bounded(self.acker.reject(BasicRejectOptions { requeue: false })).await;
        self.settled("nack", outcome);
        Ok(())
    }

    /// Its channel closed (lapin poisons the ackers of a closed channel):
    /// the broker requeued the message, or — after a crash — finds it on
    /// disk again, if it was persistent. A transient message may be gone
    /// with a broker restart, so it is handled anyway.
    fn superseded(&self) -> bool {
        self.persistent
            && (self.acker.poisoned()
                || !self.session.alive()
                || !is_live(&self.state.borrow(), &self.session))
    }

    fn superseded_signal(&self) -> Option<Signal> {
        if !self.persistent {
            return None;
        }
        let (mut state, session) = (self.state.clone(), self.session.clone());
        Some(Box::pin(
            async move { replaced(&mut state, &session).await },
        ))
    }
}

/// Longest an ack or reject waits to be written: on a connection whose IO
/// loop is gone lapin may never resolve it, and the broker delivers an
/// unsettled message again anyway.
const SETTLE_WAIT: Duration = Duration::from_secs(5);

/// `settle`, or `Ok(false)` (not settled) after [`SETTLE_WAIT`].
async fn bounded(
    settle: impl std::future::Future<Output = lapin::Result<bool>>,
) -> lapin::Result<bool> {
    tokio::time::timeout(SETTLE_WAIT, settle)
        .await
        .unwrap_or(Ok(false))
}
