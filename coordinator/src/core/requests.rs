//! Answering FBP protocol commands. Every frame gets an answer at once: the
//! reply, or `<protocol>:error` saying what was wrong (not JSON, bad
//! secret or token, a command the token's rights do not allow
//! (`rights.rs`), unknown command, a payload field serde rejected, a
//! missing graph). What a command asks of the broker follows as actions; a
//! `runtime:packet` is handled in `packets.rs`.

use super::rights::{self, Rights};
use super::Core;
use crate::components::{Catalogue, Source};
use crate::fbp::graph_edit::GraphEditError;
use crate::server::ClientId;
use msgflo_protocol::messages::{
    ComponentInput, ComponentOutput, ComponentSource, Envelope, GraphChange, Input, NetworkInput,
    NetworkOutput, NetworkStatus, Output, Protocol, Request, RuntimeInfo, RuntimeInput,
    RuntimeOutput, SelectedEdges,
};
use serde_json::Value;
use std::time::Instant;

/// Protocol version we speak.
const VERSION: &str = "0.7";

/// What clients may do.
pub(super) const CAPABILITIES: [&str; 6] = [
    "protocol:graph",
    "protocol:network",
    "protocol:component",
    "protocol:runtime",
    "component:getsource",
    "network:data",
];

impl Core {
    /// Handles one client frame.
    pub(super) fn request(&mut self, client: ClientId, text: &str, now: Instant) {
        let envelope = match Envelope::parse(text) {
            Ok(envelope) => envelope,
            Err(error) => {
                let reply = Output::error(Protocol::Runtime, error.to_string());
                self.answer(client, &reply, None);
                return;
            }
        };
        let protocol = Protocol::from_name(&envelope.protocol).unwrap_or(Protocol::Runtime);
        let request_id = envelope.request_id.clone();
        let Some(admitted) = self.guard.admit(shown(&envelope)) else {
            // `runtime:runtime` says what this client may do: nothing
            // (fbp-protocol's `capabilities`, per client). noflo-ui then
            // shows "Not permitted to send ..." instead of waiting for an
            // answer its connect ignores (an error) until it times out.
            let reply = if protocol == Protocol::Runtime && envelope.command == "getruntime" {
                Output::Runtime(RuntimeOutput::Runtime(self.runtime_info(None)))
            } else {
                Output::error(protocol, "Invalid or missing secret")
            };
            self.answer(client, &reply, request_id.as_deref());
            return;
        };
        let command = format!("{}:{}", envelope.protocol, envelope.command);
        let need = rights::need(&envelope.protocol, &envelope.command, &envelope.payload);
        let allowed = admitted.rights.allow(&need, &command);
        self.clients.admit(client, admitted);
        if let Err(refused) = allowed {
            tracing::debug!(client, %refused, "request refused");
            self.refuse(client, &envelope.protocol, refused, request_id.as_deref());
            return;
        }
        if envelope.protocol == super::extension::PROTOCOL {
            let request = super::extension::Request {
                command: &envelope.command,
                payload: &envelope.payload,
                id: request_id.as_deref(),
            };
            self.extension(client, request, now);
            return;
        }
        let request = match Request::from_envelope(envelope) {
            Ok(request) => request,
            Err(error) => {
                // The suite's exact texts for a graph command without a graph.
                let message = match GraphEditError::from_decode(&error) {
                    Some(graph_error) if protocol == Protocol::Graph => graph_error.to_string(),
                    _ => error.to_string(),
                };
                let reply = Output::error(protocol, message);
                self.answer(client, &reply, request_id.as_deref());
                return;
            }
        };
        let rid = request.request_id.as_deref();
        let replies = match request.input {
            Input::Runtime(input) => self.runtime(client, input, now),
            Input::Graph(change) => self.graph(client, rid, change, now),
            Input::Component(input) => self.component(input),
            Input::Network(input) => self.network(client, rid, input, now),
            Input::Trace(_) => vec![Output::error(
                Protocol::Trace,
                "tracing is not supported by this runtime",
            )],
        };
        for reply in &replies {
            self.answer(client, reply, rid);
        }
    }

    /// Answers a request its rights do not allow with the error of its
    /// protocol (`msgflo:error` for the extension's).
    fn refuse(
        &mut self,
        client: ClientId,
        protocol: &str,
        refused: rights::Refused,
        request_id: Option<&str>,
    ) {
        if protocol == super::extension::PROTOCOL {
            let mut reply = serde_json::json!({"protocol": protocol, "command": "error",
                                               "payload": {"message": refused.to_string()}});
            self.extension_answer(client, request_id, &mut reply);
            return;
        }
        let protocol = Protocol::from_name(protocol).unwrap_or(Protocol::Runtime);
        let reply = Output::error(protocol, refused.to_string());
        self.answer(client, &reply, request_id);
    }

