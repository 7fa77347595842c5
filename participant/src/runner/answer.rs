//! Answering calls ([`msgflo_protocol::calls`]): a `call` control message
//! is answered in a task of its own, so a slow handler holds up neither the
//! control queue nor other calls. The built-in calls come first (`health`,
//! `drain`, `set-prefetch`), then the participant's own
//! ([`Options::calls`](super::Options::calls)). A request taken after its
//! deadline is dropped unanswered (the caller stopped waiting), and so is
//! an answer not ready by then; both are counted.

use super::stats::Stats;
use crate::calls::{Calls, BUILT_IN};
use crate::transport::Transport;
use bytes::Bytes;
use msgflo_protocol::calls::{self, unix_ms, BrokerState, CallRequest, CallResult, SetPrefetch};
use msgflo_protocol::ids::QueueName;
use msgflo_protocol::queues::is_control;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the calls can see and change.
pub(crate) struct Answering {
    /// This participant's id, in every answer.
    pub participant: String,
    pub transport: Arc<dyn Transport>,
    pub stats: Arc<Stats>,
    pub calls: Calls,
    /// Set by `drain`: the participant stops as on SIGTERM.
    pub drain: watch::Sender<bool>,
    /// The inports' queues, whose prefetch `set-prefetch` changes.
    pub inports: Vec<QueueName>,
    /// Set by `set-prefetch`: how many messages the inport loops take on
    /// at once.
    pub prefetch: watch::Sender<u16>,
    /// A graph participant's FBP runtime, for the `fbp` call.
    pub runtime: Option<Arc<super::fbp::Runtime>>,
    /// Requests dropped because they came after their deadline, and
    /// answers not ready by then.
    pub late: AtomicU64,
}

impl Answering {
    /// Answers `request` in a task of its own.
    pub(crate) fn answer(self: &Arc<Self>, request: CallRequest) {
        let this = Arc::clone(self);
        tokio::spawn(async move { this.answer_now(request).await });
    }

    async fn answer_now(&self, request: CallRequest) {
        let Ok(reply_to) = QueueName::new(request.reply_to.as_str()) else {
            tracing::warn!(call = %request.call, reply_to = %request.reply_to, "call with a reply queue that is no queue name; not answered");
            return;
        };
        if !is_control(reply_to.as_str()) {
            tracing::warn!(call = %request.call, %reply_to, "call whose answer would go to a data queue; not answered");
            return;
        }
        let left = request.deadline.saturating_sub(unix_ms());
        if left == 0 {
            self.late(&request, "taken after its deadline");
            return;
        }
        let run = self.run(&request.call, request.args.clone(), &reply_to);
        let Ok(outcome) = tokio::time::timeout(Duration::from_millis(left), run).await else {
            self.late(&request, "not answered by its deadline");
            return;
        };
        let answer = match outcome {
            Ok(result) => CallResult::ok(&request, &self.participant, result),
            Err(error) => CallResult::failed(&request, &self.participant, error),
        };
        let sent = self
            .transport
            .send_to_inport(&reply_to, Bytes::from(answer.encode()))
            .await;
        if let Err(error) = sent {
            tracing::debug!(call = %request.call, %error, "cannot send the answer to a call");
        }
        if request.call == calls::DRAIN {
            // After the answer: stopping closes the connection.
            tracing::info!("drain asked for: taking no more input, finishing what is in flight");
            self.drain.send_replace(true);
        }
    }

    fn late(&self, request: &CallRequest, what: &str) {
        let late = self.late.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(call = %request.call, id = %request.id, late, "call {what}; dropped");
    }

    /// Runs call `name`: a built-in one, else the participant's own;
    /// events it starts (`fbp` watching edges) go to `reply_to`.
    async fn run(&self, name: &str, args: Value, reply_to: &QueueName) -> Result<Value, String> {
        match name {
            calls::HEALTH => {
                let broker = BrokerState {
                    url: self.transport.broker().to_string(),
                    connected: self.transport.is_connected(),
                    reconnects: self.transport.reconnects(),
                };
                serde_json::to_value(self.stats.health(broker)).map_err(|e| e.to_string())
            }
            calls::DRAIN => {
                // The switch is turned once the answer is out (`answer_now`).
                self.stats.set_draining();
                Ok(json!({"draining": true}))
            }
            calls::SET_PREFETCH => {
                let SetPrefetch { prefetch } = serde_json::from_value(args)
                    .map_err(|e| format!("the arguments of \"set-prefetch\" do not fit: {e}"))?;
                if prefetch == 0 {
                    return Err("set-prefetch: the prefetch must be at least 1".into());
                }
                for queue in &self.inports {
                    self.transport
                        .set_prefetch(queue, prefetch)
                        .await
                        .map_err(|e| format!("set-prefetch: {e}"))?;
                }
                self.prefetch.send_replace(prefetch);
                self.stats.set_prefetch(prefetch);
                tracing::info!(prefetch, "prefetch changed");
                serde_json::to_value(SetPrefetch { prefetch }).map_err(|e| e.to_string())
            }
            calls::FBP => match &self.runtime {
                Some(runtime) => Ok(Value::Array(runtime.answer(&args, reply_to).await)),
                None => Err(
                    "fbp: this participant runs one component, not a graph: it is no FBP runtime"
                        .into(),
                ),
            },
            calls::SAVE => match &self.runtime {
                Some(runtime) => runtime.save().await,
                None => Err("save: this participant runs one component, not a graph".into()),
            },
            own => match self.calls.run(own, args) {
                Some(running) => running.await,
                None => Err(self.unknown(own)),
            },
        }
    }

    fn unknown(&self, name: &str) -> String {
        let mut known: Vec<&str> = BUILT_IN.to_vec();
        known.extend(self.calls.names());
        known.sort_unstable();
        format!(
            "unknown call {name:?} (this participant answers {})",
            known.join(", ")
        )
    }
}
