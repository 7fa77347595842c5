//! What the registry keeps: users, runtimes, and a runtime as the API shows
//! it (with its state at the time of asking).

use crate::expiry::{self, State};
use crate::ids::RuntimeId;
use crate::time::Timestamp;
use serde::Serialize;
use std::time::Duration;

/// A user: runtimes are registered and listed under one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// A UUID, given when the user is added; runtimes name it as `user`.
    pub id: String,
    /// The name given when the user was added (unique).
    pub name: String,
}

/// What a registration sets: everything of a runtime but its id, owner and
/// times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeFields {
    /// Where clients connect (`ws://host:3569`).
    pub address: String,
    /// How (`websocket`).
    pub protocol: String,
    /// What kind of runtime (`msgflo`, `noflo-nodejs`).
    pub kind: String,
    /// A name for people.
    pub label: Option<String>,
    /// More words for people.
    pub description: Option<String>,
    /// What clients must send to use it (FBP protocol secret).
    pub secret: Option<String>,
}

/// A registered runtime, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// Its id.
    pub id: RuntimeId,
    /// Its owner's user id.
    pub user: String,
    /// What it registered.
    pub fields: RuntimeFields,
    /// When it was first registered.
    pub registered: Timestamp,
    /// When it last registered or pinged.
    pub seen: Timestamp,
}

impl Runtime {
    /// How the API shows it at `now`.
    pub fn view(&self, now: Timestamp, offline_after: Duration) -> RuntimeView {
        let state = expiry::state(self.seen, now, offline_after);
        RuntimeView {
            id: self.id.to_string(),
            user: self.user.clone(),
            address: self.fields.address.clone(),
            protocol: self.fields.protocol.clone(),
            kind: self.fields.kind.clone(),
            label: self.fields.label.clone(),
            description: self.fields.description.clone(),
            secret: self.fields.secret.clone(),
            registered: self.registered.to_iso8601(),
            seen: self.seen.to_iso8601(),
            online: state.is_online(),
            state,
        }
    }

    /// The order of a list: by label (none first), then id.
    pub fn list_order(a: &Runtime, b: &Runtime) -> std::cmp::Ordering {
        (a.fields.label.as_deref(), &a.id).cmp(&(b.fields.label.as_deref(), &b.id))
    }
}

/// A runtime as the API answers it (Flowhub's fields, plus `online` and
/// `state`). Optional fields that were not registered are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeView {
    /// Its id.
    pub id: String,
    /// Its owner's user id.
    pub user: String,
    /// Where clients connect.
    pub address: String,
    /// How.
    pub protocol: String,
    /// What kind of runtime.
    #[serde(rename = "type")]
    pub kind: String,
    /// A name for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// More words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The FBP protocol secret (answered to its owner only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// First registered, ISO 8601 UTC.
    pub registered: String,
    /// Last registered or pinged, ISO 8601 UTC.
    pub seen: String,
    /// Whether it was seen within `offline_after`.
    pub online: bool,
    /// The same as a word.
    pub state: State,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(id: &str, label: Option<&str>, seen: i64) -> Runtime {
        Runtime {
            id: RuntimeId::parse(id).expect("a good id"),
            user: "u1".into(),
            fields: RuntimeFields {
                address: "ws://localhost:3569".into(),
                protocol: "websocket".into(),
                kind: "msgflo".into(),
                label: label.map(str::to_owned),
                description: None,
                secret: Some("s3".into()),
            },
            registered: Timestamp(1_796_637_600_123),
            seen: Timestamp(seen),
        }
    }

    #[test]
    fn the_view_has_flowhubs_fields_and_the_state() {
        let r = runtime("rt-1", Some("Main"), 1_796_637_600_123);
        let json = serde_json::to_value(
            r.view(Timestamp(1_796_637_601_000), expiry::DEFAULT_OFFLINE_AFTER),
        )
        .expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({
                "id": "rt-1", "user": "u1", "address": "ws://localhost:3569",
                "protocol": "websocket", "type": "msgflo", "label": "Main", "secret": "s3",
                "registered": "2026-12-07T10:00:00.123Z", "seen": "2026-12-07T10:00:00.123Z",
                "online": true, "state": "online"
            })
        );
    }

    #[test]
    fn a_runtime_not_seen_for_offline_after_shows_offline() {
        let r = runtime("rt-1", None, 0);
        let view = r.view(Timestamp(900_000), Duration::from_secs(900));
        assert!(!view.online);
        assert_eq!(view.state, State::Offline);
    }

    #[test]
    fn lists_sort_by_label_then_id() {
        let mut list = [
            runtime("b", Some("X"), 0),
            runtime("a", Some("X"), 0),
            runtime("c", None, 0),
            runtime("d", Some("A"), 0),
        ];
        list.sort_by(Runtime::list_order);
        let ids: Vec<_> = list.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["c", "d", "a", "b"]);
    }
}
