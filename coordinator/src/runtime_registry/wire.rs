//! The registry's JSON, as Flowhub's runtime registry API has it (and npm
//! `flowhub-registry` 0.2.0 sends it): what a coordinator registers
//! ([`Registration`]), what a list answers ([`Listed`]) and who a token
//! belongs to ([`User`]).

use serde::{Deserialize, Serialize};

/// The body of `PUT /runtimes/:id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// The runtime id (the path's id too).
    pub id: String,
    /// The owner's user id.
    pub user: String,
    /// Where a browser reaches the runtime: `ws://HOST:PORT` or `wss://...`.
    pub address: String,
    /// Always `websocket` for a coordinator.
    pub protocol: String,
    /// Always `msgflo` for a coordinator.
    #[serde(rename = "type")]
    pub kind: String,
    /// What the editor shows.
    pub label: String,
    /// Optional longer text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The FBP protocol secret, so the editor can connect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// One runtime as `GET /runtimes/` lists it. Lenient: only `id` is needed,
/// so a registry with fewer fields still lists; fields not named here are
/// kept in `other`, so it serialises back to what the registry sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Listed {
    /// The runtime id.
    pub id: String,
    /// The owner's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Its label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Its type (`msgflo`, `noflo-nodejs`, ...).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Where to reach it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Its protocol (`websocket`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `online` or `offline` (msgflo-registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Whether it pinged recently (msgflo-registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// When it last registered or pinged, ISO 8601 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
    /// When it first registered, ISO 8601 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<String>,
    /// Whatever else the registry says of it.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Listed {
    /// `online`/`offline` as the registry says it (`state`, else `online`),
    /// `-` when it says neither.
    pub fn state(&self) -> &str {
        match (&self.state, self.online) {
            (Some(state), _) => state,
            (None, Some(true)) => "online",
            (None, Some(false)) => "offline",
            (None, None) => "-",
        }
    }
}

/// `GET /user`: the token's user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The user id runtimes are registered under.
    pub id: String,
    /// The user's name.
    #[serde(default)]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_registration_has_flowhubs_field_names_and_leaves_out_what_is_unset() {
        let registration = Registration {
            id: "rt-1".into(),
            user: "u-1".into(),
            address: "ws://10.0.0.5:3569".into(),
            protocol: "websocket".into(),
            kind: "msgflo".into(),
            label: "msgflo on box".into(),
            description: None,
            secret: Some("s".into()),
        };
        assert_eq!(
            serde_json::to_value(&registration).expect("serialises"),
            json!({"id": "rt-1", "user": "u-1", "address": "ws://10.0.0.5:3569",
                   "protocol": "websocket", "type": "msgflo", "label": "msgflo on box",
                   "secret": "s"})
        );
    }

    #[test]
    fn a_listed_runtime_needs_only_an_id_and_says_its_state() {
        let full: Listed = serde_json::from_value(json!({
            "id": "rt-1", "user": "u", "address": "ws://h:1", "protocol": "websocket",
            "type": "msgflo", "label": "L", "registered": "2026-12-07T10:00:00.123Z",
            "seen": "2026-12-07T10:05:00.000Z", "online": false, "state": "offline",
            "extra": 1
        }))
        .expect("parses");
        assert_eq!(full.kind.as_deref(), Some("msgflo"));
        assert_eq!(full.state(), "offline");
        assert_eq!(full.other.get("extra"), Some(&json!(1)));
        let again = serde_json::to_value(&full).expect("serialises");
        assert_eq!((&again["user"], &again["extra"]), (&json!("u"), &json!(1)));
        let bare: Listed = serde_json::from_value(json!({"id": "x", "online": true})).expect("id");
        assert_eq!(bare.state(), "online");
        // What it did not say is not added.
        let again = serde_json::to_value(&bare).expect("serialises");
        assert_eq!(again, json!({"id": "x", "online": true}));
        assert!(serde_json::from_value::<Listed>(json!({"label": "no id"})).is_err());
    }
}
