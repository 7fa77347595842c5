//! Performing the core's [`Action`]s. Frames go to the clients' connections
//! at once, in order; everything that talks to the broker or waits for a
//! child runs in a task of its own, bounded by [`OP_DEADLINE`], and reports
//! its result as an [`Event::Done`]. Messages sent to inports (IIPs, a
//! client's packets) go through one task, so they keep their order; their
//! brackets go in the `msgflo-brackets` header (dropped on MQTT 3.1.1,
//! which has no headers).

use super::{feeds, Outboxes, Report};
use crate::bindings::{Link, Mode};
use crate::core::reconcile::OpId;
use crate::core::{Action, Event};
use crate::links;
use crate::server::{ClientId, Outbox, Undelivered};
use crate::spawn::Children;
use bytes::Bytes;
use msgflo_participant::transport::{Headers, Transport};
use msgflo_protocol::brackets::{self, Framing};
use msgflo_protocol::ids::QueueName;
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

/// A tap in place: the task feeding its copies.
struct Tapping {
    feed: JoinHandle<()>,
}

/// A message for an inport.
struct Outgoing {
    queue: QueueName,
    payload: Bytes,
    brackets: Framing,
    declare: bool,
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
}

impl Executor {
    pub(super) fn new(
        transport: Arc<dyn Transport>,
        children: Children,
        mode: Mode,
        report: mpsc::Sender<Report>,
    ) -> Self {
        let (sends, outgoing) = mpsc::unbounded_channel();
        tokio::spawn(sender(transport.clone(), outgoing));
        Self {
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
                    declare,
                } => {
                    let _ = self.sends.send(Outgoing {
                        queue,
                        payload,
                        brackets,
                        declare,
                    });
                }
                Action::Spawn { role, command } => {
                    if let Err(error) = self.children.spawn(&role, &command) {
                        tracing::warn!(role, %error, "could not start the participant");
                        let report = self.report.clone();
                        tokio::spawn(async move {
                            let _ = report.send(Report::Core(Event::ChildExited { role })).await;
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

    /// Forwards `outport`'s messages to `inport` (see [`feeds::forward`]):
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
            let tap = transport.tap(&outport).await.map_err(|e| e.to_string())?;
            tracing::info!(%outport, %inport, "forwarding through the coordinator");
            feeds::forward(transport, inport, tap.consumer, active);
            Ok(())
        });
    }

    /// Makes a tap in a task; the loop keeps it ([`Executor::keep_tap`])
    /// when [`Report::TapMade`] arrives. A tap made before is taken up
    /// again (see [`Executor::untap`]).
    fn tap(&mut self, op: OpId, queue: QueueName) {
        if self.taps.contains_key(&queue) {
            self.report_now(op, Ok(()));
            return;
        }
        let (transport, report) = (self.transport.clone(), self.report.clone());
        tokio::spawn(async move {
            let made = match tokio::time::timeout(OP_DEADLINE, transport.tap(&queue)).await {
                Ok(Ok(tap)) => Ok(feeds::tap(queue.clone(), tap.consumer, report.clone())),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err(format!("no answer within {OP_DEADLINE:?}")),
            };
            let _ = report.send(Report::TapMade { op, queue, made }).await;
        });
    }

    /// A tap was made: kept (see [`Executor::untap`]).
    pub(super) fn keep_tap(&mut self, queue: QueueName, feed: JoinHandle<()>) {
        if let Some(old) = self.taps.insert(queue, Tapping { feed }) {
            old.feed.abort();
        }
    }

    /// The core no longer wants `queue` watched: its copies are dropped
    /// from now on. The tap itself stays, parked, for the next time: the
    /// transports cannot yet end a tap's consumer and private queue
    /// together (on MQTT a dropped consumer's private subscription keeps
    /// taking copies, which nobody acks, until the broker's in-flight
    /// window for the whole connection is full), so a tap is made once per
    /// queue and kept.
    fn untap(&mut self, op: OpId, _queue: QueueName) {
        self.report_now(op, Ok(()));
    }

    /// Runs `work` in a task bounded by [`OP_DEADLINE`] and reports its
    /// result as operation `op`.
    fn run(
        &self,
        op: OpId,
        work: impl std::future::Future<Output = Result<(), String>> + Send + 'static,
    ) {
        let report = self.report.clone();
        tokio::spawn(async move {
            let result = match tokio::time::timeout(OP_DEADLINE, work).await {
                Ok(result) => result,
                Err(_) => Err(format!("no answer within {OP_DEADLINE:?}")),
            };
            let _ = report.send(Report::Core(Event::Done { op, result })).await;
        });
    }

    fn report_now(&self, op: OpId, result: Result<(), String>) {
        let report = self.report.clone();
        tokio::spawn(async move {
            let _ = report.send(Report::Core(Event::Done { op, result })).await;
        });
    }

    /// Stops every child and closes the broker connection.
    pub(super) async fn shut_down(&mut self) {
        for (_, tapping) in self.taps.drain() {
            tapping.feed.abort();
        }
        self.children.stop_all().await;
        if let Err(error) = self.transport.close().await {
            tracing::debug!(%error, "closing the broker connection");
        }
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
        let send = async {
            if message.declare {
                transport.declare_inport(&message.queue).await?;
            }
            transport
                .send_to_inport_with(&message.queue, message.payload, &headers)
                .await
        };
        match tokio::time::timeout(OP_DEADLINE, send).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%queue, %error, "sending failed"),
            Err(_) => tracing::warn!(%queue, "sending took over {OP_DEADLINE:?}; given up"),
        }
    }
}
