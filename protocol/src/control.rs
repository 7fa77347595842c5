//! Control messages: how a coordinator rewires a running participant.
//!
//! Each participant consumes its own control queue `.fbp.<id>.receive` and
//! answers on `.fbp.<id>.send` (the queue names noflo-runtime-msgflo uses for
//! its FBP channel), with the `{protocol, command, payload}` envelope and
//! protocol `"participant"`:
//!
//! ```json
//! {"protocol":"participant","command":"connectinport","payload":{
//!   "src":{"queue":"producer.OUT"},"tgt":{"port":"in"},"graph":"main"}}
//! ```
//!
//! - `connectinport {src:{queue,options}, tgt:{port,index}, metadata, graph}`:
//!   the inport `tgt.port` also takes the messages published to `src.queue`
//!   (on MQTT the participant subscribes to that topic, so data flows from the
//!   broker straight to the participant).
//! - `connectoutport {src:{port,index}, tgt:{queue,options}, metadata, graph}`:
//!   the outport `src.port` also publishes to `tgt.queue`.
//! - `disconnectinport` / `disconnectoutport`: the same payloads, undoing it.
//! - `setoutportdelivery {src:{port}, delivery, graph}`: the outport `src.port`
//!   publishes in delivery mode `delivery` (`"persistent"` or
//!   `"transient"`), whatever mode its input came in: the coordinator sends
//!   it for an outport whose graph edges name a `delivery` in their
//!   metadata (AMQP, where the mode is a property of each message).
//! - `unsetoutportdelivery {src:{port}, delivery, graph}`: undoes that
//!   `setoutportdelivery`, if the port's mode is still `delivery` (so an unset of
//!   the old mode that arrives after the set of a new one changes nothing).
//! - `setinportdelivery {src:{queue}, tgt:{port}, delivery, graph}`: the
//!   messages of `src.queue` reach the inport `tgt.port` in delivery mode
//!   `delivery`, where the broker keeps a mode per edge (MQTT: the QoS of
//!   the subscription `connectinport` made, 0 for transient); a
//!   participant on a broker without one answers an error.
//!   `unsetinportdelivery` undoes it, if the edge's mode is still
//!   `delivery`.
//! - `call {id, call, args, reply_to, deadline}`: run a named function and
//!   answer to `reply_to` ([`crate::calls`]), not to `.fbp.<id>.send`.
//!
//! The reply echoes the command and payload on success, or is
//! `{"protocol":"participant","command":"error","payload":{"message":...,"request":...}}`
//! naming what was wrong (an unknown port, say).

use crate::graph::Metadata;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The envelope's `protocol` value for control messages.
pub const PROTOCOL: &str = "participant";

/// The queue a participant takes control messages from
/// ([`crate::queues`]).
pub use crate::queues::control_receive_queue as receive_queue;
/// The queue a participant answers control messages on
/// ([`crate::queues`]).
pub use crate::queues::control_send_queue as send_queue;

/// A broker queue or topic, with transport options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueRef {
    /// Queue (AMQP) or topic (MQTT) name.
    pub queue: String,
    /// Transport options, passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

/// A port of the participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortRef {
    /// Port name.
    pub port: String,
    /// Slot of an addressable port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

/// `connectinport` / `disconnectinport`: a queue feeding one of our inports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InportConnection {
    /// Where messages come from.
    pub src: QueueRef,
    /// The inport that takes them.
    pub tgt: PortRef,
    /// Edge metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Graph the edge belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<String>,
}

/// `connectoutport` / `disconnectoutport`: one of our outports feeding a queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutportConnection {
    /// The outport that sends.
    pub src: PortRef,
    /// Where its messages also go.
    pub tgt: QueueRef,
    /// Edge metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Graph the edge belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<String>,
}

/// `setoutportdelivery` / `unsetoutportdelivery`: the delivery mode of one of our
/// outports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutportDelivery {
    /// The outport.
    pub src: PortRef,
    /// `"persistent"` or `"transient"`, checked by the participant.
    pub delivery: String,
    /// Graph the edges belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<String>,
}

/// `setinportdelivery` / `unsetinportdelivery`: the delivery mode in which
/// a queue's messages reach one of our inports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InportDelivery {
    /// Where the messages come from.
    pub src: QueueRef,
    /// The inport that takes them.
    pub tgt: PortRef,
    /// `"persistent"` or `"transient"`, checked by the participant.
    pub delivery: String,
    /// Graph the edge belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<String>,
}

