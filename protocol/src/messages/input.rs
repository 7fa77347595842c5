//! [`Input`]: any message a client sends to a runtime, and [`Request`]: an input
//! with its `secret` and `requestId`.

use serde_json::Value;

use super::error::json_kind;
use super::{
    ComponentInput, DecodeError, Envelope, GraphChange, NetworkInput, Protocol, RuntimeInput,
    TraceInput,
};

/// A typed message from a client (the `input` sections of the schemas).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// `runtime:*`.
    Runtime(RuntimeInput),
    /// `graph:*`.
    Graph(GraphChange),
    /// `component:*`.
    Component(ComponentInput),
    /// `network:*`.
    Network(NetworkInput),
    /// `trace:*`.
    Trace(TraceInput),
}

impl Input {
    /// Decodes a message text; shorthand for [`Request::decode`].
    pub fn decode(text: &str) -> Result<Request, DecodeError> {
        Request::decode(text)
    }

    /// Decodes a payload for `protocol`:`command`. The payload should no longer
    /// hold the legacy `secret` (see [`Request::from_envelope`]); it would be
    /// ignored anyway.
    pub fn from_parts(protocol: &str, command: &str, payload: Value) -> Result<Self, DecodeError> {
        Ok(match Protocol::parse(protocol)? {
            Protocol::Runtime => Input::Runtime(RuntimeInput::decode(command, payload)?),
            Protocol::Graph => Input::Graph(GraphChange::decode(command, payload)?),
            Protocol::Component => Input::Component(ComponentInput::decode(command, payload)?),
            Protocol::Network => Input::Network(NetworkInput::decode(command, payload)?),
            Protocol::Trace => Input::Trace(TraceInput::decode(command, payload)?),
        })
    }

    /// Every `(protocol, command)` pair a client may send.
    pub fn commands() -> impl Iterator<Item = (Protocol, &'static str)> {
        Protocol::Runtime
            .with(RuntimeInput::COMMANDS.iter().copied())
            .chain(Protocol::Graph.with(GraphChange::COMMANDS.iter().copied()))
            .chain(Protocol::Component.with(ComponentInput::COMMANDS.iter().copied()))
            .chain(Protocol::Network.with(NetworkInput::COMMANDS.iter().copied()))
            .chain(Protocol::Trace.with(TraceInput::COMMANDS.iter().copied()))
    }

    /// The sub-protocol.
    pub fn sub_protocol(&self) -> Protocol {
        match self {
            Input::Runtime(_) => Protocol::Runtime,
            Input::Graph(_) => Protocol::Graph,
            Input::Component(_) => Protocol::Component,
            Input::Network(_) => Protocol::Network,
            Input::Trace(_) => Protocol::Trace,
        }
    }

    /// The wire name of the sub-protocol, e.g. `"graph"`.
    pub fn protocol(&self) -> &'static str {
        self.sub_protocol().as_str()
    }

    /// The wire name of the command, e.g. `"addnode"`.
    pub fn command(&self) -> &'static str {
        match self {
            Input::Runtime(m) => m.command(),
            Input::Graph(m) => m.command(),
            Input::Component(m) => m.command(),
            Input::Network(m) => m.command(),
            Input::Trace(m) => m.command(),
        }
    }

    /// The payload as JSON.
    pub fn payload(&self) -> Value {
        match self {
            Input::Runtime(m) => m.payload(),
            Input::Graph(m) => m.payload(),
            Input::Component(m) => m.payload(),
            Input::Network(m) => m.payload(),
            Input::Trace(m) => m.payload(),
        }
    }

    /// The message in an envelope without secret or request id.
    pub fn to_envelope(&self) -> Envelope {
        Envelope::new(self.protocol(), self.command(), self.payload())
    }
}

impl From<RuntimeInput> for Input {
    fn from(m: RuntimeInput) -> Self {
        Input::Runtime(m)
    }
}

impl From<GraphChange> for Input {
    fn from(m: GraphChange) -> Self {
        Input::Graph(m)
    }
}

impl From<ComponentInput> for Input {
    fn from(m: ComponentInput) -> Self {
        Input::Component(m)
    }
}

impl From<NetworkInput> for Input {
    fn from(m: NetworkInput) -> Self {
        Input::Network(m)
    }
}

impl From<TraceInput> for Input {
    fn from(m: TraceInput) -> Self {
        Input::Trace(m)
    }
}

/// A decoded client message with its envelope fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The message.
    pub input: Input,
    /// Access token: the top-level `secret`, else the legacy `payload.secret`.
    pub secret: Option<String>,
    /// `requestId`, to be echoed as `responseTo` in replies.
    pub request_id: Option<String>,
}

impl Request {
    /// A request without secret or request id.
    pub fn new(input: impl Into<Input>) -> Self {
        Request {
            input: input.into(),
            secret: None,
            request_id: None,
        }
    }

    /// Decodes a message text: [`Envelope::parse`] then [`Request::from_envelope`].
    /// A runtime that wants the `requestId` for an error reply calls those two
    /// itself.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Self::from_envelope(Envelope::parse(text)?)
    }

    /// Types an envelope. `secret` is taken from the top level or, failing that,
    /// from the payload (the pre-0.8 location); `payload.secret` is removed
    /// before the payload is typed either way. A `responseTo` is ignored.
    pub fn from_envelope(envelope: Envelope) -> Result<Self, DecodeError> {
        let Envelope {
            protocol,
            command,
            mut payload,
            secret,
            request_id,
            response_to: _,
        } = envelope;
        let legacy = match &mut payload {
            Value::Object(map) => map.shift_remove("secret"),
            _ => None,
        };
        let legacy = match legacy {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                return Err(DecodeError::BadField {
                    field: "payload.secret",
                    reason: format!("expected a string, found {}", json_kind(&other)),
                })
            }
        };
        Ok(Request {
            input: Input::from_parts(&protocol, &command, payload)?,
            secret: secret.or(legacy),
            request_id,
        })
    }

    /// The request as an envelope; the secret goes at the top level only.
    pub fn to_envelope(&self) -> Envelope {
        Envelope {
            secret: self.secret.clone(),
            request_id: self.request_id.clone(),
            ..self.input.to_envelope()
        }
    }

    /// The request as compact JSON.
    pub fn to_json(&self) -> String {
        self.to_envelope().to_json()
    }
}
