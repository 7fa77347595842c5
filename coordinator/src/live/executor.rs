//! Performing the core's [`Action`]s. Frames go to the clients' connections
//! at once, in order; everything that talks to the broker or waits for a
//! child runs in a task of its own, bounded by [`OP_DEADLINE`], and reports
//! its result as an [`Event::Done`]. Messages sent to inports (IIPs, a
//! client's packets) go through one task, so they keep their order; their
//! brackets go in the `msgflo-brackets` header (an MQTT 5 user property;
//! dropped on MQTT 3.1.1, which has no headers). Taps are made and ended here ([`Tapping`]): an
//! ended tap leaves no consumer, channel or queue behind; one whose ending
//! failed is kept for the core to retry.

use super::calling::Calling;
use super::observer::Observer;
use super::{feeds, Outboxes, Report};
use crate::bindings::{Link, Mode};
use crate::core::reconcile::OpId;
use crate::core::{Action, Event, OpError};
use crate::links;
use crate::relay;
use crate::server::{ClientId, Outbox, Undelivered};
use crate::spawn::Children;
use crate::view::{Numbers, Topology};
use bytes::Bytes;
use msgflo_protocol::brackets::{self, Framing};
use msgflo_protocol::ids::QueueName;
use msgflo_transport::{Headers, Transport};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The longest any one broker operation may take before it counts as
/// failed (and is retried).
pub const OP_DEADLINE: Duration = Duration::from_secs(15);

/// How long a participant may take to answer a `connectinport` (MQTT)
/// before the link counts as made without the answer (a participant that
/// takes no control messages, such as msgflo-python's, never answers).
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// A tap in place.
pub(crate) struct Tapping {
    /// Its private queue.
    tap: QueueName,
    /// The task feeding its copies to the core.
    feed: JoinHandle<()>,
    /// While `false`, copies are acked and dropped.
    on: tokio::sync::watch::Sender<bool>,
}

/// A message for an inport.
struct Outgoing {
    queue: QueueName,
    payload: Bytes,
    brackets: Framing,
}

/// Performs actions; see the module docs.
pub(super) struct Executor {
    transport: Arc<dyn Transport>,
    children: Children,
    mode: Mode,
    clients: Outboxes,
    taps: HashMap<QueueName, Tapping>,
    /// Forwards made, by (outport, inport), each with its on/off switch.
    forwards: HashMap<(QueueName, QueueName), tokio::sync::watch::Sender<bool>>,
    report: mpsc::Sender<Report>,
    sends: mpsc::UnboundedSender<Outgoing>,
    /// `msgflo:call`s.
    calling: Calling,
    /// The live view's and `/metrics`' numbers.
    observer: Observer,
}

impl Executor {
    /// The numbers of `topology` as last observed (observing goes on for
    /// what it shows).
    pub(super) fn numbers(&self, topology: &Topology, at: std::time::Instant) -> Numbers {
        self.observer.numbers(topology, at)
    }

    /// Whether the broker connection is up now.
    pub(super) fn broker_connected(&self) -> bool {
        self.transport.is_connected()
    }

    /// How many times the broker connection was made again after it was
    /// lost.
    pub(super) fn broker_reconnects(&self) -> u64 {
        self.transport.reconnects()
    }

    pub(super) fn new(
        transport: Arc<dyn Transport>,
        children: Children,
        mode: Mode,
        report: mpsc::Sender<Report>,
    ) -> Self {
        let (sends, outgoing) = mpsc::unbounded_channel();
        tokio::spawn(sender(transport.clone(), outgoing));
        let calling = Calling::new(transport.clone(), report.clone());
        let observer = Observer::new(transport.clone(), calling.clone());
        Self {
            observer,
            calling,
            transport,
            children,
            mode,
            clients: HashMap::new(),
            taps: HashMap::new(),
            forwards: HashMap::new(),
            report,
            sends,
        }
    }

    /// Where tasks report to the core.
    pub(super) fn reporter(&self) -> mpsc::Sender<Report> {
        self.report.clone()
    }

    pub(super) fn add_client(&mut self, id: ClientId, outbox: Outbox) {
        self.clients.insert(id, outbox);
    }

    pub(super) fn forget_client(&mut self, id: ClientId) {
        self.clients.remove(&id);
    }

