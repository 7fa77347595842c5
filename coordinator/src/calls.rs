//! Calling participants ([`msgflo_protocol::calls`]): requests go to a
//! participant's control queue with an id and a deadline, answers come back
//! on this caller's own queue (`.fbp.<caller>.calls`) and are matched by
//! id. Used by `msgflo-participants --call` and the coordinator.
//!
//! - [`Caller::call`]: one participant — its answer, its error, or
//!   [`CallError::NoAnswer`] at the deadline (a participant that died or is
//!   stopped mid-call is that, never a hang).
//! - [`Caller::call_all`]: many at once — each answer as it comes
//!   ([`AllCalls::next`]), then at the deadline the list of those that did
//!   not answer ([`AllCalls::missing`]).
//! - Answers that come after their caller stopped waiting (or match no
//!   request) are dropped and counted ([`Caller::late`]).
//! - FBP `network` frames (`network:data`, `begingroup`, `endgroup`) that
//!   a graph participant sends to the caller's queue for the edges it was
//!   asked to watch (`network:edges` through the `fbp` call) are events,
//!   not answers: they come out of [`Caller::events`]. Watching is best
//!   effort: while that reader is [`EVENTS_BACKLOG`] events behind, more
//!   are dropped (and logged), as data for a slow FBP client is.

use bytes::Bytes;
use msgflo_protocol::calls::{self, unix_ms, CallRequest, CallResult};
use msgflo_protocol::control;
use msgflo_protocol::ids::{ParticipantId, QueueName};
use msgflo_transport::{Consumer, Transport, TransportError};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Why a call got no result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The participant answered with an error, or the request could not
    /// be sent to it (then `message` is the broker's error).
    #[error("{participant}: {message}")]
    Failed {
        /// Who answered.
        participant: ParticipantId,
        /// Its error.
        message: String,
    },
    /// No answer by the deadline.
    #[error("{participant} did not answer within {} ms", within.as_millis())]
    NoAnswer {
        /// Who was called.
        participant: ParticipantId,
        /// How long the caller waited.
        within: Duration,
    },
}

/// How many events ([`Caller::events`]) may wait for their reader before
/// more are dropped.
pub const EVENTS_BACKLOG: usize = 1024;

/// The FBP protocol whose frames on the calls queue are events.
const EVENT_PROTOCOL: &str = "network";

/// Answers waiting for their request, by request id.
type Waiting = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<CallResult>>>>;

/// Calls participants; see the module docs.
pub struct Caller {
    transport: Arc<dyn Transport>,
    reply_to: QueueName,
    waiting: Waiting,
    late: Arc<AtomicU64>,
    router: JoinHandle<()>,
    /// The events' receiving end, until [`Caller::events`] takes it.
    events: Mutex<Option<mpsc::Receiver<Value>>>,
}

impl Drop for Caller {
    fn drop(&mut self) {
        self.router.abort();
    }
}

/// The answers of a [`Caller::call_all`], as they come.
pub struct AllCalls {
    answers: mpsc::UnboundedReceiver<CallResult>,
    /// Request id -> participant, of those not answered yet.
    open: HashMap<String, ParticipantId>,
    deadline: Instant,
    waiting: Waiting,
}

impl Caller {
    /// A caller named `caller_id` (unique among callers: its answers come
    /// to `.fbp.<caller_id>.calls`, declared and consumed here).
    pub async fn new(
        transport: Arc<dyn Transport>,
        caller_id: &str,
    ) -> Result<Self, TransportError> {
        let reply_to =
            QueueName::new(calls::reply_queue(caller_id)).map_err(|e| TransportError::Broker {
                operation: "declare",
                queue: calls::reply_queue(caller_id),
                reason: e.to_string(),
            })?;
        transport.declare_inport(&reply_to).await?;
        let consumer = transport.consume(&reply_to, 1000).await?;
        let waiting = Waiting::default();
        let late = Arc::new(AtomicU64::new(0));
        let (events, receiver) = mpsc::channel(EVENTS_BACKLOG);
        let router = tokio::spawn(route(consumer, waiting.clone(), late.clone(), events));
        Ok(Self {
            transport,
            reply_to,
            waiting,
            late,
            router,
            events: Mutex::new(Some(receiver)),
        })
    }

    /// The FBP `network` frames participants send to this caller's queue
    /// (see the module docs), each as it came; `None` after the first
    /// time: there is one reader.
    pub fn events(&self) -> Option<mpsc::Receiver<Value>> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Answers dropped: they came after their caller stopped waiting, or
    /// matched no request, or were no answers.
    pub fn late(&self) -> u64 {
        self.late.load(Ordering::Relaxed)
    }

    /// Calls `call` on `participant` and waits up to `timeout` for its answer.
    pub async fn call(
        &self,
        participant: &ParticipantId,
        call: &str,
        args: Value,
        timeout: Duration,
    ) -> Result<Value, CallError> {
        let mut all = self
            .call_all(std::slice::from_ref(participant), call, args, timeout)
            .await;
        let outcome = all.next().await;
        match outcome {
            Some((_, Ok(result))) => Ok(result),
            Some((_, Err(error))) => Err(error),
            None => Err(CallError::NoAnswer {
                participant: participant.clone(),
                within: timeout,
            }),
        }
    }

