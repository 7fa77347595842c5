//! The driver: the one task that owns the MQTT client's event loop (rumqttc's,
//! MQTT 3.1.1 or 5, through [`Wire`]). It polls the loop
//! forever, takes [`Command`]s from the handles, keeps the record of
//! subscriptions ([`Routes`]), hands messages to consumers ([`Dispatch`]) and
//! answers each request when the broker's ack for it comes ([`Requests`]).
//!
//! The event loop is polled by a future that owns it and hands it back when
//! an event is ready, so a command never cancels a poll halfway (rumqttc's
//! `poll` is not cancel-safe) and the driver can repair the loop's state
//! after an error. On a lost connection rumqttc keeps unacked requests to
//! resend them itself; the driver drops those and sends every unconfirmed
//! request again as a new one after the next CONNACK, behind a fresh
//! subscription to everything in the record. So pkid bookkeeping never has to
//! follow rumqttc's resends, and nothing depends on the broker still having
//! the session.

use super::ack_order::AckOrder;
use super::consumer::MqttAcker;
use super::dispatch::{Dispatch, MakeDelivery, Target};
use super::failover::Failover;
use super::handle::{Command, Handle, Shared};
use super::outbox::{Op, Reply};
use super::requests::{answer, Requests};
use super::routes::Routes;
use super::wire::{Event, Message, Wire};
use crate::backoff::Backoff;
use crate::{Delivery, DeliveryMode};
use msgflo_protocol::ids::QueueName;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep, sleep_until, Instant};
use tracing::{debug, info, warn};

/// How long `close` waits for the DISCONNECT to go out.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// How long a message may wait for an inport to take its topic (a session
/// resumed at start delivers before `consume` is called) before it is acked
/// and dropped as left over from an earlier run.
const UNROUTED_GRACE: Duration = Duration::from_secs(10);
/// How long the oldest unacked message may hold back the PUBACKs of
/// finished ones before the log says so.
const HELD_BACK_WARN: Duration = Duration::from_secs(30);
/// How often waiting messages are checked against [`UNROUTED_GRACE`].
const UNROUTED_SWEEP: Duration = Duration::from_secs(1);

/// State of the one task that talks to the broker.
pub(super) struct Driver<W: Wire> {
    client: W::Client,
    shared: Arc<Shared>,
    /// For the ackers of deliveries; weak so that dropping every handle ends
    /// the driver.
    commands: mpsc::WeakSender<Command>,
    /// Where nacks publish dead letters; `None`: through this driver.
    publisher: Option<Handle>,
    routes: Routes,
    dispatch: Dispatch,
    requests: Requests,
    /// PUBACKs go out in the order the messages came.
    acks: AckOrder,
    /// The held-back message last warned about (its sequence number).
    warned_held_back: Option<u64>,
    /// Taps being ended: their copies still on their way are acked and
    /// dropped.
    retiring: HashSet<QueueName>,
    /// Topics of taps ended on this connection: the broker may still send
    /// copies it had queued for this client after the UNSUBACK; when no
    /// inport takes them, they are acked and dropped at once.
    untapped: HashSet<String>,
    connected: bool,
    backoff: Backoff,
    /// The brokers to connect to, and which one is in use.
    failover: Failover<W::Options>,
    /// `close` was called: who waits, and until when.
    closing: Option<(oneshot::Sender<()>, Instant)>,
    done: bool,
}

/// Waits `delay`, then polls `eventloop` once; hands it back with the result.
async fn poll_after<W: Wire>(
    mut eventloop: W::EventLoop,
    delay: Duration,
) -> (W::EventLoop, Result<Event, String>) {
    if !delay.is_zero() {
        sleep(delay).await;
    }
    let result = W::poll(&mut eventloop).await;
    (eventloop, result)
}

