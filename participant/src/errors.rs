//! The participant's error types shared by its parts: [`ProcessError`], what
//! a process function returns, and [`NoPort`], a port the participant does
//! not have.

/// Why processing a message failed; the message is nacked.
pub type ProcessError = Box<dyn std::error::Error + Send + Sync>;

/// A port name the participant does not have (`no outport "x"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {direction} {port:?}")]
pub struct NoPort {
    /// `"inport"` or `"outport"`.
    pub direction: &'static str,
    /// The name asked for.
    pub port: String,
}

impl NoPort {
    /// No inport `port`.
    pub fn inport(port: &str) -> Self {
        Self {
            direction: "inport",
            port: port.to_owned(),
        }
    }

    /// No outport `port`.
    pub fn outport(port: &str) -> Self {
        Self {
            direction: "outport",
            port: port.to_owned(),
        }
    }
}