    fn runtime(&mut self, client: ClientId, input: RuntimeInput, now: Instant) -> Vec<Output> {
        match input {
            RuntimeInput::GetRuntime(_) => vec![
                Output::Runtime(RuntimeOutput::Runtime(
                    self.runtime_info(self.clients.rights(client)),
                )),
                Output::Runtime(RuntimeOutput::Ports(self.ports())),
            ],
            RuntimeInput::Packet(packet) => match self.packet_in(client, &packet, now) {
                Ok(()) => vec![Output::Runtime(RuntimeOutput::PacketSent(packet))],
                Err(refused) => vec![Output::error(Protocol::Runtime, refused.to_string())],
            },
        }
    }

    /// `runtime:runtime`: what this runtime is, and what the client may do
    /// with `rights` (none: nothing).
    fn runtime_info(&self, rights: Option<&Rights>) -> RuntimeInfo {
        let all = CAPABILITIES.map(String::from).to_vec();
        RuntimeInfo {
            id: Some(self.config.runtime_id.clone()),
            label: Some("msgflo-rs coordinator".into()),
            version: VERSION.into(),
            capabilities: rights.map(capabilities).unwrap_or_default(),
            all_capabilities: Some(all),
            graph: Some(self.main_graph_id()),
            kind: "msgflo".into(),
            namespace: self.library.namespace().map(str::to_owned),
            repository: None,
            repository_version: None,
        }
    }

    fn graph(
        &mut self,
        client: ClientId,
        request_id: Option<&str>,
        change: GraphChange,
        now: Instant,
    ) -> Vec<Output> {
        if self
            .subgraph_role(crate::fbp::graph_edit::graph_of(&change))
            .is_some()
        {
            // A graph participant runs it: edited there (`forward.rs`).
            self.forward_edit(client, request_id, change);
            return Vec::new();
        }
        let id = crate::fbp::graph_edit::graph_of(&change);
        if self.graphs.get(id).is_none() && !matches!(change, GraphChange::Clear(_)) {
            if let Some(plain) = self.catalogue().plain_player(id) {
                let message = format!(
                    "{id} is run by participant {} (role {}), which is no FBP runtime: there is no graph inside it to open (only msgflo-rs graph participants are; msgflo-nodejs, msgflo-python and --component participants are not)",
                    plain.id, plain.role
                );
                return vec![Output::error(Protocol::Graph, message)];
            }
        }
        let effects = super::graph::effects(&change);
        let ports_change = matches!(
            change,
            GraphChange::AddInport(_)
                | GraphChange::RemoveInport(_)
                | GraphChange::RenameInport(_)
                | GraphChange::AddOutport(_)
                | GraphChange::RemoveOutport(_)
                | GraphChange::RenameOutport(_)
                | GraphChange::RemoveNode(_)
                | GraphChange::Clear(_)
        );
        match self.graphs.apply(change) {
            Ok(replies) => {
                self.after_graph_change(effects, now);
                let mut outputs: Vec<Output> = replies.into_iter().map(Output::Graph).collect();
                if ports_change {
                    // Clients learn the main graph's exported ports (noflo-ui
                    // shows them as the runtime's ports).
                    outputs.push(Output::Runtime(RuntimeOutput::Ports(self.ports())));
                }
                outputs
            }
            Err(error) => vec![Output::error(Protocol::Graph, error.to_string())],
        }
    }

    fn component(&mut self, input: ComponentInput) -> Vec<Output> {
        match input {
            ComponentInput::List(_) => {
                let components = self.catalogue().list();
                let count = components.len() as u64;
                let mut replies: Vec<Output> = components
                    .into_iter()
                    .map(|c| Output::Component(ComponentOutput::Component(c)))
                    .collect();
                replies.push(Output::Component(ComponentOutput::ComponentsReady(count)));
                replies
            }
            ComponentInput::GetSource(request) => match self.graphs.get(&request.name) {
                Some(graph) => vec![Output::Component(ComponentOutput::Source(
                    ComponentSource {
                        name: request.name.clone(),
                        language: "json".into(),
                        library: None,
                        code: graph.to_json_pretty(),
                        tests: None,
                    },
                ))],
                None => vec![self.component_source(&request.name)],
            },
            ComponentInput::Source(source) => vec![Output::error(
                Protocol::Component,
                format!(
                    "cannot change component {:?}: msgflo participants are separate programs",
                    source.name
                ),
            )],
        }
    }

