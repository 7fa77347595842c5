//! The msgflo-rs extension of the FBP protocol: sub-protocol `msgflo`, for
//! tools rather than IDEs (the secret or a token, if they are set, as for
//! any command: `participants` is a read, `call` needs the edit right).
//!
//! `participants` (payload `{}`) is answered with the registry and the
//! graph's nodes that no participant serves:
//!
//! ```json
//! {"protocol":"msgflo","command":"participants","payload":{"participants":[
//!   {"id":"repeater-1","role":"repeater","component":"Repeat", ...,
//!    "inports":[...],"outports":[...],"first_seen_ms_ago":5012,"last_seen_ms_ago":12}],
//!  "pending":[{"role":"helloA","component":"Hello","reason":"waiting for ..."}],
//!  "forwarded":[{"outport":"a.OUT","inport":"shout/in"}],
//!  "restarted":[{"role":"helloB","restarts":2,"state":"running"}]}}
//! ```
//!
//! Each participant is what it said in its last discovery message, plus
//! when it was first and last heard of; each pending node says why nothing
//! serves it (`pending.rs`); each forwarded edge is one whose messages the
//! coordinator passes on, for a participant that takes no `connectinport`;
//! each restarted role is one whose participant, started here, exited on its
//! own and was started again (`state` `running` or `waiting`) or given up
//! on (`failed`) (`restarts.rs`).
//!
//! `call` calls participants ([`crate::calls`]): payload `{"call": NAME,
//! "args": ..., "role": R, "participants": [ID, ...], "timeout": MS}`
//! (`call` required; `args` default `null`; `role` and `participants`
//! choose whom, default every participant in the registry; `timeout`
//! default 2000, at most 60000). Each answer comes as
//! `msgflo:callresult {"participant", "result"}` or `{"participant",
//! "error"}`, as it arrives; then `msgflo:calldone {"missing": [ID, ...]}`
//! once all answered or the timeout passed. All
//! carry the request's `requestId` as `responseTo`. Nobody to call, or a
//! payload that does not fit, is a `msgflo:error`.
//!
//! Another `msgflo` command gets `msgflo:error`.

use super::{Action, Core};
use crate::registry::Entry;
use crate::server::ClientId;
use msgflo_protocol::ids::ParticipantId;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The sub-protocol's name.
pub const PROTOCOL: &str = "msgflo";

/// How long a `msgflo:call` waits when it does not say.
const CALL_TIMEOUT_MS: u64 = 2000;
/// The longest a `msgflo:call` may wait.
const CALL_TIMEOUT_MAX_MS: u64 = 60_000;

/// A `msgflo:*` request.
pub(super) struct Request<'a> {
    pub command: &'a str,
    pub payload: &'a Value,
    /// Its `requestId`.
    pub id: Option<&'a str>,
}

/// The payload of `msgflo:call`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallPayload {
    call: String,
    #[serde(default)]
    args: Value,
    role: Option<String>,
    participants: Option<Vec<ParticipantId>>,
    timeout: Option<u64>,
}

impl Core {
    /// Answers a `msgflo:*` command (the secret was checked).
    pub(super) fn extension(&mut self, client: ClientId, request: Request<'_>, now: Instant) {
        let request_id = request.id;
        let mut reply = match request.command {
            "call" => match self.call(client, request.payload, request_id) {
                Ok(()) => return,
                Err(message) => json!({"protocol": PROTOCOL, "command": "error",
                                       "payload": {"message": message}}),
            },
            "participants" => {
                let participants: Vec<Value> =
                    self.registry.entries().map(|e| describe(e, now)).collect();
                let pending = serde_json::to_value(self.pending_nodes()).unwrap_or_default();
                let restarted = serde_json::to_value(self.restarted()).unwrap_or_default();
                let forwarded: Vec<Value> = self
                    .links
                    .applied()
                    .iter()
                    .filter_map(|link| match link {
                        crate::bindings::Link::Forward { outport, inport } => {
                            Some(json!({"outport": outport, "inport": inport}))
                        }
                        _ => None,
                    })
                    .collect();
                json!({"protocol": PROTOCOL, "command": "participants",
                       "payload": {"participants": participants, "pending": pending,
                                   "forwarded": forwarded, "restarted": restarted}})
            }
            other => json!({"protocol": PROTOCOL, "command": "error",
                            "payload": {"message": format!("unknown command msgflo:{other}")}}),
        };
        self.extension_answer(client, request_id, &mut reply);
    }

