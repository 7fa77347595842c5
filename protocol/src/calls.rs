//! Calls: a caller (the coordinator, `msgflo-participants --call`) asks a
//! participant to run a named function and gets its answer — reverse RPC
//! over the broker, on the participant's control queue.
//!
//! The request goes to the participant's `.fbp.<id>.receive` like any
//! control message (protocol `participant`, command `call`); the answer goes
//! to the queue the request names in `reply_to` (the caller's own, so
//! several callers never take each other's answers), command `callresult`:
//!
//! ```json
//! {"protocol":"participant","command":"call","payload":{
//!   "id":"7f3c…","call":"health","args":null,
//!   "reply_to":".fbp.caller-1.calls","deadline":1765040000000}}
//! {"protocol":"participant","command":"callresult","payload":{
//!   "id":"7f3c…","participant":"repeat-1","result":{"uptime_ms":1200,…}}}
//! ```
//!
//! - `id` matches the answer to the request; `deadline` (Unix time, ms) is
//!   when the caller stops waiting: a participant drops a request it takes
//!   after that, unanswered.
//! - The answer has `result` (any JSON) or `error` (one line: an unknown
//!   call, arguments that do not fit, the handler's own error).
//! - Built-in calls every msgflo-rs participant answers: [`HEALTH`]
//!   ([`Health`]), [`DRAIN`] and [`SET_PREFETCH`] ([`SetPrefetch`]).

use crate::queues::CONTROL_PREFIX;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The envelope's `protocol`: calls are control messages (the same value
/// as `control::PROTOCOL`; `control` depends on this module, not the other
/// way round).
const PROTOCOL: &str = "participant";

/// The control command of a request.
pub const CALL: &str = "call";
/// The command of an answer.
pub const RESULT: &str = "callresult";

/// `health`: how the participant is doing ([`Health`]).
pub const HEALTH: &str = "health";
/// `drain`: stop taking input, finish and ack what is in flight, exit 0.
/// Answered (`{"draining": true}`) before it starts.
pub const DRAIN: &str = "drain";

/// `set-prefetch` ([`SetPrefetch`]): how many unacked messages each
/// inport takes at once from now on (until the participant restarts).
pub const SET_PREFETCH: &str = "set-prefetch";

/// `fbp`: an FBP protocol message for a graph participant's runtime (the
/// args: `{protocol, command, payload}`); the result is the array of its
/// answer frames.
pub const FBP: &str = "fbp";

/// `save`: a graph participant writes its graph, as edited live, back to
/// the file it came from (result: `{"saved": "<path>"}`).
pub const SAVE: &str = "save";

/// The queue a caller takes answers from: transient, like a participant's
/// control queues (`.fbp.<caller>.calls`).
pub fn reply_queue(caller_id: &str) -> String {
    format!("{CONTROL_PREFIX}{caller_id}.calls")
}

/// Now, in Unix milliseconds (how [`CallRequest::deadline`] counts).
pub fn unix_ms() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// A call request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRequest {
    /// Matches the answer to the request.
    pub id: String,
    /// The function to run.
    pub call: String,
    /// Its arguments (`null` when it takes none).
    #[serde(default)]
    pub args: Value,
    /// Where the answer goes.
    pub reply_to: String,
    /// Unix time (ms) after which the caller no longer waits.
    pub deadline: u64,
}

/// The answer to a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    /// The request's id.
    pub id: String,
    /// Who answered.
    pub participant: String,
    /// The result, when the call succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An answer that is not one.
#[derive(Debug, thiserror::Error)]
pub enum CallResultError {
    /// Not JSON, or not a `participant` / `callresult` envelope with an
    /// answer's payload.
    #[error("not a call answer: {0}")]
    Malformed(String),
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    protocol: String,
    command: String,
    payload: T,
}

impl CallRequest {
    /// The request as sent on the wire.
    pub fn encode(&self) -> Vec<u8> {
        encode(CALL, self)
    }
}

impl CallResult {
    /// A successful answer.
    pub fn ok(request: &CallRequest, participant: &str, result: Value) -> Self {
        Self {
            id: request.id.clone(),
            participant: participant.to_owned(),
            result: Some(result),
            error: None,
        }
    }

    /// A failed answer.
    pub fn failed(request: &CallRequest, participant: &str, error: impl Into<String>) -> Self {
        Self {
            id: request.id.clone(),
            participant: participant.to_owned(),
            result: None,
            error: Some(error.into()),
        }
    }

    /// The answer as sent on the wire.
    pub fn encode(&self) -> Vec<u8> {
        encode(RESULT, self)
    }

    /// Reads an answer.
    pub fn decode(bytes: &[u8]) -> Result<Self, CallResultError> {
        let bad = |e: serde_json::Error| CallResultError::Malformed(e.to_string());
        let envelope: Envelope<Value> = serde_json::from_slice(bytes).map_err(bad)?;
        if envelope.protocol != PROTOCOL || envelope.command != RESULT {
            return Err(CallResultError::Malformed(format!(
                "protocol {:?}, command {:?}",
                envelope.protocol, envelope.command
            )));
        }
        serde_json::from_value(envelope.payload).map_err(bad)
    }

    /// The result, or the participant's error.
    pub fn outcome(self) -> Result<Value, String> {
        match (self.result, self.error) {
            (_, Some(error)) => Err(error),
            (Some(result), None) => Ok(result),
            (None, None) => Ok(Value::Null),
        }
    }
}

fn encode<T: Serialize>(command: &str, payload: &T) -> Vec<u8> {
    let envelope = Envelope {
        protocol: PROTOCOL.to_owned(),
        command: command.to_owned(),
        payload,
    };
    // Strings, numbers and JSON values only: serialising cannot fail.
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// The arguments of [`SET_PREFETCH`], and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPrefetch {
    /// Unacked messages per inport, at least 1.
    pub prefetch: u16,
}

/// The answer to [`HEALTH`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Since the participant started.
    pub uptime_ms: u64,
    /// Messages taken and not settled yet.
    pub in_flight: u64,
    /// Per inport: messages acked and dead-lettered.
    pub ports: BTreeMap<String, PortCounts>,
    /// Per outport: messages sent (confirmed by the broker), however many
    /// queues the port feeds. Left out when empty, and empty when read
    /// from a participant that does not say (older ones).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sent: BTreeMap<String, u64>,
    /// The last failure, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<LastError>,
    /// The broker connection.
    pub broker: BrokerState,
    /// Unacked messages each inport takes at once.
    pub prefetch: u16,
    /// A drain was asked for: no more input is taken.
    #[serde(default)]
    pub draining: bool,
    /// Links of nodes fed from outside (`core/Remote` bridges), by node:
    /// their state in one line (`connected to ws://...`, `connecting ...`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub links: BTreeMap<String, String>,
}

/// Counts of one inport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortCounts {
    /// Handled and acked.
    pub processed: u64,
    /// Failed and dead-lettered.
    pub failed: u64,
}

/// A failure, and how long ago it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    /// What went wrong (one line).
    pub message: String,
    /// How long ago.
    pub ms_ago: u64,
}

/// The broker connection as the participant sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerState {
    /// The broker (no password).
    pub url: String,
    /// Connected now.
    pub connected: bool,
    /// How many times the connection was made again after it was lost
    /// (0 when not said: older participants).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reconnects: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
