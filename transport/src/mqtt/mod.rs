//! The MQTT transport (rumqttc: MQTT 5 where the broker speaks it, else MQTT
//! 3.1.1; tested against Mosquitto 2 and the coordinator's embedded rumqttd,
//! which speaks 3.1.1 only).
//!
//! Topics are queue names. Outports and inports need nothing on the broker:
//! publishing is a QoS 1 publish to the queue's topic, confirmed by the PUBACK.
//! Consuming inport `q` subscribes QoS 1 to the shared subscription
//! `$share/<q>/<q>`, so the consumers of one inport, in any process, share its
//! messages; `bind(o, q)` adds `$share/<q>%7C<o>/<o>` (see `routes.rs`) in the
//! process that consumes `q` (the coordinator makes a participant bind through
//! a `connectinport` control message), so data flows broker -> participant
//! directly; a binding made transient (`set_binding_delivery`) is
//! subscribed QoS 0 (`routes.rs`). PUBACKs go out in the order the messages came. A nack
//! publishes the message to `dead-<q>`, then acks it: MQTT keeps no message
//! for a topic nobody subscribes to, so dead letters are only kept while a
//! client (a dead-letter watcher) subscribes to `dead-<q>`.
//!
//! Each transport holds two connections: the session that subscribes,
//! receives and acks, and a second client (id `<client id>-pub`, clean
//! session) that publishes. Both speak MQTT 5 when the broker takes it (the
//! session is tried first; a broker that answers but refuses it, like
//! rumqttd, gets MQTT 3.1.1 on both, said once in the log; one that does not
//! answer at all fails the connection at once). A
//! participant acks a message only once its outputs are confirmed; on one connection a broker that answers a client's
//! publishes only when that client has room for more deliveries (rumqttd
//! gates PUBACKs and PINGRESPs on its 100-message in-flight window) would
//! wait for those acks while the participant waits for its PUBACKs: two
//! connections cannot deadlock that way, on any broker.
//!
//! The session is persistent while connected (`clean_session = false`; over
//! MQTT 5 no clean start and a session expiry interval of "never"; client
//! id = [`ConnectOptions::client_id`]), so nothing is lost across
//! reconnections. `close` ends it (a short clean-session connection), unless
//! [`ConnectOptions::keep_session`]: then a participant restarted under the
//! same id gets the messages queued for it while it was away, and messages it
//! took without acking come back marked redelivered. A process that dies
//! without `close` leaves its session behind until it comes back.
//!
//! # At least once, per fault (the mechanism, issue 15)
//! - A participant killed and started again: a stable client id resumes its
//!   session — `--id`, or without one a *process slot* (`<role>-<host>-<n>`,
//!   the participant's `slot.rs`) that the process started in the dead one's
//!   place takes again.
//! - One of several workers killed and not started again: its session stays
//!   in the share groups and the broker keeps queueing its turn there. A
//!   live worker of the role on the same machine adopts it
//!   ([`Transport::adopt_session`], `adopt.rs`): out of the groups, what
//!   waited put back on the inports, session ended. Across machines, give
//!   `--id` and restart the worker.
//! - Broker restart (Mosquitto with persistence): sessions and their queued
//!   messages come back, their *shared* subscriptions do not (Mosquitto 2.0
//!   does not persist them), so until a participant has subscribed again
//!   its inports' topics match nobody. The publisher speaks MQTT 5, whose
//!   PUBACK says "no matching subscribers"; a publish to a topic that had
//!   subscribers, answered so within 10 s of the publisher's reconnection,
//!   is held and sent again every 100 ms until the subscriber is back
//!   (`unmatched.rs`, `publisher.rs`). Measured: 0 lost of 10,000 at
//!   2,000 msg/s in 3 of 3 restarts, against 0-3 lost before (RELIABILITY.md).
//!   What this needs: every publisher into the flow is a msgflo-rs
//!   transport (an MQTT 3.1.1 client publishing into an inport in that
//!   window still loses its message), the broker speaks MQTT 5, and the
//!   subscribers come back within 10 s. The reconnect back-off stops at
//!   500 ms.
//! - The embedded broker (rumqttd 0.20) lives in the coordinator's process,
//!   in memory: stopping the coordinator ends every session and what was
//!   queued there; a share group's last member leaving with messages in
//!   flight restarts it, losing those (the coordinator's `embedded.rs` lists
//!   its limits). Use Mosquitto where that matters.
//!
//! Headers: over MQTT 5 a message's [`Headers`] are its user properties, in
//! order, both ways (so `traceparent` and `msgflo-brackets` cross, and a
//! dead letter keeps them); MQTT 3.1.1 has none, so they are dropped there
//! and deliveries carry none ([`Transport::capabilities`] says which).
//!
//! Flow control: MQTT has no per-subscription prefetch. Each consumer
//! gets at most `prefetch` unacked deliveries; more messages wait in the
//! driver, unacked, normally bounded by the broker's in-flight limit per
//! client: over MQTT 5 the session's receive maximum (512), over MQTT 3.1.1
//! the broker's own (Mosquitto's `max_inflight_messages`, 20 by default:
//! raise it for throughput). Received messages whose topic no inport takes yet wait too,
//! so a resumed session loses nothing before `consume` is called again. A
//! broker can send more (Mosquitto 2.0 sometimes sends a resumed session its
//! whole queue at once), so at most 100,000 messages wait: past that they
//! are left unacked, and once the consumers caught up the driver reconnects
//! so that the broker sends them again.
//!
//! Deliveries of a lost connection are superseded ([`Acker::superseded`](crate::Acker::superseded)):
//! the resumed session gets them again, so a [`Consumer`] skips those still
//! waiting in it and a participant does not publish their outputs.
//!
//! When the connection drops, the driver reconnects with back-off (100 ms
//! doubling up to [`ConnectOptions::max_backoff`]), subscribes to everything
//! in its record again, then publishes again whatever was not confirmed
//! (at-least-once: duplicates are possible). Publishing while disconnected
//! waits up to [`ConnectOptions::publish_timeout`].
//!
//! Limits: one process consuming two inports that take the same topic gets
//! one copy per inport from rumqttd, but only one copy in all from
//! Mosquitto 2.0 (it sends a client each message once, however many of its
//! share-group subscriptions match — seen with `mosquitto_sub` and two
//! groups); a publish does not say which subscription a copy is for (MQTT 5
//! subscription identifiers could; not used), so copies go to those inports
//! in turn. Keep such inports in processes of
//! their own. Queue names with `+`, `#` or a leading `$` cannot be topics.
//!
//! `mqtts://` is MQTT over TLS (rustls; see `transport/tls.rs`), checked
//! against the URL's host; reconnections use the same TLS configuration.
//!
//! # Layout
//! - this file — [`connect`] (the two connections) and the [`Transport`]
//!   impl, thin handles.
//! - `session.rs` — rumqttc's MQTT 3.1.1 options (TLS too), the first
//!   connection, error reasons, ending a session; `session5.rs` the same
//!   over MQTT 5, and whether a broker that refused it answered at all.
//! - `publisher.rs` — the MQTT 5 publishing connection's task;
//!   `unmatched.rs` — which publishes that reached nobody it holds.
//! - `handle.rs` — the commands and the handle that sends them and waits.
//! - `driver.rs` — the task that owns the event loop: commands, events,
//!   reconnection.
//! - `wire.rs` — what the driver needs of an MQTT client, in its own terms
//!   (events, messages); `wire4.rs` and `wire5.rs` that for rumqttc's
//!   MQTT 3.1.1 and MQTT 5 clients.
//! - `requests.rs` — requests from queued to answered, taken back after a
//!   lost connection:
//!   - `outbox.rs` — on their way into rumqttc's request channel;
//!   - `confirms.rs` — which request an ack answers (pkid bookkeeping).
//! - `routes.rs` — which topics to subscribe and where messages go.
//! - `failover.rs` — the next broker of a list after a lost connection.
//! - `adopt.rs` — taking over a dead participant's session.
//! - `dispatch.rs` — consumers, prefetch windows, messages waiting for them
//!   (tests in `dispatch_tests.rs`).
//! - `consumer.rs` — ack and nack of one delivery.
//! - `ack_order.rs` — PUBACKs in the order the messages came (MQTT 3.1.1
//!   4.6.0-2; rumqttd drops a client that acks out of order).