    pub(super) fn extension_answer(
        &mut self,
        client: ClientId,
        request_id: Option<&str>,
        reply: &mut Value,
    ) {
        if let Some(id) = request_id {
            reply["responseTo"] = json!(id);
        }
        self.out.push(Action::Answer {
            client,
            text: reply.to_string(),
        });
    }

    /// `msgflo:call`: whom to call, then [`Action::Call`]; `Err` says why
    /// not.
    fn call(
        &mut self,
        client: ClientId,
        payload: &Value,
        request_id: Option<&str>,
    ) -> Result<(), String> {
        let payload = CallPayload::deserialize(payload).map_err(|e| format!("msgflo:call: {e}"))?;
        let timeout = payload.timeout.unwrap_or(CALL_TIMEOUT_MS);
        if timeout == 0 || timeout > CALL_TIMEOUT_MAX_MS {
            return Err(format!(
                "msgflo:call: timeout {timeout} ms: from 1 to {CALL_TIMEOUT_MAX_MS}"
            ));
        }
        let participants: Vec<ParticipantId> = match &payload.participants {
            Some(ids) => ids.clone(),
            None => self
                .registry
                .entries()
                .filter(|e| {
                    payload
                        .role
                        .as_ref()
                        .is_none_or(|r| e.participant.role.as_str() == r)
                })
                .map(|e| e.participant.id.clone())
                .collect(),
        };
        if participants.is_empty() {
            return Err(match &payload.role {
                Some(role) => format!("msgflo:call: no participant of role {role} to call"),
                None => "msgflo:call: no participant to call".into(),
            });
        }
        self.out.push(Action::Call(super::Call {
            client,
            request_id: request_id.map(str::to_owned),
            call: payload.call,
            args: payload.args,
            participants,
            timeout: Duration::from_millis(timeout),
        }));
        Ok(())
    }

    /// One answer to a client's `msgflo:call`.
    pub(super) fn call_answered(
        &mut self,
        client: ClientId,
        request_id: Option<&str>,
        participant: &ParticipantId,
        outcome: Result<Value, String>,
    ) {
        let payload = match outcome {
            Ok(result) => json!({"participant": participant, "result": result}),
            Err(error) => json!({"participant": participant, "error": error}),
        };
        let mut reply = json!({"protocol": PROTOCOL, "command": "callresult", "payload": payload});
        self.extension_answer(client, request_id, &mut reply);
    }

    /// A client's `msgflo:call` ended.
    pub(super) fn call_done(
        &mut self,
        client: ClientId,
        request_id: Option<&str>,
        missing: &[ParticipantId],
    ) {
        let mut reply = json!({"protocol": PROTOCOL, "command": "calldone",
                               "payload": {"missing": missing}});
        self.extension_answer(client, request_id, &mut reply);
    }
}

/// One registry entry as the reply lists it.
fn describe(entry: &Entry, now: Instant) -> Value {
    let mut value = serde_json::to_value(&entry.participant).unwrap_or_else(|_| json!({}));
    let ms_ago = |at: Instant| {
        u64::try_from(now.saturating_duration_since(at).as_millis()).unwrap_or(u64::MAX)
    };
    if let Value::Object(map) = &mut value {
        map.insert("first_seen_ms_ago".into(), json!(ms_ago(entry.first_seen)));
        map.insert("last_seen_ms_ago".into(), json!(ms_ago(entry.last_seen)));
    }
    value
}