impl<W: Wire> Driver<W> {
    /// A driver for a client whose event loop just connected.
    pub fn new(
        client: W::Client,
        shared: Arc<Shared>,
        commands: mpsc::WeakSender<Command>,
        publisher: Option<Handle>,
        max_backoff: Duration,
        failover: Failover<W::Options>,
    ) -> Self {
        Self {
            client,
            shared,
            commands,
            publisher,
            routes: Routes::default(),
            dispatch: Dispatch::default(),
            requests: Requests::default(),
            acks: AckOrder::default(),
            warned_held_back: None,
            retiring: HashSet::new(),
            untapped: HashSet::new(),
            connected: true,
            backoff: Backoff::new(max_backoff),
            failover,
            closing: None,
            done: false,
        }
    }

    /// Runs until closed, or until every handle is gone.
    pub async fn run(mut self, eventloop: W::EventLoop, mut commands: mpsc::Receiver<Command>) {
        let mut poll = Box::pin(poll_after::<W>(eventloop, Duration::ZERO));
        let mut sweep = tokio::time::interval(UNROUTED_SWEEP);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.done {
            let close_by = self.closing.as_ref().map(|(_, by)| *by);
            tokio::select! {
                (mut eventloop, result) = &mut poll => {
                    let delay = match result {
                        Ok(event) => {
                            self.on_event(event);
                            if self.dispatch.needs_resync() {
                                // Drops the connection; the session stays.
                                W::drop_connection(&mut eventloop);
                                self.lost(&mut eventloop, "resync: getting skipped messages again")
                            } else {
                                Duration::ZERO
                            }
                        }
                        Err(reason) => self.lost(&mut eventloop, &reason),
                    };
                    poll.set(poll_after::<W>(eventloop, delay));
                }
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                _ = sweep.tick() => {
                    self.expire_unrouted();
                    self.warn_held_back();
                }
                () = sleep_until(close_by.unwrap_or_else(Instant::now)), if close_by.is_some() => {
                    debug!(broker = %self.shared.broker, "closing without a goodbye: the broker did not take it in time");
                    break;
                }
            }
            self.flush();
        }
        // The connection goes before `close` returns.
        drop(poll);
        self.finish();
    }

    fn on_command(&mut self, command: Command) {
        if self.closing.is_some() && !matches!(command, Command::Ack { .. }) {
            return; // Dropping the reply answers `Closed`.
        }
        match command {
            Command::Takers { reply } => {
                let _ = reply.send(self.routes.takers());
            }
            // A driver publishes only as the MQTT 3.1.1 publisher (the MQTT 5
            // one is `publisher.rs`), which has no headers: they are dropped.
            Command::Publish {
                topic,
                payload,
                headers: _,
                reply,
            } => self.requests.push(Op::Publish {
                topic,
                payload,
                reply,
            }),
            Command::Consume {
                inport,
                window,
                deliveries,
                reply,
            } => {
                let consumer = self.dispatch.add_consumer(&inport, window, deliveries);
                debug!(broker = %self.shared.broker, %inport, consumer, window, "consumer added");
                let filters = self.routes.consume(&inport);
                self.route_unrouted();
                self.dispatch.pump(
                    &inport,
                    &mut maker(&self.commands, &self.shared, self.publisher.as_ref()),
                );
                self.subscribe(filters, reply);
            }
            Command::SetWindow {
                inport,
                window,
                reply,
            } => {
                let result = match self.dispatch.set_window(&inport, window) {
                    true => Ok(()),
                    false => Err(crate::TransportError::not_consumed(&inport)),
                };
                debug!(broker = %self.shared.broker, %inport, window, "window changed");
                self.dispatch.pump(
                    &inport,
                    &mut maker(&self.commands, &self.shared, self.publisher.as_ref()),
                );
                let _ = reply.send(result);
            }
            Command::Bind {
                outport,
                inport,
                reply,
            } => {
                let filter = self.routes.bind(&outport, &inport);
                debug!(broker = %self.shared.broker, %outport, %inport, subscribe = filter.is_some(), "bind");
                self.route_unrouted();
                self.subscribe(filter.into_iter().collect(), reply);
            }
            Command::BindingDelivery {
                outport,
                inport,
                mode,
                set,
                reply,
            } => {
                let filter = self.routes.set_delivery(&outport, &inport, mode, set);
                debug!(broker = %self.shared.broker, %outport, %inport, %mode, set, subscribe = filter.is_some(), "binding delivery");
                self.subscribe(filter.into_iter().collect(), reply);
            }
            Command::Unbind {
                outport,
                inport,
                reply,
            } => match self.routes.unbind(&outport, &inport) {
                Some(filter) => {
                    debug!(broker = %self.shared.broker, %outport, %inport, "unbind");
                    self.requests.push(Op::Unsubscribe {
                        filter,
                        reply: Some(reply),
                        retired: None,
                    });
                }
                None => answer(reply, Ok(())),
            },
            Command::Untap {
                outport,
                tap,
                reply,
            } => self.untap(outport, tap, reply),
            Command::Ack {
                consumer,
                generation,
                pkid,
            } => {
                if let Some((inport, current)) = self.dispatch.acked(consumer, generation) {
                    if current && pkid != 0 {
                        self.ack(pkid);
                    }
                    self.dispatch.pump(
                        &inport,
                        &mut maker(&self.commands, &self.shared, self.publisher.as_ref()),
                    );
                }
            }
            Command::Close { reply } => {
                self.closing = Some((reply, Instant::now() + CLOSE_GRACE));
                if self.connected {
                    self.requests.push(Op::Disconnect);
                } else {
                    self.done = true;
                }
            }
        }
    }

