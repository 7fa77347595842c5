//! The body of `PUT /runtimes/{id}`: Flowhub's runtime object as
//! flowhub-registry sends it. Fields the registry sets (`registered`,
//! `seen`, `online`, `state`) and any it does not know are ignored, so a
//! client may send back what it was given; `null` counts as absent. No
//! field may hold an ASCII control character (U+0000 to U+001F, U+007F):
//! none is needed, and PostgreSQL cannot store U+0000 in text.

use super::error::ApiError;
use crate::ids::RuntimeId;
use crate::model::{RuntimeFields, User};
use serde::Deserialize;

/// A registration as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a runtime object")]
pub struct Registration {
    id: Option<String>,
    user: Option<String>,
    address: Option<String>,
    protocol: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    label: Option<String>,
    description: Option<String>,
    secret: Option<String>,
}

impl Registration {
    /// The fields to store for runtime `id` of `caller`: 400 for a control
    /// character in any field, a missing or empty required field, an
    /// address that is not a URL or an `id` other than the path's; 403 for
    /// a `user` other than the caller.
    pub fn check(self, id: &RuntimeId, caller: &User) -> Result<RuntimeFields, ApiError> {
        self.no_control_characters()?;
        if let Some(body_id) = &self.id {
            if body_id != id.as_str() {
                return Err(ApiError::BadRequest(format!(
                    "id {body_id:?} in the body is not the path's {:?}",
                    id.as_str()
                )));
            }
        }
        if let Some(user) = &self.user {
            if user != &caller.id {
                return Err(ApiError::Forbidden(format!(
                    "user {user:?} is not the token's user ({})",
                    caller.id
                )));
            }
        }
        let address = required("address", self.address)?;
        url::Url::parse(&address)
            .map_err(|e| ApiError::BadRequest(format!("address {address:?} is not a URL: {e}")))?;
        Ok(RuntimeFields {
            address,
            protocol: required("protocol", self.protocol)?,
            kind: required("type", self.kind)?,
            label: self.label,
            description: self.description,
            secret: self.secret,
        })
    }

    /// 400 naming the first field that holds a control character.
    fn no_control_characters(&self) -> Result<(), ApiError> {
        let fields = [
            ("id", &self.id),
            ("user", &self.user),
            ("address", &self.address),
            ("protocol", &self.protocol),
            ("type", &self.kind),
            ("label", &self.label),
            ("description", &self.description),
            ("secret", &self.secret),
        ];
        for (name, value) in fields {
            let bad = value
                .as_deref()
                .and_then(|v| v.chars().find(char::is_ascii_control));
            if let Some(bad) = bad {
                return Err(ApiError::BadRequest(format!(
                    "{name} has the control character U+{:04X}; none is allowed",
                    u32::from(bad)
                )));
            }
        }
        Ok(())
    }
}

fn required(name: &str, value: Option<String>) -> Result<String, ApiError> {
    match value {
        Some(value) if !value.trim().is_empty() => Ok(value),
        Some(_) => Err(ApiError::BadRequest(format!("{name} must not be empty"))),
        None => Err(ApiError::BadRequest(format!("{name} is required"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::body::parse;

    fn alice() -> User {
        User {
            id: "a1".into(),
            name: "alice".into(),
        }
    }

    fn check(json: &str) -> Result<RuntimeFields, ApiError> {
        let id = RuntimeId::parse("rt-1").expect("a good id");
        parse::<Registration>(json.as_bytes())?.check(&id, &alice())
    }

    fn message(result: Result<RuntimeFields, ApiError>) -> (u16, String) {
        match result {
            Err(e) => (e.status().as_u16(), e.to_string()),
            Ok(fields) => panic!("accepted: {fields:?}"),
        }
    }

    #[test]
    fn flowhub_registrys_body_is_accepted() {
        let fields = check(
            r#"{"id": "rt-1", "user": "a1", "address": "ws://h:3569", "protocol": "websocket",
                "type": "msgflo", "label": "L", "secret": "s", "seen": "2026-12-07T10:00:00.000Z",
                "online": true}"#,
        )
        .expect("accepted");
        assert_eq!(fields.kind, "msgflo");
        assert_eq!(fields.label.as_deref(), Some("L"));
        assert_eq!(fields.description, None);
    }

    #[test]
    fn user_and_id_may_be_left_out() {
        let fields = check(
            r#"{"address": "ws://h:3569", "protocol": "websocket", "type": "msgflo", "label": null}"#,
        );
        assert!(fields.is_ok());
    }

    #[test]
    fn refusals_name_the_field() {
        let base = r#""address": "ws://h:1", "protocol": "websocket", "type": "msgflo""#;
        assert_eq!(
            message(check(r#"{"protocol": "websocket", "type": "msgflo"}"#)),
            (400, "address is required".into())
        );
        assert_eq!(
            message(check(&format!(r#"{{{base}, "id": "rt-2"}}"#))).0,
            400
        );
        assert_eq!(
            message(check(&format!(r#"{{{base}, "user": "b2"}}"#))),
            (403, r#"user "b2" is not the token's user (a1)"#.into())
        );
        assert_eq!(
            message(check(
                r#"{"address": "localhost 3569", "protocol": "ws", "type": "t"}"#
            ))
            .0,
            400
        );
        assert_eq!(
            message(check(
                r#"{"address": "ws://h:1", "protocol": " ", "type": "t"}"#
            )),
            (400, "protocol must not be empty".into())
        );
        assert_eq!(
            message(check(
                r#"{"address": "ws://h:1", "protocol": "ws", "type": 3}"#
            ))
            .1,
            "type: invalid type: integer `3`, expected a string"
        );
    }

    #[test]
    fn control_characters_are_refused_in_every_field() {
        let base = r#""address": "ws://h:1", "protocol": "websocket", "type": "msgflo""#;
        for field in ["label", "description", "secret"] {
            assert_eq!(
                message(check(&format!(r#"{{{base}, "{field}": "a\u0000b"}}"#))),
                (
                    400,
                    format!("{field} has the control character U+0000; none is allowed")
                )
            );
        }
        for (field, value) in [
            ("id", r#""rt-1\n""#),
            ("user", r#""a1\u001f""#),
            ("address", r#""ws://h:1/\t""#),
            ("protocol", r#""web\u007fsocket""#),
            ("type", r#""msgflo\r""#),
        ] {
            let json = format!(r#"{{{base}, "{field}": {value}}}"#);
            let (status, text) = message(check(&json));
            assert_eq!(status, 400, "{json}");
            assert!(
                text.starts_with(&format!("{field} has the control")),
                "{text}"
            );
        }
        // Other characters outside ASCII are kept.
        let fields = check(&format!(r#"{{{base}, "label": "Größe \u00e9 ✓"}}"#));
        assert_eq!(
            fields.expect("accepted").label.as_deref(),
            Some("Größe é ✓")
        );
    }
}
