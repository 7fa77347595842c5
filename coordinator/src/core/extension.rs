//! The msgflo-rs extension of the FBP protocol: sub-protocol `msgflo`, for
//! tools rather than IDEs. Its one command, `participants` (payload `{}`
//! plus the secret, if one is set), is answered with the registry and the
//! graph's nodes that no participant serves:
//!
//! ```json
//! {"protocol":"msgflo","command":"participants","payload":{"participants":[
//!   {"id":"repeater-1","role":"repeater","component":"Repeat", ...,
//!    "inports":[...],"outports":[...],"first_seen_ms_ago":5012,"last_seen_ms_ago":12}],
//!  "pending":[{"role":"helloA","component":"Hello","reason":"waiting for ..."}],
//!  "forwarded":[{"outport":"a.OUT","inport":"shout/in"}]}}
//! ```
//!
//! Each participant is what it said in its last discovery message, plus
//! when it was first and last heard of; each pending node says why nothing
//! serves it (`pending.rs`); each forwarded edge is one whose messages the
//! coordinator passes on, for a participant that takes no `connectinport`. Another `msgflo` command gets `msgflo:error`.

use super::Core;
use crate::registry::Entry;
use crate::server::ClientId;
use serde_json::{json, Value};
use std::time::Instant;

/// The sub-protocol's name.
pub const PROTOCOL: &str = "msgflo";

impl Core {
    /// Answers a `msgflo:*` command (the secret was checked).
    pub(super) fn extension(
        &mut self,
        client: ClientId,
        command: &str,
        request_id: Option<&str>,
        now: Instant,
    ) {
        let mut reply = match command {
            "participants" => {
                let participants: Vec<Value> =
                    self.registry.entries().map(|e| describe(e, now)).collect();
                let pending = serde_json::to_value(self.pending_nodes()).unwrap_or_default();
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
                                   "forwarded": forwarded}})
            }
            other => json!({"protocol": PROTOCOL, "command": "error",
                            "payload": {"message": format!("unknown command msgflo:{other}")}}),
        };
        if let Some(id) = request_id {
            reply["responseTo"] = json!(id);
        }
        self.out.push(super::Action::Answer {
            client,
            text: reply.to_string(),
        });
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
