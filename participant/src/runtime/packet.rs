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
//!
//! Typed payloads: a component that reads its input as JSON
//! ([`Packet::json`], [`Packet::decode`], [`Packet::into_json`]) and sends
//! a JSON value ([`Packet::value`], [`Packet::encode`], [`Body::json`])
//! passes it on as a [`Json`] body: parsed once, at the first component
//! that asked, handed typed from node to node, and serialised once, when it
//! leaves the process (an exported outport, an FBP client, a remote
//! runtime) or a component asks for bytes ([`Packet::payload`]). Raw bytes
//! stay raw: a [`Body::Data`] forwarded as it is goes out byte for byte.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

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

/// A JSON value travelling typed, with its text once made.
#[derive(Debug)]
pub struct Json {
    value: Value,
    text: OnceLock<Bytes>,
}

impl Json {
    /// `value`, its text not made yet.
    pub fn new(value: Value) -> Self {
        Self {
            value,
            text: OnceLock::new(),
        }
    }

    /// The value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The value as JSON text, made on the first call and kept.
    pub fn text(&self) -> &Bytes {
        self.text.get_or_init(|| {
            // A `Value` always serialises (its keys are strings).
            Bytes::from(serde_json::to_vec(&self.value).unwrap_or_default())
        })
    }

    /// The value, taken out.
    pub fn into_value(self) -> Value {
        self.value
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for Json {}

/// The body of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A payload, byte for byte (JSON text for msgflo participants).
    Data(Bytes),
    /// A JSON value, passed on typed (see the module docs).
    Json(Arc<Json>),
    /// Opens a group (substream), optionally named.
    Open(Option<Arc<str>>),
    /// Closes the innermost open group, optionally named.
    Close(Option<Arc<str>>),
}

impl Body {
    /// A typed JSON body holding `value`.
    pub fn json(value: Value) -> Self {
        Body::Json(Arc::new(Json::new(value)))
    }

    /// The payload as bytes, if this is data (a typed one is serialised on
    /// the first call, then kept).
    pub fn payload(&self) -> Option<&Bytes> {
        match self {
            Body::Data(bytes) => Some(bytes),
            Body::Json(json) => Some(json.text()),
            Body::Open(_) | Body::Close(_) => None,
        }
    }
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

    /// A data packet holding the JSON value `value`, typed, without a token.
    pub fn value(value: Value) -> Self {
        Self {
            body: Body::json(value),
            token: None,
        }
    }

    /// A data packet holding `value` as JSON, typed, without a token.
    pub fn encode<T: Serialize>(value: &T) -> serde_json::Result<Self> {
        Ok(Self::value(serde_json::to_value(value)?))
    }

    /// A new packet with `body` that carries this packet's token: use it for
    /// outputs computed from an input, so acking waits for them too.
    pub fn derive(&self, body: Body) -> Self {
        Self {
            body,
            token: self.token.clone(),
        }
    }

    /// The payload as bytes, if this is a data packet (a typed one is
    /// serialised on the first call, then kept).
    pub fn payload(&self) -> Option<&Bytes> {
        self.body.payload()
    }

    /// The payload as a JSON value, if this is a data packet: a typed one
    /// borrowed, bytes parsed (an error when they are not JSON).
    pub fn json(&self) -> Option<serde_json::Result<Cow<'_, Value>>> {
        match &self.body {
            Body::Data(bytes) => Some(serde_json::from_slice(bytes).map(Cow::Owned)),
            Body::Json(json) => Some(Ok(Cow::Borrowed(json.value()))),
            Body::Open(_) | Body::Close(_) => None,
        }
    }

    /// The payload as a JSON value of its own, if this is a data packet: a
    /// typed one taken without a copy when no other packet shares it, bytes
    /// parsed.
    pub fn into_json(self) -> Option<serde_json::Result<Value>> {
        match self.body {
            Body::Data(bytes) => Some(serde_json::from_slice(&bytes)),
            Body::Json(json) => Some(Ok(match Arc::try_unwrap(json) {
                Ok(json) => json.into_value(),
                Err(shared) => shared.value().clone(),
            })),
            Body::Open(_) | Body::Close(_) => None,
        }
    }

    /// The payload as a `T`, if this is a data packet: read from a typed
    /// one's value, or parsed from bytes.
    pub fn decode<T: DeserializeOwned>(&self) -> Option<serde_json::Result<T>> {
        match &self.body {
            Body::Data(bytes) => Some(serde_json::from_slice(bytes)),
            Body::Json(json) => Some(T::deserialize(json.value())),
            Body::Open(_) | Body::Close(_) => None,
        }
    }

    /// Whether this is a bracket marker.
    pub fn is_bracket(&self) -> bool {
        matches!(self.body, Body::Open(_) | Body::Close(_))
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

    #[test]
    fn a_typed_value_is_read_without_parsing_and_serialised_once() {
        let packet = Packet::value(serde_json::json!({"n": 1, "s": "x"}));
        assert!(!packet.is_bracket());
        let Some(Ok(Cow::Borrowed(value))) = packet.json() else {
            panic!("a typed packet lends its value");
        };
        assert_eq!(value["n"], 1);
        let text = packet.payload().map(|b| b.as_ptr());
        assert_eq!(packet.payload().map(|b| b.as_ptr()), text, "made once");
        assert_eq!(
            packet.payload().map(|b| b.as_ref()),
            Some(&br#"{"n":1,"s":"x"}"#[..])
        );
        #[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
        struct Order {
            n: u32,
            s: String,
        }
        let order: Order = packet.decode().unwrap().unwrap();
        assert_eq!(
            order,
            Order {
                n: 1,
                s: "x".into()
            }
        );
        assert_eq!(Packet::encode(&order).unwrap(), packet);
        assert_eq!(packet.into_json().unwrap().unwrap()["s"], "x");
    }

    #[test]
    fn bytes_are_parsed_on_demand_and_stay_raw_otherwise() {
        let packet = Packet::data(Bytes::from_static(b" {\"n\" : 2} "));
        assert_eq!(packet.json().unwrap().unwrap()["n"], 2);
        assert_eq!(packet.payload().unwrap().as_ref(), b" {\"n\" : 2} ");
        assert!(Packet::data(Bytes::from_static(b"{"))
            .json()
            .unwrap()
            .is_err());
        assert!(Packet::open(None).json().is_none());
        assert!(Packet::close(None).decode::<u32>().is_none());
    }

    #[test]
    fn a_typed_value_no_other_packet_shares_is_taken_without_a_copy() {
        let packet = Packet::value(serde_json::json!([1, 2, 3]));
        let Body::Json(json) = &packet.body else {
            panic!("typed");
        };
        let before = json.value().as_array().map(|a| a.as_ptr());
        let value = packet.into_json().unwrap().unwrap();
        assert_eq!(value.as_array().map(|a| a.as_ptr()), before, "moved");
        let shared = Packet::value(serde_json::json!([1]));
        let other = shared.clone();
        assert_eq!(shared.into_json().unwrap().unwrap(), serde_json::json!([1]));
        assert!(other.payload().is_some(), "the other keeps its own");
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
