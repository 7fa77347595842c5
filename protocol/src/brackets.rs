//! Brackets across the broker: the `msgflo-brackets` message header, which
//! carries the open/close group markers around a data message. Graph
//! participants write it on what leaves an exported outport and read it on
//! what reaches an exported inport; the coordinator writes it for a client's
//! `runtime:packet` `begingroup`/`endgroup` and reads it on the messages of
//! exported outports. msgflo participants in other languages ignore headers
//! and see only the data.
//!
//! # Encoding
//! The header's value is a JSON object:
//!
//! ```json
//! {"before": [{"open": "batch-7"}], "after": [{"close": "batch-7"}]}
//! ```
//!
//! - `before`: the brackets that came before this data message (since the
//!   previous one), in order;
//! - `after`: the closes that followed this data before anything else did;
//! - a bracket is `{"open": NAME}` or `{"close": NAME}`, `NAME` a string or
//!   `null` for an unnamed group; empty lists are left out, and a message
//!   without brackets has no header.
//!
//! When to put a bracket `after` one message or `before` the next is the
//! writer's choice (see the participant's `runner/brackets.rs` and the
//! coordinator's `core/packets.rs`); a reader gets the same sequence either
//! way: `before`, the data, `after`.

use serde_json::{json, Map, Value};

/// The header that carries brackets.
pub const HEADER: &str = "msgflo-brackets";

/// One open or close group marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bracket {
    /// Opens a group, named or not.
    Open(Option<String>),
    /// Closes a group, named or not.
    Close(Option<String>),
}

/// The brackets around one data message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Framing {
    /// Before the data, in order.
    pub before: Vec<Bracket>,
    /// After the data, in order.
    pub after: Vec<Bracket>,
}

/// Why a `msgflo-brackets` header value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BracketsError {
    /// The value is not JSON.
    #[error("msgflo-brackets header is not JSON: {0}")]
    NotJson(String),
    /// The value is JSON but not an object.
    #[error("msgflo-brackets header is not a JSON object")]
    NotObject,
    /// `before` or `after` is not a list.
    #[error("msgflo-brackets.{key} is not a list: {value}")]
    NotList {
        /// `before` or `after`.
        key: &'static str,
        /// What it was instead.
        value: String,
    },
    /// An item of `before` or `after` is not a bracket.
    #[error("msgflo-brackets.{key}: bad bracket {item}")]
    BadBracket {
        /// `before` or `after`.
        key: &'static str,
        /// The item.
        item: String,
    },
}

impl Framing {
    /// No brackets at all.
    pub fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }

    /// The header value for these brackets; `None` when there are none
    /// (the message then has no header).
    pub fn encode(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let list = |brackets: &[Bracket]| -> Value { brackets.iter().map(bracket_json).collect() };
        let mut object = Map::new();
        if !self.before.is_empty() {
            object.insert("before".into(), list(&self.before));
        }
        if !self.after.is_empty() {
            object.insert("after".into(), list(&self.after));
        }
        Some(Value::Object(object).to_string())
    }

    /// Reads a header value; an error says what is wrong with it.
    pub fn decode(text: &str) -> Result<Self, BracketsError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| BracketsError::NotJson(e.to_string()))?;
        let Value::Object(object) = value else {
            return Err(BracketsError::NotObject);
        };
        let list = |key: &'static str| -> Result<Vec<Bracket>, BracketsError> {
            match object.get(key) {
                None => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        bracket(item).ok_or_else(|| BracketsError::BadBracket {
                            key,
                            item: item.to_string(),
                        })
                    })
                    .collect(),
                Some(other) => Err(BracketsError::NotList {
                    key,
                    value: other.to_string(),
                }),
            }
        };
        Ok(Framing {
            before: list("before")?,
            after: list("after")?,
        })
    }
}

fn bracket_json(bracket: &Bracket) -> Value {
    let name = |n: &Option<String>| n.as_deref().map_or(Value::Null, |n| json!(n));
    match bracket {
        Bracket::Open(n) => json!({ "open": name(n) }),
        Bracket::Close(n) => json!({ "close": name(n) }),
    }
}

fn bracket(item: &Value) -> Option<Bracket> {
    let Value::Object(object) = item else {
        return None;
    };
    if object.len() != 1 {
        return None;
    }
    let (kind, name) = object.iter().next()?;
    let name = match name {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        _ => return None,
    };
    match kind.as_str() {
        "open" => Some(Bracket::Open(name)),
        "close" => Some(Bracket::Close(name)),
        _ => None,
    }
}

#[cfg(test)]
#[path = "brackets_tests.rs"]
mod tests;
