//! The link: one task per `core/Remote` node, holding the WebSocket to the
//! remote runtime.
//!
//! - Connects (bounded by [`CONNECT_TIMEOUT`]), asks `runtime:getruntime`
//!   and waits for `runtime:runtime` (the graph, unless `graph` was set)
//!   and `runtime:ports` (the remote's exported ports, checked against the
//!   ports the graph connects; checked again whenever they change).
//! - Sends the outbox in order as `runtime:packet`, at most [`WINDOW`]
//!   unconfirmed; each `runtime:packetsent` confirms the oldest (the remote
//!   answers in order), which drops its packet and so acks its broker
//!   delivery. A `runtime:error` instead fails the oldest (nacked, so
//!   dead-lettered).
//! - Puts the remote's `runtime:packet`s in the inbox and wakes the node
//!   once per burst of frames; a data packet inside a group is held back
//!   until the next frame or [`HOLD`], so that the `endgroup` after it
//!   reaches the graph in the same step (an exported outport frames the
//!   brackets around its data only if it sees them together);
//!   while the inbox is full it reads nothing (the remote's writes then
//!   wait in TCP: back-pressure). Packets from ports the node does not have
//!   are counted and logged, never sent on.
//! - When the connection is lost, what was in flight goes back to the front
//!   of the outbox and is sent again after reconnecting, with back-off from
//!   [`FIRST_BACKOFF`] to [`MAX_BACKOFF`]. Every change of state goes to
//!   the log and to the node's line in [`Statuses`](crate::runtime::Statuses).

use super::connect::{self, Socket};
use super::shared::{Settings, Shared};
use super::wire;
use crate::runtime::{Attached, Body, Packet};
use futures_util::{FutureExt, SinkExt, StreamExt};
use msgflo_protocol::messages::{Output, PacketEvent, Response, RuntimeOutput, RuntimePorts};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

/// Longest wait for a connection and the remote's first answers.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// First pause before connecting again.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause before connecting again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long after `runtime:runtime` the remote's `runtime:ports` may come.
pub const PORTS_WAIT: Duration = Duration::from_secs(2);
/// The longest a data packet from inside a remote group waits for the
/// `endgroup` that may follow it (the remote writes them back to back).
pub const HOLD: Duration = Duration::from_millis(100);
/// Most packets sent and not yet confirmed by the remote.
pub const WINDOW: usize = 256;

/// Checks an address before the link starts (one line).
pub(super) fn check_address(address: &str) -> Result<(), String> {
    connect::parse(address).map(drop)
}

/// How a session ended.
enum End {
    /// The node is gone.
    Closed,
    /// Lost or refused, and why.
    Lost(String),
}

/// Runs the link until the node is gone.
pub(super) async fn run(shared: Arc<Shared>, node: Attached) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let settings = {
            let queues = shared.lock();
            if queues.closed {
                return;
            }
            queues.settings.clone()
        };
        let Some(address) = settings.address.clone() else {
            shared.link.notified().await;
            continue;
        };
        status(&node, format!("connecting to {address}"), false);
        let mut connected = false;
        let end = match timeout(CONNECT_TIMEOUT, connect::open(&address)).await {
            Err(_) => End::Lost(format!(
                "no connection to {address} within {CONNECT_TIMEOUT:?}"
            )),
            Ok(Err(e)) => End::Lost(e),
            Ok(Ok(socket)) => {
                let mut session = Session {
                    shared: &shared,
                    node: &node,
                    settings: &settings,
                    address: &address,
                    socket,
                    graph: String::new(),
                    unknown: BTreeMap::new(),
                    open: BTreeMap::new(),
                    hold_until: None,
                };
                let end = session.run(&mut connected).await;
                let _ = session.socket.close(None).await;
                end
            }
        };
        {
            let mut queues = shared.lock();
            queues.requeue();
            queues.held = 0;
        }
        node.wake.wake();
        let reason = match end {
            End::Closed => return,
            End::Lost(reason) => reason,
        };
        if connected {
            backoff = FIRST_BACKOFF;
        }
        status(
            &node,
            format!("connecting to {address} again in {backoff:?}: {reason}"),
            true,
        );
        let closed = async {
            while !shared.lock().closed {
                shared.link.notified().await;
            }
        };
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = closed => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn status(node: &Attached, line: String, warn: bool) {
    if warn {
        tracing::warn!(node = %node.node, "remote: {line}");
    } else {
        tracing::info!(node = %node.node, "remote: {line}");
    }
    node.statuses.set(&node.node, line);
}

struct Session<'a> {
    shared: &'a Shared,
    node: &'a Attached,
    settings: &'a Settings,
    address: &'a str,
    socket: Socket,
    /// The remote graph packets go to.
    graph: String,
    /// Packets from remote outports the node does not have, by port.
    unknown: BTreeMap<String, u64>,
    /// Groups open on each of the node's outports.
    open: BTreeMap<usize, usize>,
    /// Until when the inbox's last packet is held back (see [`HOLD`]).
    hold_until: Option<tokio::time::Instant>,
}