mod ack_order;
mod adopt;
mod confirms;
mod consumer;
mod dispatch;
mod driver;
mod failover;
mod handle;
mod outbox;
mod publisher;
mod requests;
mod routes;
mod session;
mod session5;
mod unmatched;
mod wire;
mod wire4;
mod wire5;

use super::{
    BrokerUrl, Brokers, ConnectOptions, Consumer, DeliveryMode, Headers, Result, Transport,
    TransportError,
};
use async_trait::async_trait;
use bytes::Bytes;
use driver::Driver;
use failover::Failover;
use handle::{Command, Handle, Shared};
use msgflo_protocol::ids::QueueName;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tracing::info;
use wire::{ConnectFailed, Wire};
use wire4::V4;
use wire5::V5;

/// Commands waiting for the driver.
const COMMANDS: usize = 1024;
/// The prefetch window of a consumer that asked for no limit (prefetch 0).
const UNLIMITED: usize = u16::MAX as usize;

/// The in-flight window of a consumer with `prefetch` (0: no limit).
fn window(prefetch: u16) -> usize {
    match prefetch {
        0 => UNLIMITED,
        n => usize::from(n),
    }
}

/// Connects to the MQTT broker at `url`; fails at once if it cannot.
pub async fn connect(brokers: Brokers, options: ConnectOptions) -> Result<Arc<dyn Transport>> {
    // The session first: an unreachable broker list fails here, once.
    let mqtt5 = each(&brokers, &options, session5::session_options)?;
    let mqtt5 = match Connected::<V5>::to_first(mqtt5).await {
        Ok(session) => {
            let (publisher, mqtt5) = start_publisher(&brokers, &options).await?;
            let consumer = session.start_driver(&options, Some(publisher.clone()));
            return Ok(transport(consumer, publisher, options, mqtt5));
        }
        Err(failed) if !failed.answered => return Err(failed.error),
        Err(failed) => failed.error,
    };
    let session = Connected::<V4>::to_first(each(&brokers, &options, session::mqtt_options)?)
        .await
        .map_err(|failed| failed.error)?;
    let publisher =
        Connected::<V4>::to_first(each(&brokers, &options, session::publisher_options)?)
            .await
            .map_err(|failed| failed.error)?
            .start_driver(&options, None);
    info!(
        broker = %publisher.shared.broker,
        mqtt5 = %mqtt5,
        "the broker does not take MQTT 5: both connections speak MQTT 3.1.1, which carries no headers (trace context) and cannot tell a publish that reached nobody (messages published right after a broker restart, before the subscribers are back, can be lost)"
    );
    let consumer = session.start_driver(&options, Some(publisher.clone()));
    Ok(transport(consumer, publisher, options, false))
}