    /// Performs `actions`; returns the clients found gone (closed, or too
    /// far behind), which the core must be told about.
    pub(super) fn perform(&mut self, actions: Vec<Action>) -> Vec<ClientId> {
        let mut gone = Vec::new();
        for action in actions {
            match action {
                Action::Answer { client, text } => {
                    self.deliver(client, text, true, &mut gone);
                }
                Action::Tell { client, text } => self.deliver(client, text, false, &mut gone),
                Action::Link { op, link, graph } => self.link(op, link, graph),
                Action::Unlink {
                    op,
                    link: Link::Forward { outport, inport },
                    ..
                } => {
                    // Switched off: what comes meanwhile is dropped, as an
                    // unbound edge drops it.
                    if let Some(on) = self.forwards.get(&(outport, inport)) {
                        let _ = on.send(false);
                    }
                    self.report_now(op, Ok(()));
                }
                Action::Unlink { op, link, graph } => {
                    let transport = self.transport.clone();
                    self.run(op, async move {
                        links::undo(transport.as_ref(), &link, &graph).await
                    });
                }
                Action::Refresh { link, graph } => {
                    let transport = self.transport.clone();
                    tokio::spawn(async move {
                        let done = tokio::time::timeout(
                            OP_DEADLINE,
                            links::apply(transport.as_ref(), &link, &graph),
                        );
                        if let Ok(Err(error)) = done.await {
                            tracing::debug!(?link, %error, "saying a link again failed");
                        }
                    });
                }
                Action::Tap { op, queue } => self.tap(op, queue),
                Action::Untap { op, queue } => self.untap(op, queue),
                Action::Send {
                    queue,
                    payload,
                    brackets,
                } => {
                    let _ = self.sends.send(Outgoing {
                        queue,
                        payload,
                        brackets,
                    });
                }
                Action::Spawn { role, command } => {
                    if let Err(error) = self.children.spawn(&role, &command) {
                        tracing::warn!(role, %error, "could not start the participant");
                        let report = self.report.clone();
                        tokio::spawn(async move {
                            let exited = Event::ChildExited {
                                role,
                                status: None,
                                stopped: false,
                            };
                            let _ = report.send(Report::Core(exited)).await;
                        });
                    }
                }
                Action::Stop { role } => {
                    if let Some(stopping) = self.children.stopping(&role) {
                        tokio::spawn(stopping);
                    }
                }
                Action::Save { path, graph } => {
                    if let Err(error) = crate::graph_file::save_atomically(&path, &graph) {
                        tracing::warn!(path = %path.display(), %error, "auto-save failed");
                    }
                }
                Action::Print(text) => println!("{text}"),
                Action::FetchSubgraph {
                    participant,
                    component,
                } => self.calling.fetch_subgraph(participant, component),
                Action::Call(call) => self.calling.call(call),
                Action::Forward(forward) => self.calling.forward(forward),
            }
        }
        gone
    }

    fn deliver(&mut self, client: ClientId, text: String, answer: bool, gone: &mut Vec<ClientId>) {
        let Some(outbox) = self.clients.get(&client) else {
            return;
        };
        let sent = if answer {
            outbox.answer(text)
        } else {
            outbox.tell(text)
        };
        if let Err(why) = sent {
            match why {
                Undelivered::TooFarBehind => {
                    tracing::warn!(client, "client does not keep up; disconnecting it");
                }
                Undelivered::Closed => tracing::debug!(client, "client connection already closed"),
            }
            self.clients.remove(&client);
            gone.push(client);
        }
    }

    /// Makes a link; on MQTT a `connectinport` counts as made once the
    /// participant answered, or after [`ANSWER_WAIT`] without an answer —
    /// then the core is told the participant is silent, and forwards.
    fn link(&mut self, op: OpId, link: Link, graph: String) {
        if let Link::Forward { outport, inport } = link {
            self.forward(op, outport, inport);
            return;
        }
        let transport = self.transport.clone();
        let confirm = self.mode == Mode::Participants;
        let report = self.report.clone();
        self.run(op, async move {
            if !confirm {
                return links::apply(transport.as_ref(), &link, &graph).await;
            }
            let answered =
                links::apply_confirmed(transport.as_ref(), &link, &graph, ANSWER_WAIT).await?;
            if let (false, Link::ConnectInport { participant, .. }) = (answered, &link) {
                let silent = Event::Silent {
                    participant: participant.clone(),
                };
                let _ = report.send(Report::Core(silent)).await;
            }
            Ok(())
        });
    }

    /// Forwards `outport`'s messages to `inport` (see [`relay::forward`]):
    /// a forward made before is switched on again.
    fn forward(&mut self, op: OpId, outport: QueueName, inport: QueueName) {
        let key = (outport, inport);
        if let Some(forwarding) = self.forwards.get(&key) {
            let _ = forwarding.send(true);
            self.report_now(op, Ok(()));
            return;
        }
        let (on, active) = tokio::sync::watch::channel(true);
        self.forwards.insert(key.clone(), on);
        let transport = self.transport.clone();
        self.run(op, async move {
            let (outport, inport) = key;
            relay::start(transport, &outport, inport.clone(), active).await?;
            tracing::info!(%outport, %inport, "forwarding through the coordinator");
            Ok::<(), msgflo_transport::TransportError>(())
        });
    }

