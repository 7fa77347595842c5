//! [`Output`]: any message a runtime sends to a client, and [`Response`]: an
//! output with its `responseTo`.

use serde_json::Value;

use super::{
    ComponentOutput, DecodeError, Envelope, ErrorPayload, GraphChange, GraphOutput, NetworkOutput,
    Protocol, RuntimeOutput, TraceOutput,
};

/// A typed message from a runtime (the `output` sections of the schemas).
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// `runtime:*`.
    Runtime(RuntimeOutput),
    /// `graph:*`.
    Graph(GraphOutput),
    /// `component:*`.
    Component(ComponentOutput),
    /// `network:*`.
    Network(NetworkOutput),
    /// `trace:*`.
    Trace(TraceOutput),
}

impl Output {
    /// `<protocol>:error` with `message` — the reply to a failed or unknown
    /// command of that sub-protocol.
    pub fn error(protocol: Protocol, message: impl Into<String>) -> Self {
        let e = ErrorPayload::new(message);
        match protocol {
            Protocol::Runtime => Output::Runtime(RuntimeOutput::Error(e)),
            Protocol::Graph => Output::Graph(GraphOutput::Error(e)),
            Protocol::Component => Output::Component(ComponentOutput::Error(e)),
            Protocol::Network => Output::Network(NetworkOutput::Error(e)),
            Protocol::Trace => Output::Trace(TraceOutput::Error(e)),
        }
    }

    /// Decodes a message text; shorthand for [`Response::decode`].
    pub fn decode(text: &str) -> Result<Response, DecodeError> {
        Response::decode(text)
    }

    /// Decodes a payload for `protocol`:`command`.
    pub fn from_parts(protocol: &str, command: &str, payload: Value) -> Result<Self, DecodeError> {
        Ok(match Protocol::parse(protocol)? {
            Protocol::Runtime => Output::Runtime(RuntimeOutput::decode(command, payload)?),
            Protocol::Graph => Output::Graph(GraphOutput::decode(command, payload)?),
            Protocol::Component => Output::Component(ComponentOutput::decode(command, payload)?),
            Protocol::Network => Output::Network(NetworkOutput::decode(command, payload)?),
            Protocol::Trace => Output::Trace(TraceOutput::decode(command, payload)?),
        })
    }

    /// Every `(protocol, command)` pair a runtime may send.
    pub fn commands() -> impl Iterator<Item = (Protocol, &'static str)> {
        Protocol::Runtime
            .with(RuntimeOutput::COMMANDS.iter().copied())
            .chain(Protocol::Graph.with(GraphOutput::commands()))
            .chain(Protocol::Component.with(ComponentOutput::COMMANDS.iter().copied()))
            .chain(Protocol::Network.with(NetworkOutput::COMMANDS.iter().copied()))
            .chain(Protocol::Trace.with(TraceOutput::COMMANDS.iter().copied()))
    }

    /// The sub-protocol.
    pub fn sub_protocol(&self) -> Protocol {
        match self {
            Output::Runtime(_) => Protocol::Runtime,
            Output::Graph(_) => Protocol::Graph,
            Output::Component(_) => Protocol::Component,
            Output::Network(_) => Protocol::Network,
            Output::Trace(_) => Protocol::Trace,
        }
    }

    /// The wire name of the sub-protocol, e.g. `"network"`.
    pub fn protocol(&self) -> &'static str {
        self.sub_protocol().as_str()
    }

    /// The wire name of the command, e.g. `"started"`.
    pub fn command(&self) -> &'static str {
        match self {
            Output::Runtime(m) => m.command(),
            Output::Graph(m) => m.command(),
            Output::Component(m) => m.command(),
            Output::Network(m) => m.command(),
            Output::Trace(m) => m.command(),
        }
    }

    /// The payload as JSON.
    pub fn payload(&self) -> Value {
        match self {
            Output::Runtime(m) => m.payload(),
            Output::Graph(m) => m.payload(),
            Output::Component(m) => m.payload(),
            Output::Network(m) => m.payload(),
            Output::Trace(m) => m.payload(),
        }
    }

    /// The message in an envelope, answering `response_to` if given. Outputs
    /// never carry a secret.
    pub fn to_envelope(&self, response_to: Option<&str>) -> Envelope {
        Envelope {
            response_to: response_to.map(str::to_owned),
            ..Envelope::new(self.protocol(), self.command(), self.payload())
        }
    }

    /// The message as compact JSON, answering `response_to` if given.
    pub fn to_json(&self, response_to: Option<&str>) -> String {
        self.to_envelope(response_to).to_json()
    }
}

impl From<RuntimeOutput> for Output {
    fn from(m: RuntimeOutput) -> Self {
        Output::Runtime(m)
    }
}

impl From<GraphOutput> for Output {
    fn from(m: GraphOutput) -> Self {
        Output::Graph(m)
    }
}

impl From<GraphChange> for Output {
    fn from(m: GraphChange) -> Self {
        Output::Graph(GraphOutput::Change(m))
    }
}

impl From<ComponentOutput> for Output {
    fn from(m: ComponentOutput) -> Self {
        Output::Component(m)
    }
}

impl From<NetworkOutput> for Output {
    fn from(m: NetworkOutput) -> Self {
        Output::Network(m)
    }
}

impl From<TraceOutput> for Output {
    fn from(m: TraceOutput) -> Self {
        Output::Trace(m)
    }
}

/// A decoded runtime message with its `responseTo`.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The message.
    pub output: Output,
    /// The `requestId` this message answers, if any.
    pub response_to: Option<String>,
}

impl Response {
    /// Decodes a message text: [`Envelope::parse`] then
    /// [`Response::from_envelope`].
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Self::from_envelope(Envelope::parse(text)?)
    }

    /// Types an envelope; `secret` and `requestId` are ignored.
    pub fn from_envelope(envelope: Envelope) -> Result<Self, DecodeError> {
        Ok(Response {
            output: Output::from_parts(&envelope.protocol, &envelope.command, envelope.payload)?,
            response_to: envelope.response_to,
        })
    }

    /// The response as an envelope.
    pub fn to_envelope(&self) -> Envelope {
        self.output.to_envelope(self.response_to.as_deref())
    }

    /// The response as compact JSON.
    pub fn to_json(&self) -> String {
        self.to_envelope().to_json()
    }
}
