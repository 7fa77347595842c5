//! Performing [`Action::Call`](crate::core::Action::Call): the calls a
//! client asked for with `msgflo:call`, made with one [`Caller`] for the
//! coordinator's life (created at the first call; its answers come to
//! `.fbp.<coordinator>.calls`). Each call runs in a task of its own; each
//! answer goes back to the core as [`Event::CallAnswer`] as it comes, then
//! [`Event::CallDone`] at the end. The same caller asks graph participants
//! for their graphs ([`Calling::fetch_subgraph`]) and passes them the
//! client's edits of them and its edge selections ([`Calling::forward`]);
//! the data they send for watched edges comes to the core as
//! [`Event::SubgraphEvent`], from the moment the caller exists.

use super::Report;
use crate::calls::{CallError, Caller};
use crate::core::{Call, Event, Forward};
use msgflo_protocol::calls;
use msgflo_protocol::ids::ParticipantId;
use msgflo_transport::Transport;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, OnceCell};

/// How long a graph participant has to send its graph.
const SUBGRAPH_WAIT: Duration = Duration::from_secs(5);

/// The graph in the answer frames to `component:getsource`.
fn graph_code(frames: &Value) -> Result<String, String> {
    let first = &frames[0];
    match (first["command"].as_str(), first["payload"]["code"].as_str()) {
        (Some("source"), Some(code)) if first["payload"]["language"] == "json" => {
            Ok(code.to_owned())
        }
        _ => Err(format!("not a graph: {first}")),
    }
}

/// Makes the calls; see the module docs.
#[derive(Clone)]
pub(super) struct Calling {
    transport: Arc<dyn Transport>,
    caller: Arc<OnceCell<Caller>>,
    caller_id: String,
    report: mpsc::Sender<Report>,
}

impl Calling {
    pub(super) fn new(transport: Arc<dyn Transport>, report: mpsc::Sender<Report>) -> Self {
        Self {
            transport,
            caller: Arc::default(),
            caller_id: format!("msgflo-{}", uuid::Uuid::new_v4().simple()),
            report,
        }
    }

