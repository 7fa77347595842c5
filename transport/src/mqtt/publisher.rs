//! The publishing connection over MQTT 5: the one task that owns its event
//! loop, takes [`Command::Publish`] from the handles and answers each once the
//! broker's PUBACK for it came — or holds it when the PUBACK says nobody
//! received it and its subscribers are expected back (`unmatched.rs`).
//!
//! Same shape as the session's driver (`driver.rs`): the event loop is
//! polled by a future that owns it, requests wait in an outbox and go to
//! rumqttc's channel with `try_publish`, packet ids are matched by
//! [`Confirms`], and after a lost connection every unconfirmed publish goes
//! out again as a new one (at-least-once), to the next broker of the list
//! when there are several. Used when the broker speaks MQTT 5 (Mosquitto 2
//! does); otherwise the publisher is an MQTT 3.1.1 [`Driver`](super::driver)
//! and cannot tell a publish that reached nobody.

use super::confirms::{Confirms, Untracked};
use super::failover::Failover;
use super::handle::{Command, Handle, Shared};
use super::outbox::Reply;
use super::requests::answer;
use super::session5::{self, reason};
use super::unmatched::{Unmatched, Verdict};
use crate::backoff::Backoff;
use crate::{BrokerUrl, ConnectOptions, Headers, Result, TransportError};
use bytes::Bytes;
use rumqttc::v5::mqttbytes::v5::{Packet, PubAck, PubAckReason, PublishProperties};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions};
use rumqttc::Outgoing;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep, sleep_until, Instant};
use tracing::{debug, info, warn};

/// How long `close` waits for the DISCONNECT to go out.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// Commands waiting for the publisher.
const COMMANDS: usize = 1024;

/// One publish, from asked for to answered.
#[derive(Debug)]
struct Message {
    topic: String,
    payload: Bytes,
    /// Sent as user properties.
    headers: Headers,
    reply: Reply,
}

/// Connects the MQTT 5 publishing connection to the first of `brokers` that
/// takes it and starts its task.
pub(super) async fn start(
    options: &ConnectOptions,
    brokers: Vec<(BrokerUrl, MqttOptions)>,
) -> Result<Handle> {
    let (client, mut eventloop) = AsyncClient::new(brokers[0].1.clone(), super::session::REQUESTS);
    let (current, _) = session5::first_connect_any(&mut eventloop, &brokers)
        .await
        .map_err(|failed| failed.error)?;
    let url = brokers[current].0.clone();
    info!(broker = %url, client_id = %brokers[current].1.client_id(), protocol = "MQTT 5", "connected");
    let (commands, receiver) = mpsc::channel(COMMANDS);
    let shared = Shared::connected(url, options);
    let publisher = Publisher {
        client,
        shared: shared.clone(),
        outbox: VecDeque::new(),
        next_seq: 0,
        confirms: Confirms::default(),
        held: VecDeque::new(),
        unmatched: Unmatched::default(),
        dropped_topics: HashSet::new(),
        connected: true,
        backoff: Backoff::new(options.max_backoff),
        failover: Failover::new(brokers, current),
        goodbye: false,
        closing: None,
        done: false,
    };
    tokio::spawn(publisher.run(eventloop, receiver));
    Ok(Handle { commands, shared })
}

/// State of the publishing task.
struct Publisher {
    client: AsyncClient,
    shared: Arc<Shared>,
    /// Not handed to rumqttc yet, oldest first, with their sequence numbers.
    outbox: VecDeque<(u64, Message)>,
    next_seq: u64,
    /// Handed to rumqttc, not acked yet.
    confirms: Confirms<Message>,
    /// Reached nobody, to be sent again at their instant (in that order).
    held: VecDeque<(Instant, u64, Message)>,
    unmatched: Unmatched,
    /// Topics whose held publishes were dropped, said once in the log.
    dropped_topics: HashSet<String>,
    connected: bool,
    backoff: Backoff,
    failover: Failover<MqttOptions>,
    /// A DISCONNECT is to go out once the outbox is empty.
    goodbye: bool,
    /// `close` was called: who waits, and until when.
    closing: Option<(oneshot::Sender<()>, Instant)>,
    done: bool,
}

