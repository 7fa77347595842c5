//! What crosses the bridge: our packets as `runtime:packet` messages and
//! back (pure; no IO).
//!
//! - Data is JSON on the wire. A payload that is JSON text goes as that
//!   value; other UTF-8 text goes as a JSON string; anything else cannot
//!   cross and fails its packet. Coming back, the value is written as
//!   compact JSON text (so `"text"` arrives with its quotes: the remote
//!   speaks JSON, and msgflo payloads are JSON).
//! - An open bracket is `begingroup` with the group's name (`null` when it
//!   has none), a close bracket is `endgroup`. `connect` / `disconnect`
//!   mark streams, which our packets do not have: none are sent, and those
//!   that come are skipped.

use crate::runtime::{Body, Packet};
use bytes::Bytes;
use msgflo_protocol::messages::{Envelope, Packet as WirePacket, PacketEvent};
use serde_json::Value;
use std::sync::Arc;

/// A packet on its way to the remote, its payload already parsed.
#[derive(Debug)]
pub(super) struct Outgoing {
    /// The remote graph's exported inport.
    pub port: Arc<str>,
    pub event: PacketEvent,
    pub payload: Option<Value>,
    /// The packet (its token acks the broker delivery once the remote
    /// confirmed it with `runtime:packetsent`).
    pub packet: Packet,
}

/// A packet for `port` that cannot cross.
#[derive(Debug, thiserror::Error)]
#[error("a payload of {len} bytes that is neither JSON nor UTF-8 text cannot cross to the remote inport {port}")]
pub struct NotJson {
    port: Arc<str>,
    len: usize,
}

impl Outgoing {
    /// `packet` for the remote inport `port`.
    pub(super) fn new(port: Arc<str>, packet: Packet) -> Result<Self, NotJson> {
        let (event, payload) = match &packet.body {
            Body::Data(bytes) => (
                PacketEvent::Data,
                Some(to_value(bytes).ok_or_else(|| NotJson {
                    port: port.clone(),
                    len: bytes.len(),
                })?),
            ),
            Body::Json(json) => (PacketEvent::Data, Some(json.value().clone())),
            Body::Open(name) => (PacketEvent::Begingroup, Some(group(name.as_deref()))),
            Body::Close(name) => (PacketEvent::Endgroup, Some(group(name.as_deref()))),
        };
        Ok(Self {
            port,
            event,
            payload,
            packet,
        })
    }

    /// The `runtime:packet` message for `graph`, with `secret` if any.
    pub(super) fn frame(&self, graph: &str, secret: Option<&str>) -> String {
        let packet = WirePacket {
            port: self.port.to_string(),
            event: self.event,
            kind: None,
            schema: None,
            payload: self.payload.clone(),
            graph: graph.to_owned(),
        };
        let mut payload = serde_json::to_value(packet).unwrap_or(Value::Null);
        with_secret(&mut payload, secret);
        let mut envelope = Envelope::new("runtime", "packet", payload);
        envelope.secret = secret.map(str::to_owned);
        envelope.to_json()
    }
}

/// `runtime:getruntime`, with `secret` if any.
pub(super) fn getruntime(secret: Option<&str>) -> String {
    let mut payload = Value::Object(serde_json::Map::new());
    with_secret(&mut payload, secret);
    let mut envelope = Envelope::new("runtime", "getruntime", payload);
    envelope.secret = secret.map(str::to_owned);
    envelope.to_json()
}

/// The secret goes at the top level (protocol 0.8) and in the payload
/// (where noflo's runtimes look for it).
fn with_secret(payload: &mut Value, secret: Option<&str>) {
    if let (Some(secret), Value::Object(map)) = (secret, payload) {
        map.insert("secret".into(), Value::String(secret.to_owned()));
    }
}

fn to_value(bytes: &Bytes) -> Option<Value> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Some(value),
        Err(_) => std::str::from_utf8(bytes)
            .ok()
            .map(|text| Value::String(text.to_owned())),
    }
}

fn group(name: Option<&str>) -> Value {
    name.map_or(Value::Null, |n| Value::String(n.to_owned()))
}

/// What a `runtime:packet` from the remote becomes here: `None` for
/// `connect` / `disconnect`.
pub(super) fn incoming(event: PacketEvent, payload: Option<&Value>) -> Option<Packet> {
    let name = |payload: Option<&Value>| match payload {
        Some(Value::String(name)) => Some(name.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    match event {
        PacketEvent::Data => {
            let text = serde_json::to_vec(payload.unwrap_or(&Value::Null)).unwrap_or_default();
            Some(Packet::data(Bytes::from(text)))
        }
        PacketEvent::Begingroup => Some(Packet::open(name(payload).as_deref())),
        PacketEvent::Endgroup => Some(Packet::close(name(payload).as_deref())),
        PacketEvent::Connect | PacketEvent::Disconnect => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn out(packet: Packet) -> Outgoing {
        Outgoing::new(Arc::from("in"), packet).expect("crosses")
    }

    #[test]
    fn data_and_brackets_make_the_round_trip() {
        for packet in [
            Packet::data(&b"{\"n\":1}"[..]),
            Packet::data(&b"[1,2]"[..]),
            Packet::open(Some("g")),
            Packet::close(Some("g")),
            Packet::open(None),
            Packet::close(None),
        ] {
            let sent = out(packet.clone());
            let back = incoming(sent.event, sent.payload.as_ref()).expect("a packet");
            assert_eq!(back, packet);
        }
    }

    #[test]
    fn text_that_is_not_json_crosses_as_a_string_and_binary_is_refused() {
        let sent = out(Packet::data(&b"hello"[..]));
        assert_eq!(sent.payload, Some(json!("hello")));
        let refused = Outgoing::new(Arc::from("in"), Packet::data(&[0xff, 0xfe][..]));
        let error = refused.expect_err("binary").to_string();
        assert!(error.contains("remote inport in"), "{error}");
    }

    #[test]
    fn frames_carry_graph_port_event_and_secret() {
        let frame: Value =
            serde_json::from_str(&out(Packet::open(Some("g"))).frame("main", Some("s")))
                .expect("JSON");
        assert_eq!(frame["protocol"], "runtime");
        assert_eq!(frame["command"], "packet");
        assert_eq!(frame["secret"], "s");
        assert_eq!(
            frame["payload"],
            json!({"port": "in", "event": "begingroup", "payload": "g", "graph": "main", "secret": "s"})
        );
        let open: Value = serde_json::from_str(&getruntime(None)).expect("JSON");
        assert_eq!(
            open,
            json!({"protocol": "runtime", "command": "getruntime", "payload": {}})
        );
    }

    #[test]
    fn connect_and_disconnect_are_skipped() {
        assert_eq!(incoming(PacketEvent::Connect, None), None);
        assert_eq!(incoming(PacketEvent::Disconnect, Some(&json!(null))), None);
    }
}