    /// Asks `participant` for the graph of `component` (`component:getsource`
    /// through the `fbp` call) in a task; reports [`Event::SubgraphFetched`].
    pub(super) fn fetch_subgraph(&self, participant: ParticipantId, component: String) {
        let caller = self.caller(SUBGRAPH_WAIT);
        let report = self.report.clone();
        tokio::spawn(async move {
            let ask = serde_json::json!({"protocol": "component", "command": "getsource",
                                         "payload": {"name": component}});
            let outcome = match caller.await {
                Ok(cell) => match cell.get() {
                    Some(caller) => caller
                        .call(&participant, calls::FBP, ask, SUBGRAPH_WAIT)
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|frames| graph_code(&frames)),
                    None => Err("no caller".to_owned()),
                },
                Err(error) => Err(error),
            };
            let fetched = Event::SubgraphFetched {
                participant,
                component,
                outcome,
            };
            let _ = report.send(Report::Core(fetched)).await;
        });
    }

    /// Sends `forward`'s message to its participants (the `fbp` call) in a
    /// task; reports their answers, by the deadline, as [`Event::Forwarded`].
    pub(super) fn forward(&self, forward: Forward) {
        let caller = self.caller(forward.timeout);
        let report = self.report.clone();
        tokio::spawn(async move {
            let answers = match caller.await {
                Ok(cell) => match cell.get() {
                    Some(caller) => forward_with(caller, &forward).await,
                    None => cannot_call(&forward, "no caller"),
                },
                Err(error) => cannot_call(&forward, &error),
            };
            let forwarded = Event::Forwarded { forward, answers };
            let _ = report.send(Report::Core(forwarded)).await;
        });
    }

    /// The caller, made at the first use (within `wait`).
    fn caller(
        &self,
        wait: Duration,
    ) -> impl std::future::Future<Output = Result<Arc<OnceCell<Caller>>, String>> + Send + 'static
    {
        let (transport, cell, id) = (
            self.transport.clone(),
            self.caller.clone(),
            self.caller_id.clone(),
        );
        let report = self.report.clone();
        async move {
            let make = || async move {
                let caller = Caller::new(transport, &id).await?;
                if let Some(events) = caller.events() {
                    tokio::spawn(feed_events(events, report));
                }
                Ok::<_, msgflo_transport::TransportError>(caller)
            };
            let made = tokio::time::timeout(wait, cell.get_or_try_init(make)).await;
            match made {
                Ok(Ok(_)) => Ok(cell),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err("no queue for the answers in time".into()),
            }
        }
    }

    /// Asks each of `participants` for its `health`, waiting up to `wait`:
    /// the answers, by participant id (those that did not answer, or not
    /// with a health report, are left out).
    pub(super) async fn health_all(
        &self,
        participants: &[ParticipantId],
        wait: Duration,
    ) -> std::collections::HashMap<String, calls::Health> {
        let mut answers = std::collections::HashMap::new();
        if participants.is_empty() {
            return answers;
        }
        let Ok(cell) = self.caller(wait).await else {
            return answers;
        };
        let Some(caller) = cell.get() else {
            return answers;
        };
        let mut all = caller
            .call_all(participants, calls::HEALTH, Value::Null, wait)
            .await;
        while let Some((participant, answer)) = all.next().await {
            let health = answer
                .ok()
                .and_then(|value| serde_json::from_value::<calls::Health>(value).ok());
            if let Some(health) = health {
                answers.insert(participant.to_string(), health);
            }
        }
        answers
    }

    /// Makes `call` in a task.
    pub(super) fn call(&self, call: Call) {
        let caller = self.caller(call.timeout);
        let report = self.report.clone();
        tokio::spawn(async move {
            let cell = match caller.await {
                Ok(cell) => cell,
                Err(error) => return fail_all(&report, call, &error).await,
            };
            let Some(caller) = cell.get() else {
                return fail_all(&report, call, "no caller").await;
            };
            let mut all = caller
                .call_all(
                    &call.participants,
                    &call.call,
                    call.args.clone(),
                    call.timeout,
                )
                .await;
            while let Some((participant, outcome)) = all.next().await {
                let outcome = outcome.map_err(|error| match error {
                    CallError::Failed { message, .. } => message,
                    other => other.to_string(),
                });
                let answer = Event::CallAnswer {
                    client: call.client,
                    request_id: call.request_id.clone(),
                    participant,
                    outcome,
                };
                if report.send(Report::Core(answer)).await.is_err() {
                    return;
                }
            }
            let done = Event::CallDone {
                client: call.client,
                request_id: call.request_id,
                missing: all.missing(),
            };
            let _ = report.send(Report::Core(done)).await;
        });
    }
}

/// No caller: every participant's answer is `error`, and none is missing.
async fn fail_all(report: &mpsc::Sender<Report>, call: Call, error: &str) {
    for participant in call.participants {
        let answer = Event::CallAnswer {
            client: call.client,
            request_id: call.request_id.clone(),
            participant,
            outcome: Err(format!("cannot call: {error}")),
        };
        let _ = report.send(Report::Core(answer)).await;
    }
    let done = Event::CallDone {
        client: call.client,
        request_id: call.request_id,
        missing: Vec::new(),
    };
    let _ = report.send(Report::Core(done)).await;
}

/// Calls `fbp` with `forward`'s message on each of its participants; the
/// answers of those that answered by the deadline.
async fn forward_with(
    caller: &Caller,
    forward: &Forward,
) -> Vec<(ParticipantId, Result<Value, String>)> {
    let mut all = caller
        .call_all(
            &forward.participants,
            calls::FBP,
            forward.message.clone(),
            forward.timeout,
        )
        .await;
    let mut answers = Vec::new();
    while let Some((participant, outcome)) = all.next().await {
        let outcome = outcome.map_err(|error| match error {
            CallError::Failed { message, .. } => message,
            other => other.to_string(),
        });
        answers.push((participant, outcome));
    }
    answers
}

/// No caller: every participant of `forward` failed with `error`.
fn cannot_call(forward: &Forward, error: &str) -> Vec<(ParticipantId, Result<Value, String>)> {
    forward
        .participants
        .iter()
        .map(|p| (p.clone(), Err(format!("cannot call: {error}"))))
        .collect()
}

/// Passes the caller's events (what graph participants send for watched
/// edges) to the core, until either end goes.
async fn feed_events(mut events: mpsc::Receiver<Value>, report: mpsc::Sender<Report>) {
    while let Some(frame) = events.recv().await {
        if report
            .send(Report::Core(Event::SubgraphEvent(frame)))
            .await
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
#[path = "calling_tests.rs"]
mod tests;
