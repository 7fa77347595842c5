//! One participant as `msgflo-participants` lists it ([`Listed`]): its
//! discovery payload and when it was heard of, to and from the JSON of a
//! `msgflo:participants` reply. Printed by [`super::table`].

use msgflo_protocol::discovery::Participant;
use serde_json::{json, Value};

/// One participant as listed: what it announced, and when it was heard of.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// Its last discovery message's payload.
    pub participant: Participant,
    /// Milliseconds since it was first heard of.
    pub first_seen_ms_ago: u64,
    /// Milliseconds since it was last heard of.
    pub last_seen_ms_ago: u64,
}

impl Listed {
    /// The participant as JSON: its discovery payload plus the two times.
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(&self.participant).unwrap_or_else(|_| json!({}));
        if let Value::Object(map) = &mut value {
            map.insert("first_seen_ms_ago".into(), json!(self.first_seen_ms_ago));
            map.insert("last_seen_ms_ago".into(), json!(self.last_seen_ms_ago));
        }
        value
    }

    /// Reads one entry of a `msgflo:participants` reply.
    pub fn from_json(mut value: Value) -> Result<Self, String> {
        let mut take = |key: &str| {
            value
                .as_object_mut()
                .and_then(|m| m.shift_remove(key))
                .and_then(|v| v.as_u64())
                .unwrap_or_default()
        };
        let first_seen_ms_ago = take("first_seen_ms_ago");
        let last_seen_ms_ago = take("last_seen_ms_ago");
        let participant = serde_json::from_value(value).map_err(|e| {
            format!("the coordinator listed a participant this tool cannot read: {e}")
        })?;
        Ok(Self {
            participant,
            first_seen_ms_ago,
            last_seen_ms_ago,
        })
    }
}
