//! Brackets across the broker: how a graph participant carries the open/close
//! group markers that reach an exported outport, so that a graph participant
//! consuming that queue gets them back around the same data — while msgflo
//! participants in other languages, which ignore message headers, see only
//! the data.
//!
//! # Encoding
//! Brackets ride on the data messages, in the header `msgflo-brackets`, whose
//! value is a JSON object (written and read by [`msgflo_protocol::brackets`],
//! which the coordinator uses too):
//!
//! ```json
//! {"before": [{"open": "batch-7"}], "after": [{"close": "batch-7"}]}
//! ```
//!
//! - `before`: the brackets that came on the port since the previous data
//!   message, in order;
//! - `after`: the closes that followed this data before anything else did;
//! - a bracket is `{"open": NAME}` or `{"close": NAME}`, `NAME` a string or
//!   `null` for an unnamed group; empty lists are left out, and a message
//!   without brackets has no header.
//!
//! A data message is held back until the next packet on its port shows
//! whether closes follow it, or until the port has nothing more waiting — so
//! holding adds no delay while the graph is idle. Brackets that come after
//! the last data the port has for now ride, as `before`, on the next message.
//! Until then they hold no input unacked; if the participant stops first,
//! they are lost (logged). MQTT 3.1.1 (the embedded broker) has no headers:
//! there brackets stay inside the participant; MQTT 5 carries them.

use crate::runtime::{Body, Packet, Token};
use crate::transport::Headers;
use bytes::Bytes;
use msgflo_protocol::brackets::{self as wire, Bracket};
use std::sync::Arc;

/// The header that carries brackets ([`msgflo_protocol::brackets`] reads
/// and writes its value).
pub const HEADER: &str = msgflo_protocol::brackets::HEADER;

/// A message ready to publish, with the tokens of every packet in it: they
/// are dropped (acking their inputs) once it is published, or failed.
pub(crate) struct Outgoing {
    pub(crate) payload: Bytes,
    pub(crate) headers: Headers,
    pub(crate) tokens: Vec<Token>,
}

struct Held {
    payload: Bytes,
    before: Vec<Body>,
    after: Vec<Body>,
    tokens: Vec<Token>,
}

/// Turns the packets of one exported outport into messages (see the module
/// docs).
#[derive(Default)]
pub(crate) struct Framer {
    pending: Vec<Body>,
    held: Option<Held>,
}

impl Framer {
    /// Takes the port's next packet; returns the message it completed, if any.
    pub(crate) fn push(&mut self, packet: Packet) -> Option<Outgoing> {
        let Packet { body, token } = packet;
        match body {
            Body::Data(payload) => self.hold(payload, token),
            // Typed: serialised here, once, as it leaves.
            Body::Json(json) => self.hold(json.text().clone(), token),
            Body::Close(_) if self.held.is_some() => {
                if let Some(held) = &mut self.held {
                    held.after.push(body);
                    held.tokens.extend(token);
                }
                None
            }
            Body::Close(_) => {
                self.pending.push(body);
                None
            }
            Body::Open(_) => {
                let done = self.flush();
                self.pending.push(body);
                done
            }
        }
    }

    /// Holds a data message (the one held before goes out): the closes
    /// that follow it still ride on it.
    fn hold(&mut self, payload: Bytes, token: Option<Token>) -> Option<Outgoing> {
        let done = self.flush();
        self.held = Some(Held {
            payload,
            before: std::mem::take(&mut self.pending),
            after: Vec::new(),
            tokens: token.into_iter().collect(),
        });
        done
    }

    /// The port has nothing more waiting: the held message goes out.
    pub(crate) fn flush(&mut self) -> Option<Outgoing> {
        let held = self.held.take()?;
        let mut headers = Headers::new();
        if let Some(value) = encode(&held.before, &held.after) {
            headers.insert(HEADER, value);
        }
        Some(Outgoing {
            payload: held.payload,
            headers,
            tokens: held.tokens,
        })
    }

    /// Brackets still waiting for a message to ride on.
    pub(crate) fn stranded(&self) -> usize {
        self.pending.len()
    }
}

/// The header value for these brackets; `None` when there are none.
fn encode(before: &[Body], after: &[Body]) -> Option<String> {
    let list = |bodies: &[Body]| bodies.iter().filter_map(to_wire).collect();
    wire::Framing {
        before: list(before),
        after: list(after),
    }
    .encode()
}

fn to_wire(body: &Body) -> Option<Bracket> {
    let name = |n: &Option<Arc<str>>| n.as_deref().map(str::to_owned);
    match body {
        Body::Open(n) => Some(Bracket::Open(name(n))),
        Body::Close(n) => Some(Bracket::Close(name(n))),
        Body::Data(_) | Body::Json(_) => None,
    }
}

fn from_wire(bracket: Bracket) -> Body {
    match bracket {
        Bracket::Open(n) => Body::Open(n.map(Arc::from)),
        Bracket::Close(n) => Body::Close(n.map(Arc::from)),
    }
}

/// The brackets around one delivered message.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Framing {
    pub(crate) before: Vec<Body>,
    pub(crate) after: Vec<Body>,
}

/// Reads the brackets of a delivery's headers: none without the header; an
/// error, saying what is wrong, when the header is malformed.
pub(crate) fn decode(headers: &Headers) -> Result<Framing, String> {
    let Some(text) = headers.get(HEADER) else {
        return Ok(Framing::default());
    };
    let framing = wire::Framing::decode(text).map_err(|e| e.to_string())?;
    let list = |brackets: Vec<Bracket>| brackets.into_iter().map(from_wire).collect();
    Ok(Framing {
        before: list(framing.before),
        after: list(framing.after),
    })
}

#[cfg(test)]
#[path = "brackets_tests.rs"]
mod tests;