    /// Subscribes `filters`, each at its binding's QoS (one SUBSCRIBE per
    /// QoS); `reply` once every SUBACK came, with the first refusal.
    fn subscribe(&mut self, filters: Vec<String>, reply: Reply) {
        let (durable, transient) = self.routes.by_qos(filters);
        let ops: Vec<(Vec<String>, bool)> = [(durable, false), (transient, true)]
            .into_iter()
            .filter(|(filters, _)| !filters.is_empty())
            .collect();
        let mut answers = Vec::new();
        for (filters, transient) in ops {
            let (tx, rx) = oneshot::channel();
            answers.push(rx);
            self.requests.push(Op::Subscribe {
                filters,
                transient,
                reply: Some(tx),
            });
        }
        match answers.len() {
            0 => answer(reply, Ok(())),
            _ => {
                tokio::spawn(async move {
                    let mut result = Ok(());
                    for rx in answers {
                        let one = rx.await.unwrap_or(Err(crate::TransportError::Closed));
                        result = result.and(one);
                    }
                    answer(reply, result);
                });
            }
        }
    }

    /// Ends tap `tap` of `outport`: its consumers end, what waits for it is
    /// acked and dropped, and its subscriptions go; `reply` on the last
    /// UNSUBACK. Until then the tap keeps its turn for the copies of its
    /// topics still on their way (MQTT does not say which subscription a
    /// copy is for), and those are acked and dropped.
    fn untap(&mut self, outport: QueueName, tap: QueueName, reply: Reply) {
        let mut filters = self.routes.retire(&tap);
        for publish in self.dispatch.remove_inport(&tap) {
            if self.connected && publish.pkid != 0 {
                self.ack(publish.pkid);
            }
        }
        debug!(broker = %self.shared.broker, %outport, %tap, unsubscribe = filters.len(), "untap");
        if self.shared.keep_subscriptions {
            // Retired for good: its copies are acked and dropped.
            self.retiring.insert(tap);
            return answer(reply, Ok(()));
        }
        let Some(last) = filters.pop() else {
            self.routes.forget(&tap);
            return answer(reply, Ok(()));
        };
        self.retiring.insert(tap.clone());
        for filter in filters {
            self.requests.push(Op::Unsubscribe {
                filter,
                reply: None,
                retired: None,
            });
        }
        self.requests.push(Op::Unsubscribe {
            filter: last,
            reply: Some(reply),
            retired: Some(tap),
        });
    }