impl Session<'_> {
    async fn run(&mut self, connected: &mut bool) -> End {
        let ports = match timeout(CONNECT_TIMEOUT, self.hello()).await {
            Err(_) => {
                return End::Lost(format!(
                    "{} did not answer runtime:getruntime within {CONNECT_TIMEOUT:?}",
                    self.address
                ))
            }
            Ok(Err(end)) => return end,
            Ok(Ok(ports)) => ports,
        };
        *connected = true;
        let mismatch = self.check(ports.as_ref());
        status(
            self.node,
            format!(
                "connected to {} (graph {}){mismatch}",
                self.address, self.graph
            ),
            !mismatch.is_empty(),
        );
        loop {
            if let Err(end) = self.send_waiting().await {
                return end;
            }
            let room = self.shared.lock().inbox.len() < self.shared.capacity;
            let hold_until = self.hold_until;
            let held = async move {
                match hold_until {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = self.shared.link.notified() => {}
                () = held => {
                    self.release(None);
                    self.node.wake.wake();
                }
                message = self.socket.next(), if room => {
                    let received = self.receive(message).and_then(|()| self.receive_ready());
                    // One wake for what came together: a data message and
                    // the `endgroup` after it reach the graph in one step,
                    // so an outport framing brackets sees both.
                    self.node.wake.wake();
                    if let Err(end) = received {
                        return end;
                    }
                }
            }
        }
    }

    /// `runtime:getruntime`, then the graph and its ports (`None`: the
    /// remote sent none within [`PORTS_WAIT`] of its `runtime:runtime`).
    async fn hello(&mut self) -> Result<Option<RuntimePorts>, End> {
        let secret = self.settings.secret.as_deref();
        self.socket
            .send(Message::text(wire::getruntime(secret)))
            .await
            .map_err(|e| End::Lost(format!("cannot write to {}: {e}", self.address)))?;
        let mut graph = self.settings.graph.clone();
        let mut runtime_seen: Option<tokio::time::Instant> = None;
        let mut ports: Vec<RuntimePorts> = Vec::new();
        loop {
            if let Some(seen) = runtime_seen {
                let ours = ports
                    .iter()
                    .position(|p| graph.as_deref().is_none_or(|g| p.graph == g));
                if let Some(at) = ours {
                    let ports = ports.swap_remove(at);
                    self.graph = graph.unwrap_or_else(|| ports.graph.clone());
                    return Ok(Some(ports));
                }
                if seen.elapsed() >= PORTS_WAIT {
                    if let Some(graph) = graph {
                        self.graph = graph;
                        return Ok(None);
                    }
                    return Err(End::Lost(format!(
                        "{} names no graph: set the remote's `graph`",
                        self.address
                    )));
                }
            }
            let wait = runtime_seen.map_or(CONNECT_TIMEOUT, |seen| {
                PORTS_WAIT.saturating_sub(seen.elapsed())
            });
            let text = match timeout(wait, self.socket.next()).await {
                Err(_) => continue,
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(Message::Close(_))) | None) => {
                    return Err(End::Lost(format!("{} closed the connection", self.address)))
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => return Err(End::Lost(format!("{}: {e}", self.address))),
            };
            match Response::decode(&text).map(|r| r.output) {
                Ok(Output::Runtime(RuntimeOutput::Runtime(info))) => {
                    // NoFlo answers a wrong secret with no capabilities, then
                    // refuses every packet: better not to start.
                    if !info.capabilities.iter().any(|c| c == "protocol:runtime") {
                        return Err(End::Lost(format!(
                            "{} does not let this secret send packets (its capabilities: [{}])",
                            self.address,
                            info.capabilities.join(", ")
                        )));
                    }
                    runtime_seen.get_or_insert_with(tokio::time::Instant::now);
                    if graph.is_none() {
                        graph = info.graph.clone();
                    }
                }
                Ok(Output::Runtime(RuntimeOutput::Ports(received))) => ports.push(received),
                Ok(Output::Runtime(RuntimeOutput::Error(e))) => {
                    return Err(End::Lost(format!(
                        "{} refused runtime:getruntime: {}",
                        self.address, e.message
                    )))
                }
                _ => {}
            }
        }
    }

    /// The ports the graph connects that the remote lacks, as a clause for
    /// the status line (empty when all are there).
    fn check(&self, ports: Option<&RuntimePorts>) -> String {
        let Some(ports) = ports else {
            return String::new();
        };
        let has = |list: &[msgflo_protocol::messages::PortDef], name: &str| {
            list.iter().any(|p| p.id.eq_ignore_ascii_case(name))
        };
        let inports = self.node.inports.iter().skip(super::SETTINGS.len());
        let missing: Vec<String> = inports
            .filter(|p| !has(&ports.in_ports, p.id.as_str()))
            .map(|p| format!("inport {}", p.id))
            .chain(
                self.node
                    .outports
                    .iter()
                    .filter(|p| !has(&ports.out_ports, p.id.as_str()))
                    .map(|p| format!("outport {}", p.id)),
            )
            .collect();
        if missing.is_empty() {
            String::new()
        } else {
            format!("; the remote graph has no {}", missing.join(", "))
        }
    }

    /// Sends what waits in the outbox, as far as the window allows.
    async fn send_waiting(&mut self) -> Result<(), End> {
        let frames: Vec<String> = {
            let mut queues = self.shared.lock();
            if queues.closed {
                return Err(End::Closed);
            }
            let room = WINDOW.saturating_sub(queues.in_flight.len());
            let secret = self.settings.secret.as_deref();
            let mut frames = Vec::new();
            // The window never parts a data packet from the `endgroup`s
            // after it: a remote that frames brackets onto its data (a
            // msgflo coordinator) would otherwise send the data without them.
            while let Some(next) = queues.outbox.front() {
                if frames.len() >= room && next.event != PacketEvent::Endgroup {
                    break;
                }
                let Some(outgoing) = queues.outbox.pop_front() else {
                    break;
                };
                frames.push(outgoing.frame(&self.graph, secret));
                queues.in_flight.push_back(outgoing);
            }
            frames
        };
        if frames.is_empty() {
            return Ok(());
        }
        let lost = |e| End::Lost(format!("cannot write to {}: {e}", self.address));
        for frame in frames {
            self.socket.feed(Message::text(frame)).await.map_err(lost)?;
        }
        self.socket.flush().await.map_err(lost)
    }

    /// Takes the frames that are already here, as long as the inbox has room.
    fn receive_ready(&mut self) -> Result<(), End> {
        while self.shared.lock().inbox.len() < self.shared.capacity {
            match self.socket.next().now_or_never() {
                Some(message) => self.receive(message)?,
                None => break,
            }
        }
        Ok(())
    }

    fn receive(
        &mut self,
        message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Result<(), End> {
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => {
                return Err(End::Lost(format!("{} closed the connection", self.address)))
            }
            Some(Ok(_)) => return Ok(()),
            Some(Err(e)) => return Err(End::Lost(format!("{}: {e}", self.address))),
        };
        match Response::decode(&text).map(|r| r.output) {
            Ok(Output::Runtime(RuntimeOutput::PacketSent(_))) => {
                let confirmed = self.shared.lock().in_flight.pop_front();
                drop(confirmed);
            }
            Ok(Output::Runtime(RuntimeOutput::Error(e))) => {
                let refused = self.shared.lock().in_flight.pop_front();
                match refused {
                    Some(outgoing) => {
                        tracing::warn!(node = %self.node.node, port = %outgoing.port, error = %e.message,
                            "remote: the remote refused a packet; it is failed");
                        if let Some(token) = &outgoing.packet.token {
                            token.fail();
                        }
                    }
                    None => {
                        tracing::warn!(node = %self.node.node, error = %e.message, "remote: error from the remote")
                    }
                }
            }
            Ok(Output::Runtime(RuntimeOutput::Packet(packet))) => self.incoming(packet),
            Ok(Output::Runtime(RuntimeOutput::Ports(ports))) => {
                if ports.graph == self.graph {
                    let mismatch = self.check(Some(&ports));
                    status(
                        self.node,
                        format!(
                            "connected to {} (graph {}), its ports changed{mismatch}",
                            self.address, self.graph
                        ),
                        !mismatch.is_empty(),
                    );
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(node = %self.node.node, error = %e, "remote: a message from the remote was not understood; skipped");
            }
        }
        Ok(())
    }

    fn incoming(&mut self, packet: msgflo_protocol::messages::Packet) {
        let outports = &self.node.outports;
        let port = outports
            .iter()
            .position(|p| p.id.as_str() == packet.port)
            .or_else(|| {
                outports
                    .iter()
                    .position(|p| p.id.as_str().eq_ignore_ascii_case(&packet.port))
            });
        let Some(port) = port else {
            let count = self.unknown.entry(packet.port.clone()).or_default();
            *count += 1;
            if count.is_power_of_two() {
                tracing::warn!(node = %self.node.node, port = %packet.port, count = *count,
                    "remote: packets from a remote outport this node does not connect; skipped");
            }
            return;
        };
        let Some(packet) = wire::incoming(packet.event, packet.payload.as_ref()) else {
            return;
        };
        let open = self.open.entry(port).or_default();
        let hold = match &packet.body {
            Body::Open(_) => {
                *open += 1;
                false
            }
            Body::Close(_) => {
                *open = open.saturating_sub(1);
                false
            }
            Body::Data(_) => *open > 0,
        };
        self.release(Some((port, packet)));
        if hold {
            self.shared.lock().held = 1;
            self.hold_until = Some(tokio::time::Instant::now() + HOLD);
        }
    }

    /// Lets the node take every packet in the inbox, after adding `packet`.
    fn release(&mut self, packet: Option<(usize, Packet)>) {
        let mut queues = self.shared.lock();
        queues.held = 0;
        queues.inbox.extend(packet);
        self.hold_until = None;
    }
}
