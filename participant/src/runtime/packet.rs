//! [`Packet`]: what travels on an in-process edge. Data is a [`Bytes`] handle
//! (moved along the graph; a fan-out copies the handle, never the bytes);
//! bracket markers (open/close group) are their own variants, carried out of
//! band rather than as magic values inside the data.
//!
//! A packet also has room for a [`Token`]: a shared handle for at-least-once
//! acks across the graph. A graph participant wraps each broker delivery in
//! a token whose `Drop` (of the last clone) acks it; components forward a
//! packet by moving it (so its token rides along) or derive new packets with
//! [`Packet::derive`]; a node that fails or panics on a packet, or drops it
//! because it was stopped, calls [`Track::fail`] so the delivery is nacked.
//! Packets made without a token (IIPs, tests) carry `None`.

use bytes::Bytes;
use std::sync::Arc;

/// What a [`Token`] points at: told when a node failed on the packet.
pub trait Track: Send + Sync {
    /// A node failed on (or panicked with, or discarded) a packet carrying
    /// this token.
    fn fail(&self);
    /// What this token stands for will be done again anyway (its broker
    /// delivery comes again: [`Delivery::superseded`]), so outputs carrying
    /// only such tokens need not be published.
    ///
    /// [`Delivery::superseded`]: crate::transport::Delivery::superseded
    fn superseded(&self) -> bool {
        false
    }
    /// Resolves when [`superseded`](Track::superseded) may have turned
    /// true; `None` when it never will.
    fn superseded_signal(&self) -> Option<crate::transport::Signal> {
        None
    }
    /// The trace of what this token stands for (its broker delivery's
    /// place in a trace, see [`crate::trace`]): what a node sends because
    /// of it continues that trace.
    fn hop(&self) -> Option<&crate::trace::Hop> {
        None
    }
    /// The delivery mode of what this token stands for (its broker
    /// delivery's): what a node sends because of it goes in that mode,
    /// unless the participant has its own.
    fn mode(&self) -> Option<crate::transport::DeliveryMode> {
        None
    }
}

/// A handle that travels with a packet and its descendants (see the module
/// docs); cloning it is one atomic increment.
pub type Token = Arc<dyn Track>;

/// The body of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A payload, byte for byte (JSON text for msgflo participants).
    Data(Bytes),
    /// Opens a group (substream), optionally named.
    Open(Option<Arc<str>>),
    /// Closes the innermost open group, optionally named.
    Close(Option<Arc<str>>),
}

/// An information packet: a body plus an optional tracking token.
#[derive(Clone)]
pub struct Packet {
    /// Data or a bracket marker.
    pub body: Body,
    /// Tracking token for acks (see the module docs).
    pub token: Option<Token>,
}

impl std::fmt::Debug for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packet")
            .field("body", &self.body)
            .field("token", &self.token.is_some())
            .finish()
    }
}

impl PartialEq for Packet {
    /// Packets are equal when their bodies are; tokens are not compared.
    fn eq(&self, other: &Self) -> bool {
        self.body == other.body
    }
}

impl Packet {
    /// A data packet without a token.
    pub fn data(payload: impl Into<Bytes>) -> Self {
        Self {
            body: Body::Data(payload.into()),
            token: None,
        }
    }

    /// An open-group bracket.
    pub fn open(name: Option<&str>) -> Self {
        Self {
            body: Body::Open(name.map(Arc::from)),
            token: None,
        }
    }

    /// A close-group bracket.
    pub fn close(name: Option<&str>) -> Self {
        Self {
            body: Body::Close(name.map(Arc::from)),
            token: None,
        }
    }

    /// A new packet with `body` that carries this packet's token: use it for
    /// outputs computed from an input, so acking waits for them too.
    pub fn derive(&self, body: Body) -> Self {
        Self {
            body,
            token: self.token.clone(),
        }
    }

    /// The payload, if this is a data packet.
    pub fn payload(&self) -> Option<&Bytes> {
        match &self.body {
            Body::Data(bytes) => Some(bytes),
            Body::Open(_) | Body::Close(_) => None,
        }
    }

    /// Whether this is a bracket marker.
    pub fn is_bracket(&self) -> bool {
        !matches!(self.body, Body::Data(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_moved_not_copied_and_brackets_are_not_data() {
        let payload = Bytes::from_static(b"{\"a\":1}");
        let packet = Packet::data(payload.clone());
        let copy = packet.clone();
        assert_eq!(
            copy.payload().map(|b| b.as_ptr()),
            Some(payload.as_ptr()),
            "a clone shares the bytes"
        );
        assert!(!packet.is_bracket());
        assert!(Packet::open(Some("g")).is_bracket());
        assert_eq!(Packet::close(None).payload(), None);
    }

    struct Nothing;
    impl Track for Nothing {
        fn fail(&self) {}
    }

    #[test]
    fn derived_packets_keep_the_token() {
        let token: Token = Arc::new(Nothing);
        let input = Packet {
            token: Some(token.clone()),
            ..Packet::data("x")
        };
        let output = input.derive(Body::Data(Bytes::from_static(b"y")));
        assert_eq!(Arc::strong_count(&token), 3);
        assert!(output.token.is_some());
        assert_ne!(input, output);
    }
}