    /// Acks (drops) messages that waited [`UNROUTED_GRACE`] for an inport to
    /// take their topic: a kept session's subscriptions from an earlier run.
    fn expire_unrouted(&mut self) {
        let Some(cutoff) = Instant::now().checked_sub(UNROUTED_GRACE) else {
            return;
        };
        let expired = self.dispatch.expire_unrouted(cutoff.into_std());
        let mut topics: Vec<&str> = expired.iter().map(|p| p.topic.as_str()).collect();
        topics.dedup();
        for topic in topics {
            warn!(broker = %self.shared.broker, %topic, "no inport takes this topic (a subscription left from an earlier run under this client id?): acked and dropped");
        }
        for publish in &expired {
            if self.connected && publish.pkid != 0 {
                self.ack(publish.pkid);
            }
        }
    }

    /// Says once per message when an unacked one holds back the PUBACKs of
    /// finished ones for [`HELD_BACK_WARN`]: a consumer dropped a delivery
    /// without settling it, or works on it for very long, and once the
    /// broker's in-flight window is full this connection receives nothing.
    fn warn_held_back(&mut self) {
        let Some(held) = self
            .acks
            .held_back(Instant::now().into_std(), HELD_BACK_WARN)
        else {
            return;
        };
        if self.warned_held_back == Some(held.seq) {
            return;
        }
        self.warned_held_back = Some(held.seq);
        warn!(
            broker = %self.shared.broker,
            pkid = held.pkid,
            waited = ?held.waited,
            behind = held.behind,
            "a message is not acked yet and the acks of the finished ones received after it wait for it (MQTT acks in order); once the broker's in-flight window is full this connection receives nothing more (a delivery dropped without ack or nack?)"
        );
    }

    /// Message `pkid` of this connection is finished: PUBACKs it and the
    /// finished ones after it, unless an older one is not finished yet.
    fn ack(&mut self, pkid: u16) {
        for pkid in self.acks.finished(pkid) {
            self.requests.push(Op::Ack { pkid });
        }
    }

    /// Routes the messages that waited for an inport to take their topic.
    fn route_unrouted(&mut self) {
        let waiting = self.dispatch.take_unrouted();
        let mut make = maker(&self.commands, &self.shared, self.publisher.as_ref());
        for publish in waiting {
            let inport = self.routes.route(&publish.topic);
            self.dispatch.incoming(inport, publish, &mut make);
        }
    }

    fn on_event(&mut self, event: Event) {
        let (kind, pkid) = match event {
            Event::Message(publish) => {
                self.acks.received(publish.pkid);
                let inport = self.routes.route(&publish.topic);
                let dropped = match inport {
                    Some(inport) => self.retiring.contains(inport),
                    None => self.untapped.contains(publish.topic.as_str()),
                };
                if dropped {
                    if publish.pkid != 0 {
                        self.ack(publish.pkid);
                    }
                    return;
                }
                let mut make = maker(&self.commands, &self.shared, self.publisher.as_ref());
                self.dispatch.incoming(inport, publish, &mut make);
                return;
            }
            Event::PubAck(pkid) => return self.requests.puback(pkid),
            Event::UnsubAck(pkid) => {
                if let Some(retired) = self.requests.unsuback(pkid) {
                    self.untapped.extend(self.routes.forget(&retired));
                    self.retiring.remove(&retired);
                }
                return;
            }
            Event::SubAck { pkid, refused } => {
                if let Some(error) = self.requests.suback(pkid, &refused) {
                    warn!(broker = %self.shared.broker, %error, "re-subscribing failed");
                }
                return;
            }
            Event::ConnAck { session_present } => return self.on_connected(session_present),
            Event::SentDisconnect if self.closing.is_some() => {
                self.done = true;
                return;
            }
            Event::Sent(kind, pkid) => (kind, pkid),
            Event::SentDisconnect | Event::Other => return,
        };
        if let Err(mismatch) = self.requests.went_out(kind, pkid) {
            warn!(broker = %self.shared.broker, ?mismatch, "packet ids out of step; sending again what may be lost");
        }
    }