    /// Calls `call` on each of `participants` at once; the answers come
    /// from the returned [`AllCalls`] until `timeout`. A request that could
    /// not be sent comes out of it as that participant's error.
    pub async fn call_all(
        &self,
        participants: &[ParticipantId],
        call: &str,
        args: Value,
        timeout: Duration,
    ) -> AllCalls {
        let deadline = Instant::now() + timeout;
        let deadline_ms =
            unix_ms().saturating_add(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        let (answers, receiver) = mpsc::unbounded_channel();
        let mut open = HashMap::new();
        let mut requests = Vec::new();
        for participant in participants {
            let request = CallRequest {
                id: uuid::Uuid::new_v4().simple().to_string(),
                call: call.to_owned(),
                args: args.clone(),
                reply_to: self.reply_to.to_string(),
                deadline: deadline_ms,
            };
            self.lock().insert(request.id.clone(), answers.clone());
            open.insert(request.id.clone(), participant.clone());
            requests.push((participant.clone(), request));
        }
        let sends = requests.into_iter().map(|(participant, request)| {
            let transport = self.transport.clone();
            async move {
                let sent = send(transport.as_ref(), &participant, &request).await;
                (participant, request, sent)
            }
        });
        for (participant, request, sent) in futures_util::future::join_all(sends).await {
            if let Err(source) = sent {
                let failed = CallResult::failed(&request, participant.as_str(), source.to_string());
                let _ = answers.send(failed);
            }
        }
        AllCalls {
            answers: receiver,
            open,
            deadline,
            waiting: self.waiting.clone(),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<CallResult>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl AllCalls {
    /// The next answer: who, and its result or error; `None` once every
    /// participant answered or the deadline passed.
    pub async fn next(&mut self) -> Option<(ParticipantId, Result<Value, CallError>)> {
        while !self.open.is_empty() {
            let answer = tokio::time::timeout_at(self.deadline, self.answers.recv()).await;
            let Ok(Some(answer)) = answer else {
                return None;
            };
            let Some(participant) = self.open.remove(&answer.id) else {
                continue; // a second answer to one request
            };
            self.forget(&answer.id);
            let outcome = answer.outcome().map_err(|message| CallError::Failed {
                participant: participant.clone(),
                message,
            });
            return Some((participant, outcome));
        }
        None
    }

    /// Those that did not answer (in id order), once [`AllCalls::next`]
    /// returned `None`.
    pub fn missing(mut self) -> Vec<ParticipantId> {
        let ids: Vec<String> = self.open.keys().cloned().collect();
        for id in &ids {
            self.forget(id);
        }
        let missing: BTreeSet<ParticipantId> = self.open.drain().map(|(_, p)| p).collect();
        missing.into_iter().collect()
    }

    fn forget(&self, id: &str) {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }
}

impl Drop for AllCalls {
    fn drop(&mut self) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        for id in self.open.keys() {
            waiting.remove(id);
        }
    }
}

/// Sends `request` to `participant`'s control queue.
async fn send(
    transport: &dyn Transport,
    participant: &ParticipantId,
    request: &CallRequest,
) -> Result<(), TransportError> {
    let queue = control::receive_queue(participant.as_str());
    let queue = QueueName::new(queue.as_str()).map_err(|e| TransportError::Broker {
        operation: "send to",
        queue,
        reason: e.to_string(),
    })?;
    transport
        .send_to_inport(&queue, Bytes::from(request.encode()))
        .await
}

/// Passes each answer to whoever waits for it, each event to `events`;
/// counts the rest.
async fn route(
    mut consumer: Consumer,
    waiting: Waiting,
    late: Arc<AtomicU64>,
    events: mpsc::Sender<Value>,
) {
    while let Some(delivery) = consumer.next().await {
        let decoded = CallResult::decode(&delivery.payload);
        let event = decoded.is_err().then(|| event(&delivery.payload)).flatten();
        if let Err(error) = delivery.ack().await {
            tracing::debug!(%error, "ack of a call answer failed");
        }
        if let Some(event) = event {
            if let Err(error) = events.try_send(event) {
                tracing::debug!(%error, "event from a participant dropped");
            }
            continue;
        }
        let answer = match decoded {
            Ok(answer) => answer,
            Err(error) => {
                tracing::debug!(%error, "dropped");
                late.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        let to = waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&answer.id)
            .cloned();
        match to {
            Some(to) if to.send(answer).is_ok() => {}
            _ => {
                late.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// `payload` as an event: an FBP frame (`protocol`, `command`, `payload`)
/// of protocol [`EVENT_PROTOCOL`].
fn event(payload: &[u8]) -> Option<Value> {
    let frame: Value = serde_json::from_slice(payload).ok()?;
    let is_event = frame["protocol"] == EVENT_PROTOCOL
        && frame["command"].is_string()
        && frame["payload"].is_object();
    is_event.then_some(frame)
}