/// A control request.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// Add a source queue to an inport.
    ConnectInport(InportConnection),
    /// Remove a source queue from an inport.
    DisconnectInport(InportConnection),
    /// Add a target queue to an outport.
    ConnectOutport(OutportConnection),
    /// Remove a target queue from an outport.
    DisconnectOutport(OutportConnection),
    /// Make an outport publish in a delivery mode.
    SetOutportDelivery(OutportDelivery),
    /// Undo a [`Control::SetOutportDelivery`].
    UnsetOutportDelivery(OutportDelivery),
    /// Make an edge into an inport deliver in a mode.
    SetInportDelivery(InportDelivery),
    /// Undo a [`Control::SetInportDelivery`].
    UnsetInportDelivery(InportDelivery),
    /// Run a named function and answer to its `reply_to`
    /// ([`crate::calls`]).
    Call(crate::calls::CallRequest),
}

/// A control message could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Not JSON.
    #[error("control message is not JSON: {0}")]
    NotJson(serde_json::Error),
    /// Not `participant` protocol.
    #[error("control message has protocol {0:?}, expected \"participant\"")]
    WrongProtocol(Option<String>),
    /// Unknown command.
    #[error("unknown control command {0:?} (expected connectinport, connectoutport, disconnectinport, disconnectoutport, setoutportdelivery, unsetoutportdelivery, setinportdelivery, unsetinportdelivery or call)")]
    UnknownCommand(String),
    /// Payload does not fit the command.
    #[error("bad payload for {command}: {reason}")]
    BadPayload {
        /// The command.
        command: String,
        /// What serde said.
        reason: String,
    },
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    protocol: &'static str,
    command: &'a str,
    payload: T,
}

fn to_vec<T: Serialize>(command: &str, payload: T) -> Vec<u8> {
    let envelope = Envelope {
        protocol: PROTOCOL,
        command,
        payload,
    };
    // Strings, numbers and JSON values only: serialising cannot fail.
    serde_json::to_vec(&envelope).unwrap_or_default()
}

impl Control {
    /// The wire command name.
    pub fn command(&self) -> &'static str {
        match self {
            Control::ConnectInport(_) => "connectinport",
            Control::DisconnectInport(_) => "disconnectinport",
            Control::ConnectOutport(_) => "connectoutport",
            Control::DisconnectOutport(_) => "disconnectoutport",
            Control::SetOutportDelivery(_) => "setoutportdelivery",
            Control::UnsetOutportDelivery(_) => "unsetoutportdelivery",
            Control::SetInportDelivery(_) => "setinportdelivery",
            Control::UnsetInportDelivery(_) => "unsetinportdelivery",
            Control::Call(_) => crate::calls::CALL,
        }
    }

    /// Decodes a control message.
    pub fn decode(bytes: &[u8]) -> Result<Self, ControlError> {
        let value: Value = serde_json::from_slice(bytes).map_err(ControlError::NotJson)?;
        let protocol = value.get("protocol").and_then(Value::as_str);
        if protocol != Some(PROTOCOL) {
            return Err(ControlError::WrongProtocol(protocol.map(str::to_owned)));
        }
        let command = value
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let payload = value
            .get("payload")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        let bad = |e: serde_json::Error| ControlError::BadPayload {
            command: command.clone(),
            reason: e.to_string(),
        };
        Ok(match command.as_str() {
            "connectinport" => {
                Control::ConnectInport(serde_json::from_value(payload).map_err(bad)?)
            }
            "disconnectinport" => {
                Control::DisconnectInport(serde_json::from_value(payload).map_err(bad)?)
            }
            "connectoutport" => {
                Control::ConnectOutport(serde_json::from_value(payload).map_err(bad)?)
            }
            "disconnectoutport" => {
                Control::DisconnectOutport(serde_json::from_value(payload).map_err(bad)?)
            }
            "setoutportdelivery" => {
                Control::SetOutportDelivery(serde_json::from_value(payload).map_err(bad)?)
            }
            "unsetoutportdelivery" => {
                Control::UnsetOutportDelivery(serde_json::from_value(payload).map_err(bad)?)
            }
            "setinportdelivery" => {
                Control::SetInportDelivery(serde_json::from_value(payload).map_err(bad)?)
            }
            "unsetinportdelivery" => {
                Control::UnsetInportDelivery(serde_json::from_value(payload).map_err(bad)?)
            }
            crate::calls::CALL => Control::Call(serde_json::from_value(payload).map_err(bad)?),
            _ => return Err(ControlError::UnknownCommand(command)),
        })
    }

    /// The message as sent on the wire.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Control::ConnectInport(p) | Control::DisconnectInport(p) => to_vec(self.command(), p),
            Control::ConnectOutport(p) | Control::DisconnectOutport(p) => to_vec(self.command(), p),
            Control::SetOutportDelivery(p) | Control::UnsetOutportDelivery(p) => {
                to_vec(self.command(), p)
            }
            Control::SetInportDelivery(p) | Control::UnsetInportDelivery(p) => {
                to_vec(self.command(), p)
            }
            Control::Call(request) => request.encode(),
        }
    }

    /// The reply for a request that was carried out: the request, echoed.
    pub fn reply_ok(&self) -> Vec<u8> {
        self.encode()
    }
}