    fn on_connected(&mut self, session_present: bool) {
        self.connected = true;
        self.shared.connected.store(true, Ordering::Release);
        self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
        self.backoff.reset();
        self.failover.connected();
        // Subscriptions first, then whatever waited for the connection.
        let (durable, transient) = self.routes.by_qos(self.routes.filters());
        self.requests.resubscribe_first(&durable, false);
        self.requests.resubscribe_first(&transient, true);
        info!(
            broker = %self.shared.broker,
            session_present,
            subscriptions = durable.len() + transient.len(),
            waiting = self.requests.queued(),
            "reconnected"
        );
    }

    /// The connection is gone (or a reconnection attempt failed): returns how
    /// long to wait before the next attempt.
    fn lost(&mut self, eventloop: &mut W::EventLoop, reason: &str) -> Duration {
        let was_connected = std::mem::replace(&mut self.connected, false);
        self.shared.connected.store(false, Ordering::Release);
        // rumqttc keeps its unacked requests to resend; we resend ours as new
        // requests instead (see confirms.rs), so it must forget them, and the
        // events it buffered from the old connection.
        W::forget(eventloop);
        self.requests.take_back();
        self.acks.clear();
        if was_connected {
            self.dispatch.new_generation();
            self.shared
                .generation
                .send_replace(self.dispatch.generation());
            self.untapped.clear();
            warn!(
                broker = %self.shared.broker,
                reason,
                unconfirmed = self.requests.unconfirmed_publishes(),
                "connection lost; reconnecting"
            );
        }
        if self.closing.is_some() {
            self.done = true;
            return Duration::ZERO;
        }
        let delay = if self.failover.next(W::options(eventloop)) {
            self.backoff.next_delay()
        } else {
            Duration::ZERO
        };
        debug!(
            broker = %self.shared.broker,
            reason,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "next connection attempt"
        );
        delay
    }

    /// Hands queued requests to rumqttc while connected.
    fn flush(&mut self) {
        if self.connected {
            self.requests.flush::<W>(&self.client);
        }
    }

    /// Ends the transport: every waiting request fails with `Closed`, the
    /// consumers end, `close` returns.
    fn finish(mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.connected.store(false, Ordering::Release);
        let closing = self.closing.take();
        info!(
            broker = %self.shared.broker,
            unconfirmed = self.requests.unconfirmed_publishes(),
            held = self.dispatch.held(),
            "closed"
        );
        drop(self);
        if let Some((reply, _)) = closing {
            let _ = reply.send(());
        }
    }
}

/// Builds deliveries whose ackers talk to this driver.
fn maker<'a>(
    commands: &'a mpsc::WeakSender<Command>,
    shared: &'a Arc<Shared>,
    publisher: Option<&'a Handle>,
) -> impl MakeDelivery + 'a {
    move |publish: &Message, target: Target<'_>| {
        let handle = Handle {
            commands: commands.upgrade()?,
            shared: shared.clone(),
        };
        let acker = MqttAcker {
            publisher: publisher.unwrap_or(&handle).clone(),
            handle,
            inport: QueueName::clone(target.inport),
            consumer: target.consumer,
            generation: target.generation,
            pkid: publish.pkid,
            payload: publish.payload.clone(),
            headers: publish.headers.clone(),
        };
        let mut delivery = Delivery::new(publish.payload.clone(), publish.dup, Box::new(acker));
        if publish.pkid == 0 {
            // QoS 0: a transient binding's, or a QoS 0 publisher's.
            delivery = delivery.with_mode(DeliveryMode::Transient);
        }
        Some(match publish.headers.is_empty() {
            true => delivery,
            false => delivery.with_headers(publish.headers.clone()),
        })
    }
}