/// The client options (made by `make`) for each broker of the list.
fn each<O>(
    brokers: &Brokers,
    options: &ConnectOptions,
    make: fn(&BrokerUrl, &ConnectOptions) -> Result<O>,
) -> Result<Vec<(BrokerUrl, O)>> {
    brokers
        .urls()
        .iter()
        .map(|url| Ok((url.clone(), make(url, options)?)))
        .collect()
}

/// The transport over its two connections; `headers`: both speak MQTT 5.
fn transport(
    consumer: Handle,
    publisher: Handle,
    options: ConnectOptions,
    headers: bool,
) -> Arc<dyn Transport> {
    Arc::new(MqttTransport {
        consumer,
        publisher,
        options,
        headers,
    })
}

/// Connects the publishing connection beside an MQTT 5 session: over MQTT 5
/// (a PUBACK then says when a publish reached nobody, see `unmatched.rs`);
/// should that fail where the session got in, over MQTT 3.1.1. True when
/// over MQTT 5.
async fn start_publisher(brokers: &Brokers, options: &ConnectOptions) -> Result<(Handle, bool)> {
    let mqtt5 = each(brokers, options, session5::publisher_options)?;
    let mqtt5 = match publisher::start(options, mqtt5).await {
        Ok(handle) => return Ok((handle, true)),
        Err(error) => error,
    };
    let handle = Connected::<V4>::to_first(each(brokers, options, session::publisher_options)?)
        .await
        .map_err(|failed| failed.error)?
        .start_driver(options, None);
    info!(
        broker = %handle.shared.broker,
        mqtt5 = %mqtt5,
        "the publisher could not connect over MQTT 5: publishing over MQTT 3.1.1, which carries no headers and cannot tell a publish that reached nobody"
    );
    Ok((handle, false))
}

/// A client (over wire `W`) connected to one of its brokers, its driver not
/// started yet.
struct Connected<W: Wire> {
    client: W::Client,
    eventloop: W::EventLoop,
    each: Vec<(BrokerUrl, W::Options)>,
    current: usize,
}

impl<W: Wire> Connected<W> {
    /// Connects a client to the first of `each` broker that takes it.
    async fn to_first(each: Vec<(BrokerUrl, W::Options)>) -> Result<Self, ConnectFailed> {
        let connection = W::connect(&each).await?;
        let current = connection.current;
        info!(
            broker = %each[current].0,
            client_id = %W::client_id(&each[current].1),
            session_present = connection.session_present,
            "connected"
        );
        Ok(Self {
            client: connection.client,
            eventloop: connection.eventloop,
            each,
            current,
        })
    }