/// The reply for a request that failed: `participant:error` with a message and
/// the request as received (if it was JSON).
pub fn reply_error(message: &str, request: &[u8]) -> Vec<u8> {
    let request = serde_json::from_slice::<Value>(request).unwrap_or(Value::Null);
    to_vec(
        "error",
        serde_json::json!({"message": message, "request": request}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn connectinport_round_trips_with_msgflo_payload_shape() {
        let wire = json!({"protocol": "participant", "command": "connectinport", "payload": {
            "src": {"queue": "producer.OUT", "options": {"durable": true}},
            "tgt": {"port": "in", "index": 2}, "metadata": {"route": 1}, "graph": "main"}});
        let control = Control::decode(wire.to_string().as_bytes()).unwrap();
        let Control::ConnectInport(conn) = &control else {
            panic!("{control:?}")
        };
        assert_eq!(
            (conn.src.queue.as_str(), conn.tgt.port.as_str()),
            ("producer.OUT", "in")
        );
        assert_eq!(conn.tgt.index, Some(2));
        let back: Value = serde_json::from_slice(&control.encode()).unwrap();
        assert_eq!(back, wire);
    }

    #[test]
    fn outport_commands_and_minimal_payloads() {
        for command in ["connectoutport", "disconnectoutport"] {
            let wire = json!({"protocol": "participant", "command": command, "payload": {
                "src": {"port": "out"}, "tgt": {"queue": "sink.IN"}}});
            let control = Control::decode(wire.to_string().as_bytes()).unwrap();
            assert_eq!(control.command(), command);
            assert_eq!(
                serde_json::from_slice::<Value>(&control.reply_ok()).unwrap(),
                wire
            );
        }
    }

    #[test]
    fn delivery_commands_round_trip() {
        for command in ["setoutportdelivery", "unsetoutportdelivery"] {
            let wire = json!({"protocol": "participant", "command": command, "payload": {
                "src": {"port": "out"}, "delivery": "transient", "graph": "main"}});
            let control = Control::decode(wire.to_string().as_bytes()).unwrap();
            assert_eq!(control.command(), command);
            let (Control::SetOutportDelivery(p) | Control::UnsetOutportDelivery(p)) = &control
            else {
                panic!("{control:?}")
            };
            assert_eq!(
                (p.src.port.as_str(), p.delivery.as_str()),
                ("out", "transient")
            );
            let back: Value = serde_json::from_slice(&control.reply_ok()).unwrap();
            assert_eq!(back, wire);
        }
        for command in ["setinportdelivery", "unsetinportdelivery"] {
            let wire = json!({"protocol": "participant", "command": command, "payload": {
                "src": {"queue": "a.OUT"}, "tgt": {"port": "in"}, "delivery": "transient"}});
            let control = Control::decode(wire.to_string().as_bytes()).unwrap();
            assert_eq!(control.command(), command);
            let back: Value = serde_json::from_slice(&control.reply_ok()).unwrap();
            assert_eq!(back, wire);
        }
        let missing = br#"{"protocol":"participant","command":"setoutportdelivery","payload":{"src":{"port":"out"}}}"#;
        let err = Control::decode(missing).unwrap_err().to_string();
        assert_eq!(
            err,
            "bad payload for setoutportdelivery: missing field `delivery`"
        );
    }

    #[test]
    fn errors_say_what_was_wrong() {
        let cases: [(&[u8], &str); 4] = [
            (b"nope", "control message is not JSON"),
            (br#"{"protocol":"graph","command":"x"}"#, "protocol Some(\"graph\")"),
            (br#"{"protocol":"participant","command":"explode"}"#, "unknown control command \"explode\""),
            (
                br#"{"protocol":"participant","command":"connectinport","payload":{"tgt":{"port":"in"}}}"#,
                "bad payload for connectinport: missing field `src`",
            ),
        ];
        for (input, expected) in cases {
            let err = Control::decode(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn error_reply_names_the_problem_and_echoes_the_request() {
        let request = br#"{"protocol":"participant","command":"connectinport"}"#;
        let reply: Value =
            serde_json::from_slice(&reply_error("no inport \"foo\"", request)).unwrap();
        assert_eq!(reply["command"], "error");
        assert_eq!(reply["payload"]["message"], "no inport \"foo\"");
        assert_eq!(reply["payload"]["request"]["command"], "connectinport");
        assert_eq!(receive_queue("r-1"), ".fbp.r-1.receive");
        assert_eq!(send_queue("r-1"), ".fbp.r-1.send");
    }
}
