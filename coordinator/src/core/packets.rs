//! A client's `runtime:packet`s for the main graph's exported inports: all
//! five events. Every packet is answered (`runtime:packetsent`) at once; what
//! reaches the broker is only data, with the client's groups in the
//! `msgflo-brackets` header ([`msgflo_protocol::brackets`]), as graph
//! participants carry them.
//!
//! - `connect` / `disconnect` mark a stream, not data: nothing is sent for
//!   them (but they send the data message still held, see below).
//! - `begingroup NAME` waits, per (client, graph, port), for the next data
//!   message and rides on it in `before`. The payload is the group's name: a
//!   string, or `null` / none for an unnamed group; anything else is refused
//!   with `runtime:error`.
//! - `data` is sent to the inport's queue as JSON text (as msgflo does),
//!   carrying the brackets that came before it. Inside a group it is held
//!   back, as the participant's `Framer` (`runner/brackets.rs`) holds a
//!   message, to learn whether `endgroup`s follow it: those ride on it in
//!   `after`. It goes out when the next packet on the port is not an
//!   `endgroup`, when an `endgroup` closes the client's last open group,
//!   when the client goes away, or after [`HOLD`] — so
//!   data outside groups is never held, and data inside one at most
//!   [`HOLD`].
//! - `endgroup` that comes with no data held (after [`HOLD`], or before any
//!   data) waits like a `begingroup` and rides, in `before`, on the client's
//!   next data message to that port. If the client goes away first it is
//!   lost (logged): a message carries brackets only around data.
//!
//! MQTT 3.1.1 (the embedded broker) has no headers: there the data arrives
//! and its brackets do not. Over MQTT 5 (Mosquitto) they are user properties.

use super::{Action, Core, PacketError};
use crate::server::ClientId;
use bytes::Bytes;
use msgflo_protocol::brackets::{Bracket, Framing};
use msgflo_protocol::ids::QueueName;
use msgflo_protocol::messages::{Packet, PacketEvent};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The longest a data message inside a group waits for an `endgroup` to
/// follow it (a client sends a group's packets back to back).
pub const HOLD: Duration = Duration::from_millis(100);

/// Whose packets, to which port: (client, graph, exported inport).
type StreamKey = (ClientId, String, String);

/// The packets of one client for one exported inport.
#[derive(Debug, Default)]
struct Stream {
    /// Brackets waiting for the next data message (its `before`).
    waiting: Vec<Bracket>,
    /// Groups the client opened and has not closed.
    open: usize,
    /// A data message waiting to learn whether closes follow it.
    held: Option<Held>,
}

#[derive(Debug)]
struct Held {
    queue: QueueName,
    payload: Bytes,
    framing: Framing,
    until: Instant,
}

/// Every client's packet streams.
#[derive(Debug, Default)]
pub(super) struct Streams {
    streams: BTreeMap<StreamKey, Stream>,
}

impl Streams {
    /// When the first held message is due.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.streams
            .values()
            .filter_map(|s| s.held.as_ref().map(|h| h.until))
            .min()
    }
}

impl Core {
    /// A packet from a client for an exported inport of its graph (see the
    /// module docs); `Err`: why it is refused.
    pub(super) fn packet_in(
        &mut self,
        client: ClientId,
        packet: &Packet,
        now: Instant,
    ) -> Result<(), PacketError> {
        let Some(graph) = self.graphs.get(&packet.graph) else {
            return Err(PacketError::NoGraph {
                graph: packet.graph.clone(),
            });
        };
        let Some(exported) = graph.inports.get(&packet.port) else {
            return Err(PacketError::NoInport {
                port: packet.port.clone(),
            });
        };
        let end = msgflo_protocol::graph::Endpoint::new(&exported.process, &exported.port);
        let key = (client, packet.graph.clone(), packet.port.clone());
        match packet.event {
            PacketEvent::Connect | PacketEvent::Disconnect => self.send_held(&key),
            PacketEvent::Begingroup => {
                let name = group_name(packet)?;
                self.send_held(&key);
                let stream = self.packets.streams.entry(key.clone()).or_default();
                stream.waiting.push(Bracket::Open(name));
                stream.open += 1;
            }
            PacketEvent::Endgroup => {
                let name = group_name(packet)?;
                let stream = self.packets.streams.entry(key.clone()).or_default();
                stream.open = stream.open.saturating_sub(1);
                let last = stream.open == 0;
                let complete = match &mut stream.held {
                    Some(held) => {
                        held.framing.after.push(Bracket::Close(name));
                        last
                    }
                    None => {
                        stream.waiting.push(Bracket::Close(name));
                        false
                    }
                };
                if complete {
                    self.send_held(&key);
                }
            }
            PacketEvent::Data => {
                let queue = self.queue_of(&end, true)?;
                let payload = serde_json::to_vec(packet.payload.as_ref().unwrap_or(&Value::Null))?;
                self.send_held(&key);
                let stream = self.packets.streams.entry(key.clone()).or_default();
                stream.held = Some(Held {
                    queue,
                    payload: payload.into(),
                    framing: Framing {
                        before: std::mem::take(&mut stream.waiting),
                        after: Vec::new(),
                    },
                    until: now + HOLD,
                });
                if stream.open == 0 {
                    self.send_held(&key);
                }
            }
        }
        self.forget_idle(&key);
        Ok(())
    }

    /// Sends the held messages that waited [`HOLD`].
    pub(super) fn packets_due(&mut self, now: Instant) {
        let due: Vec<StreamKey> = self
            .packets
            .streams
            .iter()
            .filter(|(_, s)| s.held.as_ref().is_some_and(|h| h.until <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            self.send_held(&key);
            self.forget_idle(&key);
        }
    }

    /// `client` is gone: its held messages go out; brackets still waiting
    /// for data are lost.
    pub(super) fn packets_of_gone(&mut self, client: ClientId) {
        let keys: Vec<StreamKey> = self
            .packets
            .streams
            .keys()
            .filter(|(c, _, _)| *c == client)
            .cloned()
            .collect();
        for key in keys {
            self.send_held(&key);
            if let Some(stream) = self.packets.streams.remove(&key) {
                if !stream.waiting.is_empty() {
                    let (_, graph, port) = &key;
                    tracing::warn!(
                        client,
                        graph,
                        port,
                        brackets = stream.waiting.len(),
                        "a client went away with groups that no data carried; they are lost"
                    );
                }
            }
        }
    }

    /// The stream's held message, if any, to the broker.
    fn send_held(&mut self, key: &StreamKey) {
        let Some(held) = self
            .packets
            .streams
            .get_mut(key)
            .and_then(|s| s.held.take())
        else {
            return;
        };
        self.out.push(Action::Send {
            queue: held.queue,
            payload: held.payload,
            brackets: held.framing,
        });
    }

    /// A stream with nothing waiting, held or open is forgotten.
    fn forget_idle(&mut self, key: &StreamKey) {
        let idle = self
            .packets
            .streams
            .get(key)
            .is_some_and(|s| s.waiting.is_empty() && s.open == 0 && s.held.is_none());
        if idle {
            self.packets.streams.remove(key);
        }
    }
}

/// The group name of a `begingroup` / `endgroup`: a string, or none.
fn group_name(packet: &Packet) -> Result<Option<String>, PacketError> {
    match &packet.payload {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => Ok(Some(name.clone())),
        Some(other) => Err(PacketError::GroupName {
            event: packet.event,
            got: other.clone(),
        }),
    }
}