    /// Starts the driver task that owns the event loop; `publisher` is where
    /// that driver's nacks publish dead letters (itself if `None`).
    fn start_driver(self, options: &ConnectOptions, publisher: Option<Handle>) -> Handle {
        let (commands, receiver) = mpsc::channel(COMMANDS);
        let shared = Shared::connected(self.each[self.current].0.clone(), options);
        let driver = Driver::<W>::new(
            self.client,
            shared.clone(),
            commands.downgrade(),
            publisher,
            options.max_backoff,
            Failover::new(self.each, self.current),
        );
        tokio::spawn(driver.run(self.eventloop, receiver));
        Handle { commands, shared }
    }
}

/// The transport: handles to its two driver tasks.
struct MqttTransport {
    /// The session that subscribes, receives and acks.
    consumer: Handle,
    /// The connection that publishes.
    publisher: Handle,
    /// How it connected: `close` ends the session unless `keep_session`.
    options: ConnectOptions,
    /// Both connections speak MQTT 5: headers travel as user properties.
    headers: bool,
}

impl MqttTransport {
    /// Checks that the transport is open and `queue` can be a topic.
    fn usable(&self, queue: &QueueName, operation: &'static str) -> Result<()> {
        self.consumer.check_open()?;
        match routes::topic_problem(queue) {
            None => Ok(()),
            Some(reason) => Err(TransportError::Broker {
                operation,
                queue: queue.to_string(),
                reason: reason.into(),
            }),
        }
    }

    /// [`Transport::set_binding_delivery`] (`set`) or its undoing.
    async fn binding_delivery(
        &self,
        outport: &QueueName,
        inport: &QueueName,
        mode: DeliveryMode,
        set: bool,
    ) -> Result<()> {
        self.usable(outport, "set the delivery mode of")?;
        self.usable(inport, "set the delivery mode of")?;
        let command = |reply| Command::BindingDelivery {
            outport: outport.clone(),
            inport: inport.clone(),
            mode,
            set,
            reply,
        };
        self.consumer
            .request(command, || {
                self.unanswered("set the delivery mode of", outport)
            })
            .await
    }

    /// The error when the broker, though connected, did not answer in time.
    fn unanswered(&self, operation: &'static str, queue: &QueueName) -> TransportError {
        TransportError::Broker {
            operation,
            queue: queue.to_string(),
            reason: format!(
                "no answer from the broker within {} ms",
                self.consumer.shared.publish_timeout.as_millis()
            ),
        }
    }
}

#[async_trait]
impl Transport for MqttTransport {
    fn broker(&self) -> &BrokerUrl {
        &self.consumer.shared.broker
    }

    fn capabilities(&self) -> crate::Capabilities {
        match self.headers {
            true => crate::Capabilities::TOPICS_WITH_HEADERS,
            false => crate::Capabilities::TOPICS,
        }
    }

    fn is_connected(&self) -> bool {
        let up = |handle: &Handle| handle.shared.connected.load(Ordering::Acquire);
        self.consumer.check_open().is_ok() && up(&self.consumer) && up(&self.publisher)
    }

    fn reconnects(&self) -> u64 {
        let of = |handle: &Handle| handle.shared.reconnects.load(Ordering::Relaxed);
        of(&self.consumer) + of(&self.publisher)
    }

    async fn declare_inport(&self, queue: &QueueName) -> Result<()> {
        self.usable(queue, "declare inport")
    }

    async fn declare_outport(&self, queue: &QueueName) -> Result<()> {
        self.usable(queue, "declare outport")
    }

    async fn publish(&self, outport: &QueueName, payload: Bytes) -> Result<()> {
        self.usable(outport, "publish to")?;
        self.publisher.publish(outport, payload).await
    }

    async fn send_to_inport(&self, inport: &QueueName, payload: Bytes) -> Result<()> {
        self.usable(inport, "send to")?;
        self.publisher.publish(inport, payload).await
    }