/// Waits `delay`, then polls `eventloop` once; hands it back with the result.
async fn poll_after(
    mut eventloop: EventLoop,
    delay: Duration,
) -> (EventLoop, std::result::Result<Event, ConnectionError>) {
    if !delay.is_zero() {
        sleep(delay).await;
    }
    let result = eventloop.poll().await;
    (eventloop, result)
}

impl Publisher {
    async fn run(mut self, eventloop: EventLoop, mut commands: mpsc::Receiver<Command>) {
        let mut poll = Box::pin(poll_after(eventloop, Duration::ZERO));
        while !self.done {
            let close_by = self.closing.as_ref().map(|(_, by)| *by);
            let retry_at = self.held.front().map(|(at, _, _)| *at);
            tokio::select! {
                (mut eventloop, result) = &mut poll => {
                    let delay = match result {
                        Ok(event) => {
                            self.on_event(event);
                            Duration::ZERO
                        }
                        Err(error) => self.lost(&mut eventloop, &reason(&error)),
                    };
                    poll.set(poll_after(eventloop, delay));
                }
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                () = sleep_until(retry_at.unwrap_or_else(Instant::now)), if retry_at.is_some() => {
                    self.retry_due(Instant::now());
                }
                () = sleep_until(close_by.unwrap_or_else(Instant::now)), if close_by.is_some() => {
                    debug!(broker = %self.shared.broker, "closing without a goodbye: the broker did not take it in time");
                    break;
                }
            }
            self.flush();
        }
        drop(poll);
        self.finish();
    }

