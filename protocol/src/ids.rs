//! Newtype identifiers, checked when built or deserialised: a role, a participant
//! id, a port name or a queue name is never empty, never longer than 250 bytes
//! (so that its dead-letter queue `dead-<name>` fits AMQP's 255-byte limit for
//! queue and exchange names) and never holds control
//! characters (they would end up in broker names and log lines).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An identifier was empty or held a control character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct InvalidId {
    /// Which kind of identifier (`role`, `participant id`, ...).
    pub kind: &'static str,
    /// The rejected value.
    pub value: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

/// The longest identifier: AMQP names hold at most 255 bytes, and a queue's
/// dead-letter queue `dead-<queue>` must fit too.
pub const MAX_LEN: usize = 250;

fn check(kind: &'static str, value: String) -> Result<String, InvalidId> {
    let reason = if value.is_empty() {
        "must not be empty"
    } else if value.len() > MAX_LEN {
        "must be at most 250 bytes long"
    } else if value.chars().any(char::is_control) {
        "must not contain control characters"
    } else {
        return Ok(value);
    };
    Err(InvalidId {
        kind,
        value,
        reason,
    })
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps `value`.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidId> {
                check($kind, value.into()).map(Self)
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidId;
            fn try_from(value: &str) -> Result<Self, InvalidId> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// The role a participant plays in a graph: the node name (`repeater`).
    Role,
    "role"
);
identifier!(
    /// A participant instance, unique per process: `<role>-<uuid>` by default.
    ParticipantId,
    "participant id"
);
identifier!(
    /// A port of a component (`in`, `out`).
    PortName,
    "port name"
);
identifier!(
    /// A broker queue, exchange or MQTT topic (`repeater.IN`).
    QueueName,
    "queue name"
);

impl QueueName {
    /// msgflo's default queue for a port: `ROLE.PORT` with the port upper-cased;
    /// an error if that is too long.
    pub fn default_for(role: &Role, port: &PortName) -> Result<Self, InvalidId> {
        Self::new(format!("{}.{}", role.0, port.0.to_uppercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_queue_upper_cases_the_port_only() {
        let role = Role::new("repeater").unwrap();
        let port = PortName::new("in").unwrap();
        assert_eq!(
            QueueName::default_for(&role, &port).unwrap().as_str(),
            "repeater.IN"
        );
    }

    #[test]
    fn empty_and_control_characters_are_rejected_with_the_kind() {
        let err = Role::new("").unwrap_err();
        assert_eq!(err.to_string(), "invalid role \"\": must not be empty");
        let err = QueueName::new("a\nb").unwrap_err();
        assert_eq!(err.kind, "queue name");
        assert!(QueueName::new("q".repeat(250)).is_ok());
        let err = QueueName::new("q".repeat(251)).unwrap_err();
        assert_eq!(err.reason, "must be at most 250 bytes long");
        let role = Role::new("r".repeat(248)).unwrap();
        let port = PortName::new("in").unwrap();
        assert!(
            QueueName::default_for(&role, &port).is_err(),
            "ROLE.PORT over 250 bytes"
        );
    }

    #[test]
    fn deserialising_checks_the_value() {
        assert!(serde_json::from_str::<Role>("\"\"").is_err());
        let role: Role = serde_json::from_str("\"repeat\"").unwrap();
        assert_eq!(serde_json::to_string(&role).unwrap(), "\"repeat\"");
    }
}