    fn network(
        &mut self,
        client: ClientId,
        request_id: Option<&str>,
        input: NetworkInput,
        now: Instant,
    ) -> Vec<Output> {
        let input = match input {
            NetworkInput::Edges(asked) => match self.subgraph_role(&asked.graph) {
                Some(role) => {
                    // Inside a graph participant (`watches.rs`).
                    self.forward_edges(client, request_id, &role, asked);
                    return Vec::new();
                }
                None => NetworkInput::Edges(asked),
            },
            other => other,
        };
        match input {
            NetworkInput::Start(target) => self.start_network(&target.graph, now),
            NetworkInput::Stop(target) => self.stop_network(&target.graph),
            NetworkInput::GetStatus(target) => match self.graphs.get(&target.graph) {
                Some(_) => {
                    // A started msgflo network runs until it is stopped.
                    let started = self.network.runs(&target.graph);
                    vec![Output::Network(NetworkOutput::Status(NetworkStatus {
                        started: Some(started),
                        graph: target.graph,
                        uptime: None,
                        running: started,
                        debug: None,
                    }))]
                }
                None => vec![not_found()],
            },
            NetworkInput::Edges(SelectedEdges { edges, graph }) => {
                // This client watches these edges (none named: all of them).
                self.clients.select(client, edges.clone());
                vec![Output::Network(NetworkOutput::Edges(SelectedEdges {
                    edges,
                    graph,
                }))]
            }
            NetworkInput::Debug(debug) => {
                vec![Output::Network(NetworkOutput::Error(
                    msgflo_protocol::messages::ErrorPayload::new(format!(
                        "debug mode is not supported (graph {})",
                        debug.graph
                    )),
                ))]
            }
            NetworkInput::Persist(_) => match &self.config.auto_save {
                Some(_) => {
                    self.save();
                    vec![Output::Network(NetworkOutput::Persist(
                        msgflo_protocol::messages::Persist {},
                    ))]
                }
                None => vec![Output::error(
                    Protocol::Network,
                    "persist needs --auto-save FILE",
                )],
            },
        }
    }

    /// `component:getsource` of a component (see [`crate::components`]):
    /// msgflo's answer. A component file's text is read here: a small local
    /// file, not broker IO.
    fn component_source(&self, name: &str) -> Output {
        match self.catalogue().source(name) {
            Ok(Source::Ready(source)) => Output::Component(ComponentOutput::Source(source)),
            Ok(Source::File { path, mut source }) => match std::fs::read_to_string(&path) {
                Ok(code) => {
                    source.code = code;
                    Output::Component(ComponentOutput::Source(source))
                }
                Err(error) => Output::error(
                    Protocol::Component,
                    format!(
                        "cannot read the source of {name:?} ({}): {error}",
                        path.display()
                    ),
                ),
            },
            Err(error) => Output::error(Protocol::Component, error.to_string()),
        }
    }

    /// The role of the graph participant that runs graph `id`, when no
    /// graph of ours is called so.
    pub(super) fn subgraph_role(&self, id: &str) -> Option<String> {
        if self.graphs.get(id).is_some() {
            return None;
        }
        let catalogue = self.catalogue();
        let owner = catalogue.subgraph_owner(id)?;
        Some(owner.role.to_string())
    }

    /// The components known now: the library's, the participants', and
    /// those the main graph uses.
    pub(super) fn catalogue(&self) -> Catalogue<'_> {
        Catalogue {
            library: &self.library,
            registry: &self.registry,
            graph: self.graphs.get(&self.main_graph_id()),
            subgraphs: &self.subgraphs,
        }
    }
}

/// The secret or token a request shows: at the top level (protocol 0.8)
/// or in the payload (0.7).
fn shown(envelope: &Envelope) -> Option<&str> {
    envelope
        .secret
        .as_deref()
        .or_else(|| envelope.payload.get("secret").and_then(Value::as_str))
}

/// The capabilities `rights` give (fbp-protocol's names): graph and
/// network commands need the edit right, packets a port to send to or
/// receive from, edge data the right to watch edges.
fn capabilities(rights: &Rights) -> Vec<String> {
    let may = |capability: &str| match capability {
        "protocol:graph" | "protocol:network" => rights.may_edit(),
        "protocol:runtime" => rights.may_send_somewhere() || rights.may_receive_somewhere(),
        "network:data" => rights.may_watch_edges(),
        _ => true,
    };
    CAPABILITIES
        .into_iter()
        .filter(|c| may(c))
        .map(String::from)
        .collect()
}

/// The error for a graph id that is not known.
pub(super) fn not_found() -> Output {
    Output::error(Protocol::Network, "Requested graph not found")
}
