//! The observer: while someone reads the live view or `/metrics` (asked
//! within [`LINGER`]), every [`EVERY`] it asks each participant the view
//! shows for its `health` (a participant call; those that do not answer
//! within the round are left out) and the broker how many messages wait in
//! each inport queue the graph's edges feed (AMQP: passive declares; MQTT
//! says nothing). It keeps the last two observations, so that
//! [`crate::view::numbers`] can tell rates; the event loop reads them
//! without waiting. Nobody reading: no calls, no broker traffic.

use super::calling::Calling;
use crate::view::numbers::{numbers, Observation};
use crate::view::{Numbers, Topology};
use msgflo_protocol::ids::{ParticipantId, QueueName};
use msgflo_transport::Transport;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often it observes while asked.
pub const EVERY: Duration = Duration::from_secs(1);
/// How long it goes on after the last question (a Prometheus scrape
/// interval is 15 s by default; 60 s covers a slow one).
pub const LINGER: Duration = Duration::from_secs(60);

/// What to observe, and when it was last asked for.
#[derive(Debug, Clone, Default)]
struct Wanted {
    participants: Vec<ParticipantId>,
    queues: Vec<QueueName>,
    asked: Option<Instant>,
}

/// The last two observations.
#[derive(Debug, Default)]
struct Kept {
    now: Option<Observation>,
    before: Option<Observation>,
}

/// See the module docs.
pub(super) struct Observer {
    wanted: watch::Sender<Wanted>,
    kept: Arc<Mutex<Kept>>,
    task: tokio::task::JoinHandle<()>,
}

impl Observer {
    /// An observer asking through `calling` and `transport`; idle until
    /// asked.
    pub(super) fn new(transport: Arc<dyn Transport>, calling: Calling) -> Self {
        let (wanted, watching) = watch::channel(Wanted::default());
        let kept = Arc::new(Mutex::new(Kept::default()));
        let task = tokio::spawn(observe(transport, calling, watching, kept.clone()));
        Self { wanted, kept, task }
    }

    /// The numbers of `topology` as last observed; observing goes on (or
    /// starts) for what it shows.
    pub(super) fn numbers(&self, topology: &Topology, at: Instant) -> Numbers {
        let participants: BTreeSet<&str> = topology
            .nodes
            .iter()
            .flat_map(|n| n.participants.iter().map(|m| m.id.as_str()))
            .collect();
        let queues: BTreeSet<&str> = topology
            .edges
            .iter()
            .flat_map(|e| e.routes.iter().filter_map(|r| r.target_queue.as_deref()))
            .collect();
        self.wanted.send_replace(Wanted {
            participants: participants
                .into_iter()
                .filter_map(|p| ParticipantId::new(p).ok())
                .collect(),
            queues: queues
                .into_iter()
                .filter_map(|q| QueueName::new(q).ok())
                .collect(),
            asked: Some(at),
        });
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        numbers(topology, kept.now.as_ref(), kept.before.as_ref(), at)
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Observes while asked; see the module docs.
async fn observe(
    transport: Arc<dyn Transport>,
    calling: Calling,
    mut watching: watch::Receiver<Wanted>,
    kept: Arc<Mutex<Kept>>,
) {
    loop {
        let wanted = watching.borrow_and_update().clone();
        let asked = wanted.asked.is_some_and(|at| at.elapsed() < LINGER);
        if !asked {
            if watching.changed().await.is_err() {
                return;
            }
            continue;
        }
        let started = tokio::time::Instant::now();
        let observation = round(transport.as_ref(), &calling, &wanted).await;
        {
            let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
            kept.before = kept.now.replace(observation);
        }
        tokio::time::sleep_until(started + EVERY).await;
    }
}

/// One observation: the calls and the broker's counts at once, each
/// within most of a round.
async fn round(transport: &dyn Transport, calling: &Calling, wanted: &Wanted) -> Observation {
    let at = Instant::now();
    let wait = EVERY.mul_f64(0.8);
    let health = calling.health_all(&wanted.participants, wait);
    let depths = async {
        if wanted.queues.is_empty() {
            return HashMap::new();
        }
        let counted = tokio::time::timeout(wait, transport.inport_depths(&wanted.queues)).await;
        match counted {
            Ok(Ok(depths)) => wanted
                .queues
                .iter()
                .zip(depths)
                .filter_map(|(q, d)| Some((q.to_string(), d?)))
                .collect(),
            Ok(Err(error)) => {
                tracing::debug!(%error, "counting the messages in the graph's queues failed");
                HashMap::new()
            }
            Err(_) => HashMap::new(),
        }
    };
    let (health, depths) = tokio::join!(health, depths);
    Observation { at, health, depths }
}