    async fn publish_with(
        &self,
        outport: &QueueName,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<()> {
        self.usable(outport, "publish to")?;
        self.publisher.publish_with(outport, payload, headers).await
    }

    async fn send_to_inport_with(
        &self,
        inport: &QueueName,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<()> {
        self.usable(inport, "send to")?;
        self.publisher.publish_with(inport, payload, headers).await
    }

    async fn consume(&self, inport: &QueueName, prefetch: u16) -> Result<Consumer> {
        self.usable(inport, "consume")?;
        let window = window(prefetch);
        let (deliveries, receiver) = mpsc::channel(UNLIMITED); // the window limits it (set_prefetch may raise it)
        let command = |reply| Command::Consume {
            inport: inport.clone(),
            window,
            deliveries,
            reply,
        };
        self.consumer
            .request(command, || self.unanswered("consume", inport))
            .await?;
        Ok(Consumer::new(inport.clone(), receiver))
    }

    async fn set_prefetch(&self, inport: &QueueName, prefetch: u16) -> Result<()> {
        self.usable(inport, "set the prefetch of")?;
        let window = window(prefetch);
        let command = |reply| Command::SetWindow {
            inport: inport.clone(),
            window,
            reply,
        };
        self.consumer
            .request(command, || self.unanswered("set the prefetch of", inport))
            .await
    }

    async fn bind(&self, outport: &QueueName, inport: &QueueName) -> Result<()> {
        self.usable(outport, "bind")?;
        self.usable(inport, "bind")?;
        let command = |reply| Command::Bind {
            outport: outport.clone(),
            inport: inport.clone(),
            reply,
        };
        self.consumer
            .request(command, || self.unanswered("bind", outport))
            .await
    }

    async fn set_binding_delivery(
        &self,
        outport: &QueueName,
        inport: &QueueName,
        mode: DeliveryMode,
    ) -> Result<()> {
        self.binding_delivery(outport, inport, mode, true).await
    }

    async fn unset_binding_delivery(
        &self,
        outport: &QueueName,
        inport: &QueueName,
        mode: DeliveryMode,
    ) -> Result<()> {
        self.binding_delivery(outport, inport, mode, false).await
    }

    async fn unbind(&self, outport: &QueueName, inport: &QueueName) -> Result<()> {
        self.usable(outport, "unbind")?;
        self.usable(inport, "unbind")?;
        let command = |reply| Command::Unbind {
            outport: outport.clone(),
            inport: inport.clone(),
            reply,
        };
        self.consumer
            .request(command, || self.unanswered("unbind", outport))
            .await
    }

    async fn untap(&self, outport: &QueueName, tap: &QueueName) -> Result<()> {
        self.usable(outport, "untap")?;
        self.usable(tap, "untap")?;
        let command = |reply| Command::Untap {
            outport: outport.clone(),
            tap: tap.clone(),
            reply,
        };
        self.consumer
            .request(command, || self.unanswered("untap", tap))
            .await
    }

    async fn watch_discovery(&self) -> Result<Consumer> {
        // A share group of its own: every watcher gets every message.
        Ok(self.tap(&super::discovery_queue()).await?.consumer)
    }

    async fn adopt_session(&self, client_id: &str) -> Result<usize> {
        self.consumer.check_open()?;
        let (reply, takers) = oneshot::channel();
        self.consumer
            .commands
            .send(Command::Takers { reply })
            .await
            .map_err(|_| TransportError::Closed)?;
        let takers = takers.await.map_err(|_| TransportError::Closed)?;
        let broker = &self.consumer.shared.broker;
        adopt::adopt(
            broker,
            &self.options,
            client_id,
            takers,
            |inport, payload| {
                let publisher = self.publisher.clone();
                async move { publisher.publish(&inport, payload).await }
            },
        )
        .await
    }

    async fn end_session(&self, client_id: &str) -> Result<()> {
        self.consumer.check_open()?;
        let options = ConnectOptions {
            client_id: client_id.to_owned(),
            ..self.options.clone()
        };
        session::end_session(&self.consumer.shared.broker, &options).await
    }

    async fn close(&self) -> Result<()> {
        if self.consumer.shared.closed.swap(true, Ordering::AcqRel) {
            return Err(TransportError::Closed);
        }
        // The consumer first: its acks are flushed, and a nack in progress
        // can still publish its dead letter.
        close_driver(&self.consumer).await;
        close_driver(&self.publisher).await;
        if !self.options.keep_session {
            let broker = &self.consumer.shared.broker;
            if let Err(error) = session::end_session(broker, &self.options).await {
                tracing::warn!(%error, client_id = %self.options.client_id, "could not end the MQTT session");
            }
        }
        Ok(())
    }
}

/// Asks a driver to say goodbye and waits until it did (the driver bounds
/// its goodbye; it answers, or ends, either way).
async fn close_driver(handle: &Handle) {
    let (reply, done) = oneshot::channel();
    if handle.commands.send(Command::Close { reply }).await.is_ok() {
        let _ = done.await;
    }
}
