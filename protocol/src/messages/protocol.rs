//! [`Protocol`]: the five sub-protocols of the FBP network protocol.

use super::DecodeError;
use std::fmt;

/// One of the sub-protocols named in a message's `protocol` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// `runtime`: runtime information, exported ports, packets.
    Runtime,
    /// `graph`: building and changing graphs.
    Graph,
    /// `component`: the component library and component sources.
    Component,
    /// `network`: starting, stopping and watching running networks.
    Network,
    /// `trace`: recording and dumping flowtraces.
    Trace,
}

impl Protocol {
    /// All sub-protocols, in the order the specification lists them.
    pub const ALL: [Protocol; 5] = [
        Protocol::Runtime,
        Protocol::Graph,
        Protocol::Component,
        Protocol::Network,
        Protocol::Trace,
    ];

    /// The wire name, e.g. `"graph"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Runtime => "runtime",
            Protocol::Graph => "graph",
            Protocol::Component => "component",
            Protocol::Network => "network",
            Protocol::Trace => "trace",
        }
    }

    /// The sub-protocol with this wire name (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The sub-protocol with this wire name, or [`DecodeError::UnknownProtocol`].
    pub(crate) fn parse(name: &str) -> Result<Protocol, DecodeError> {
        Protocol::from_name(name).ok_or_else(|| DecodeError::UnknownProtocol(name.to_owned()))
    }

    /// `(self, command)` for each of `commands`.
    pub(crate) fn with(
        self,
        commands: impl IntoIterator<Item = &'static str>,
    ) -> impl Iterator<Item = (Protocol, &'static str)> {
        commands.into_iter().map(move |c| (self, c))
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
