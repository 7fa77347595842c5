//! Delivery modes: what the broker is asked to promise about a message.
//!
//! - [`DeliveryMode::Persistent`]: the broker writes the message to disk
//!   (AMQP `delivery_mode` 2, into a durable queue), so it survives a broker
//!   restart; msgflo-rs's default.
//! - [`DeliveryMode::Transient`]: the broker keeps it in memory only (AMQP
//!   `delivery_mode` 1, msgflo-nodejs's choice): lost if the broker stops,
//!   much cheaper while it runs.
//!
//! What [`Transport::publish_as`] waits for on AMQP, and so when a
//! participant acks the input an output answers:
//! - persistent: the broker's confirm (publisher confirms), which RabbitMQ
//!   sends once the message is in every queue it goes to, on disk.
//! - transient: its frames written to the connection, without a confirm
//!   (as msgflo-nodejs publishes). The ack of the input goes out later on
//!   the same connection, and the broker reads a connection in order, so it
//!   never sees the ack without the output.
//!
//! What each promises:
//!
//! | fault | persistent | transient |
//! |---|---|---|
//! | the participant dies (SIGKILL) | nothing lost | nothing lost |
//! | the broker restarts | nothing lost | messages in queues and in flight lost |
//! | the connection is cut | nothing lost (unconfirmed outputs go again) | nothing lost but an output the broker read and had not routed yet |
//!
//! MQTT has one mode (QoS 1 into a persistent session); the memory broker
//! keeps everything in memory: both take the mode and deliver it, changing
//! nothing else.
//!
//! [`Transport::publish_as`]: crate::Transport::publish_as

use std::fmt;
use std::str::FromStr;

/// How the broker keeps a message (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DeliveryMode {
    /// Written to disk: survives a broker restart.
    #[default]
    Persistent,
    /// In memory only: lost if the broker stops.
    Transient,
}

impl DeliveryMode {
    /// The names, as settings and flags take them.
    pub const NAMES: [&'static str; 2] = ["persistent", "transient"];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMode::Persistent => "persistent",
            DeliveryMode::Transient => "transient",
        }
    }
}

impl fmt::Display for DeliveryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "persistent" => Ok(DeliveryMode::Persistent),
            "transient" => Ok(DeliveryMode::Transient),
            other => Err(format!(
                "unknown delivery mode {other:?}: persistent or transient"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_anything_else_is_refused_in_one_line() {
        for name in DeliveryMode::NAMES {
            let mode: DeliveryMode = name.parse().unwrap();
            assert_eq!(mode.as_str(), name);
        }
        assert_eq!(" Transient ".parse(), Ok(DeliveryMode::Transient));
        let error = "fast".parse::<DeliveryMode>().unwrap_err();
        assert_eq!(
            error,
            "unknown delivery mode \"fast\": persistent or transient"
        );
        assert_eq!(DeliveryMode::default(), DeliveryMode::Persistent);
    }
}