    fn on_command(&mut self, command: Command) {
        if self.closing.is_some() {
            return; // Dropping the reply answers `Closed`.
        }
        match command {
            Command::Publish {
                topic,
                payload,
                headers,
                reply,
            } => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.outbox.push_back((
                    seq,
                    Message {
                        topic,
                        payload,
                        headers,
                        reply,
                    },
                ));
            }
            Command::Close { reply } => {
                self.closing = Some((reply, Instant::now() + CLOSE_GRACE));
                if self.connected {
                    self.goodbye = true;
                } else {
                    self.done = true;
                }
            }
            // The transport sends everything else to the session's driver;
            // dropping the reply answers `Closed`.
            other => debug!(?other, "not for the publishing connection"),
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Incoming(Packet::PubAck(ack)) => self.on_puback(ack),
            Event::Incoming(Packet::ConnAck(_)) => self.on_connected(),
            Event::Incoming(Packet::Disconnect(disconnect)) => {
                warn!(broker = %self.shared.broker, reason = ?disconnect.reason_code, "the broker disconnects the publisher");
            }
            Event::Outgoing(Outgoing::Publish(pkid)) => match self.confirms.went_out(pkid) {
                Ok(None) => {}
                Ok(Some(unacked)) => {
                    warn!(broker = %self.shared.broker, pkid, "packet id reused before its ack; sending that publish again");
                    self.outbox.push_front(unacked);
                }
                Err(Untracked(pkid)) => {
                    warn!(broker = %self.shared.broker, pkid, "a publish went out that nobody waits for");
                }
            },
            Event::Outgoing(Outgoing::Disconnect) if self.closing.is_some() => self.done = true,
            _ => {}
        }
    }

    fn on_puback(&mut self, ack: PubAck) {
        let Some(message) = self.confirms.acked(ack.pkid) else {
            return;
        };
        match ack.reason {
            PubAckReason::Success => {
                self.unmatched.matched(&message.topic);
                answer(message.reply, Ok(()));
            }
            PubAckReason::NoMatchingSubscribers => {
                let now = Instant::now();
                match self.unmatched.unmatched(&message.topic, now.into_std()) {
                    Verdict::RetryAt(at) => {
                        let seq = self.next_seq;
                        self.next_seq += 1;
                        self.held.push_back((Instant::from_std(at), seq, message));
                    }
                    Verdict::Drop => self.drop_unmatched(message),
                }
            }
            refused => {
                let error = TransportError::Broker {
                    operation: "publish to",
                    queue: message.topic.clone(),
                    reason: format!("the broker refused the message ({refused:?})"),
                };
                answer(message.reply, Err(error));
            }
        }
    }

    /// A publish reached nobody and nobody is expected: done, as in MQTT
    /// 3.1.1 (the log says so once per topic that had subscribers).
    fn drop_unmatched(&mut self, message: Message) {
        if self.dropped_topics.insert(message.topic.clone()) {
            debug!(broker = %self.shared.broker, topic = %message.topic, "no subscriber: the message is dropped (MQTT keeps nothing for a topic nobody subscribes)");
        }
        answer(message.reply, Ok(()));
    }

    /// Held publishes whose instant came go back to the outbox, in order.
    fn retry_due(&mut self, now: Instant) {
        while self.held.front().is_some_and(|(at, _, _)| *at <= now) {
            if let Some((_, seq, message)) = self.held.pop_front() {
                if !message.reply.is_closed() {
                    self.outbox.push_back((seq, message));
                }
            }
        }
    }

    fn on_connected(&mut self) {
        self.connected = true;
        self.shared.connected.store(true, Ordering::Release);
        self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
        self.backoff.reset();
        self.failover.connected();
        self.unmatched.reconnected(Instant::now().into_std());
        self.dropped_topics.clear();
        info!(
            broker = %self.shared.broker,
            waiting = self.outbox.len(),
            held = self.held.len(),
            "publisher reconnected"
        );
    }

    /// The connection is gone (or an attempt failed): returns how long to
    /// wait before the next attempt.
    fn lost(&mut self, eventloop: &mut EventLoop, reason: &str) -> Duration {
        let was_connected = std::mem::replace(&mut self.connected, false);
        self.shared.connected.store(false, Ordering::Release);
        // rumqttc would resend its unacked publishes itself; ours go again
        // as new publishes (see confirms.rs), so it forgets them.
        eventloop.pending.clear();
        eventloop.state.collision = None;
        eventloop.state.events.clear();
        let mut again = self.confirms.drain();
        again.extend(self.outbox.drain(..));
        again.sort_by_key(|(seq, _)| *seq);
        self.outbox = again.into();
        if was_connected {
            warn!(
                broker = %self.shared.broker,
                reason,
                unconfirmed = self.outbox.len(),
                "publisher connection lost; reconnecting"
            );
        }
        if self.closing.is_some() {
            self.done = true;
            return Duration::ZERO;
        }
        if self.failover.next(&mut eventloop.options) {
            self.backoff.next_delay()
        } else {
            Duration::ZERO
        }
    }

    /// Hands queued publishes (then the goodbye) to rumqttc while connected
    /// and its channel has room.
    fn flush(&mut self) {
        if !self.connected {
            return;
        }
        while let Some((seq, message)) = self.outbox.pop_front() {
            if message.reply.is_closed() {
                continue; // Nobody waits for it any more.
            }
            // `try_publish` wants an owned Vec: one copy of the payload,
            // which we keep in case it has to be sent again.
            let (topic, payload) = (message.topic.as_str(), message.payload.to_vec());
            let sent = if message.headers.is_empty() {
                self.client
                    .try_publish(topic, QoS::AtLeastOnce, false, payload)
            } else {
                let properties = user_properties(&message.headers);
                self.client.try_publish_with_properties(
                    topic,
                    QoS::AtLeastOnce,
                    false,
                    payload,
                    properties,
                )
            };
            match sent {
                Ok(()) => self.confirms.sent(seq, message),
                Err(_) => {
                    // Full: rumqttc reports each request it takes, and we
                    // flush again then.
                    self.outbox.push_front((seq, message));
                    return;
                }
            }
        }
        if self.goodbye && self.client.try_disconnect().is_ok() {
            self.goodbye = false;
        }
    }

    /// Ends the task: every waiting publish fails with `Closed`, `close`
    /// returns.
    fn finish(mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.connected.store(false, Ordering::Release);
        let closing = self.closing.take();
        info!(
            broker = %self.shared.broker,
            unconfirmed = self.confirms.len() + self.outbox.len() + self.held.len(),
            "publisher closed"
        );
        drop(self);
        if let Some((reply, _)) = closing {
            let _ = reply.send(());
        }
    }
}

/// Message headers as MQTT 5 user properties (name and value pairs, in
/// order).
fn user_properties(headers: &Headers) -> PublishProperties {
    PublishProperties {
        user_properties: headers
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        ..PublishProperties::default()
    }
}