    /// Makes a tap in a task; the loop keeps it ([`Executor::keep_tap`])
    /// when [`Report::TapMade`] arrives. One whose ending failed is taken
    /// up again.
    fn tap(&mut self, op: OpId, queue: QueueName) {
        if let Some(tapping) = self.taps.get(&queue) {
            tapping.on.send_replace(true);
            self.report_now(op, Ok(()));
            return;
        }
        let (transport, report) = (self.transport.clone(), self.report.clone());
        tokio::spawn(async move {
            let made = match tokio::time::timeout(OP_DEADLINE, transport.tap(&queue)).await {
                Ok(Ok(tap)) => {
                    let (on, active) = tokio::sync::watch::channel(true);
                    let feed = feeds::tap(queue.clone(), tap.consumer, report.clone(), active);
                    Ok(Tapping {
                        tap: tap.queue,
                        feed,
                        on,
                    })
                }
                Ok(Err(error)) => Err(error.into()),
                Err(_) => Err(no_answer()),
            };
            let _ = report.send(Report::TapMade { op, queue, made }).await;
        });
    }

    /// A tap was made (or its ending failed): kept until the core undoes
    /// it ([`Executor::untap`]).
    pub(super) fn keep_tap(&mut self, queue: QueueName, tapping: Tapping) {
        if let Some(old) = self.taps.insert(queue.clone(), tapping) {
            // Two taps of one queue: the older one goes.
            self.end_tap(None, queue, old);
        }
    }

    /// The core no longer wants `queue` watched: its copies are dropped
    /// from now on, and its private queue and consumer end
    /// ([`Transport::untap`]); the feed acks what the consumer still
    /// yields, then ends.
    fn untap(&mut self, op: OpId, queue: QueueName) {
        match self.taps.remove(&queue) {
            Some(tapping) => self.end_tap(Some(op), queue, tapping),
            None => self.report_now(op, Ok(())),
        }
    }

    fn end_tap(&self, op: Option<OpId>, queue: QueueName, tapping: Tapping) {
        tapping.on.send_replace(false);
        let (transport, report) = (self.transport.clone(), self.report.clone());
        tokio::spawn(async move {
            let ended = tokio::time::timeout(OP_DEADLINE, transport.untap(&queue, &tapping.tap));
            let result = match ended.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error.into()),
                Err(_) => Err(no_answer()),
            };
            if let Err(error) = &result {
                tracing::debug!(%queue, tap = %tapping.tap, %error, "ending a tap failed");
            }
            let untapped = Report::Untapped {
                op,
                queue,
                tapping: result.is_err().then_some(tapping),
                result,
            };
            let _ = report.send(untapped).await;
        });
    }

    /// Runs `work` in a task bounded by [`OP_DEADLINE`] and reports its
    /// result, the error itself, as operation `op`.
    fn run<E: Into<OpError>>(
        &self,
        op: OpId,
        work: impl std::future::Future<Output = Result<(), E>> + Send + 'static,
    ) {
        let report = self.report.clone();
        tokio::spawn(async move {
            let result = match tokio::time::timeout(OP_DEADLINE, work).await {
                Ok(result) => result.map_err(Into::into),
                Err(_) => Err(no_answer()),
            };
            let _ = report.send(Report::Core(Event::Done { op, result })).await;
        });
    }

    fn report_now(&self, op: OpId, result: Result<(), OpError>) {
        let report = self.report.clone();
        tokio::spawn(async move {
            let _ = report.send(Report::Core(Event::Done { op, result })).await;
        });
    }

    /// Stops every child and closes the broker connection.
    pub(super) async fn shut_down(&mut self) {
        for (_, tapping) in self.taps.drain() {
            tapping.on.send_replace(false);
            tapping.feed.abort();
        }
        self.children.stop_all().await;
        if let Err(error) = self.transport.close().await {
            tracing::debug!(%error, "closing the broker connection");
        }
    }
}

/// An operation that took longer than [`OP_DEADLINE`].
fn no_answer() -> OpError {
    OpError::NoAnswer {
        within: OP_DEADLINE,
    }
}

/// Sends messages to inports, one after the other, each bounded by
/// [`OP_DEADLINE`]; a failure is logged.
async fn sender(transport: Arc<dyn Transport>, mut outgoing: mpsc::UnboundedReceiver<Outgoing>) {
    while let Some(message) = outgoing.recv().await {
        let queue = message.queue.clone();
        let mut headers = Headers::new();
        if let Some(value) = message.brackets.encode() {
            headers.insert(brackets::HEADER, value);
        }
        let send = transport.send_to_inport_with(&message.queue, message.payload, &headers);
        match tokio::time::timeout(OP_DEADLINE, send).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%queue, %error, "sending failed"),
            Err(_) => tracing::warn!(%queue, "sending took over {OP_DEADLINE:?}; given up"),
        }
    }
}
