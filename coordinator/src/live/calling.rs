//! Performing [`Action::Call`](crate::core::Action::Call): the calls a
//! client asked for with `msgflo:call`, made with one [`Caller`] for the
//! coordinator's life (created at the first call; its answers come to
//! `.fbp.<coordinator>.calls`). Each call runs in a task of its own; each
//! answer goes back to the core as [`Event::CallAnswer`] as it comes, then
//! [`Event::CallDone`] at the end.

use super::Report;
use crate::calls::{CallError, Caller};
use crate::core::Event;
use crate::server::ClientId;
use msgflo_protocol::ids::ParticipantId;
use msgflo_transport::Transport;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, OnceCell};

/// One client's call.
pub(super) struct Call {
    pub client: ClientId,
    pub request_id: Option<String>,
    pub call: String,
    pub args: Value,
    pub participants: Vec<ParticipantId>,
    pub timeout: Duration,
}

/// Makes the calls; see the module docs.
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

    /// Makes `call` in a task.
    pub(super) fn call(&self, call: Call) {
        let (transport, caller, caller_id) = (
            self.transport.clone(),
            self.caller.clone(),
            self.caller_id.clone(),
        );
        let report = self.report.clone();
        tokio::spawn(async move {
            let made = tokio::time::timeout(
                call.timeout,
                caller.get_or_try_init(|| Caller::new(transport, &caller_id)),
            )
            .await;
            let caller = match made {
                Ok(Ok(caller)) => caller,
                Ok(Err(error)) => return fail_all(&report, call, &error.to_string()).await,
                Err(_) => return fail_all(&report, call, "no queue for the answers in time").await,
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
