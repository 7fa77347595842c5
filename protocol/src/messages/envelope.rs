//! [`Envelope`]: the `{protocol, command, payload}` frame every message travels in.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::json_kind;
use super::DecodeError;

/// One protocol message before its payload is typed.
///
/// Inputs (client -> runtime) may carry `secret` and `requestId`; outputs
/// (runtime -> client) may carry `responseTo`. Absent fields stay absent when
/// encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Sub-protocol name, e.g. `"graph"`.
    pub protocol: String,
    /// Command name, e.g. `"addnode"`.
    pub command: String,
    /// The command's payload; an object except for `component:componentsready`.
    /// A missing payload reads as `{}`.
    #[serde(default = "empty_object")]
    pub payload: Value,
    /// Access token sent by the client (top-level location, protocol 0.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Client-chosen request identifier.
    #[serde(rename = "requestId", default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The `requestId` of the request this output answers.
    #[serde(
        rename = "responseTo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub response_to: Option<String>,
}

impl Envelope {
    /// An envelope with no secret, request id or response id.
    pub fn new(protocol: impl Into<String>, command: impl Into<String>, payload: Value) -> Self {
        Envelope {
            protocol: protocol.into(),
            command: command.into(),
            payload,
            secret: None,
            request_id: None,
            response_to: None,
        }
    }

    /// Parses a message text. Top-level keys other than the six known ones are
    /// ignored; a missing `payload` reads as `{}`; a `null` field reads as absent.
    pub fn parse(text: &str) -> Result<Self, DecodeError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| DecodeError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }

    /// Like [`Envelope::parse`], from an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, DecodeError> {
        let Value::Object(mut map) = value else {
            return Err(DecodeError::NotAnObject);
        };
        let protocol =
            take_string(&mut map, "protocol")?.ok_or(DecodeError::MissingField("protocol"))?;
        let command =
            take_string(&mut map, "command")?.ok_or(DecodeError::MissingField("command"))?;
        let payload = map.remove("payload").unwrap_or_else(empty_object);
        Ok(Envelope {
            protocol,
            command,
            payload,
            secret: take_string(&mut map, "secret")?,
            request_id: take_string(&mut map, "requestId")?,
            response_to: take_string(&mut map, "responseTo")?,
        })
    }

    /// Encodes the envelope as compact JSON.
    pub fn to_json(&self) -> String {
        to_json_string(self)
    }
}

/// `{}`, the payload of a message that has none.
fn empty_object() -> Value {
    Value::Object(Map::new())
}

/// Removes `field` from `map`: `None` when absent or `null`, an error when it is
/// not a string.
fn take_string(
    map: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, DecodeError> {
    match map.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(DecodeError::BadField {
            field,
            reason: format!("expected a string, found {}", json_kind(&other)),
        }),
    }
}

/// Serialises one of this module's types to a JSON value.
///
/// The types here hold only strings, numbers, booleans and string-keyed JSON maps,
/// for which serde_json cannot fail (non-finite floats become `null`).
pub(crate) fn to_json_value<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).expect("message types always serialise to JSON")
}

/// Serialises one of this module's types to a JSON text (see [`to_json_value`]).
pub(crate) fn to_json_string<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("message types always serialise to JSON")
}
