//! [`DecodeError`]: why a text could not be decoded into a typed message.

use super::Protocol;

/// Why a text could not be decoded into a typed message. Every variant names what
/// was wrong; decoding never panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not JSON; carries the parser's message (with line and column).
    #[error("message is not valid JSON: {0}")]
    NotJson(String),
    /// The JSON is not an object.
    #[error("message is not a JSON object")]
    NotAnObject,
    /// A required top-level field (`protocol` or `command`) is absent or `null`.
    #[error("message has no `{0}` field")]
    MissingField(&'static str),
    /// A top-level field (or the legacy `payload.secret`) has the wrong type.
    #[error("bad `{field}` field: {reason}")]
    BadField {
        /// The field, e.g. `requestId` or `payload.secret`.
        field: &'static str,
        /// What was wrong, e.g. `expected a string, found a number`.
        reason: String,
    },
    /// The `protocol` is not one of runtime, graph, component, network, trace.
    #[error("unknown protocol \"{0}\"")]
    UnknownProtocol(String),
    /// The protocol is known but has no such command in this direction.
    #[error("unknown command \"{command}\" for protocol \"{protocol}\"")]
    UnknownCommand {
        /// The sub-protocol.
        protocol: Protocol,
        /// The command as received.
        command: String,
    },
    /// The payload does not fit the command's schema.
    #[error("bad payload for {protocol}:{command}: {reason}")]
    BadPayload {
        /// The sub-protocol.
        protocol: Protocol,
        /// The command.
        command: String,
        /// serde's description, e.g. ``missing field `component` ``.
        reason: String,
    },
}

impl DecodeError {
    /// The sub-protocol the message was for, when it was recognised — the one whose
    /// `<protocol>:error` a runtime should answer with.
    pub fn protocol(&self) -> Option<Protocol> {
        match self {
            Self::UnknownCommand { protocol, .. } | Self::BadPayload { protocol, .. } => {
                Some(*protocol)
            }
            _ => None,
        }
    }

    /// The payload field whose absence made decoding fail, if that was the reason
    /// (e.g. `Some("graph")`, which a runtime answers with `No graph specified`).
    /// The field may also be one of an object inside the payload (`src.node`
    /// reads as `node`): serde does not report the path.
    pub fn missing_field(&self) -> Option<&str> {
        match self {
            Self::BadPayload { reason, .. } => reason
                .strip_prefix("missing field `")
                .and_then(|rest| rest.strip_suffix('`')),
            _ => None,
        }
    }
}

/// A short description of a JSON value's type, for error messages.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
