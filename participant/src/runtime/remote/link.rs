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
//!   once per burst of frames (a data packet inside a group that came last
//!   waits for the next frame, at most [`HOLD`], so that the `endgroup`
//!   after it reaches the graph in the same step);
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
use msgflo_transport::backoff::Backoff;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

/// Longest wait for a connection and the remote's first answers.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// First pause before connecting again.
pub const FIRST_BACKOFF: Duration = msgflo_transport::backoff::INITIAL;
/// Longest pause before connecting again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long after `runtime:runtime` the remote's `runtime:ports` may come.
pub const PORTS_WAIT: Duration = Duration::from_secs(2);
/// The longest a data packet from inside a remote group is kept for the
/// frame after it (see `Session::hand_over`).
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
    let mut backoff = Backoff::new(MAX_BACKOFF);
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
                    burst: VecDeque::new(),
                    kept: None,
                    kept_since: tokio::time::Instant::now(),
                    open: BTreeMap::new(),
                };
                let end = session.run(&mut connected).await;
                let _ = session.socket.close(None).await;
                // What came is the graph's, however the session ended.
                let mut rest = std::mem::take(&mut session.burst);
                rest.extend(session.kept.take());
                if !rest.is_empty() {
                    shared.lock().inbox.append(&mut rest);
                    node.wake.wake();
                }
                end
            }
        };
        shared.lock().requeue();
        let reason = match end {
            End::Closed => return,
            End::Lost(reason) => reason,
        };
        if connected {
            backoff.reset();
        }
        let pause = backoff.next_delay();
        status(
            &node,
            format!("connecting to {address} again in {pause:?}: {reason}"),
            true,
        );
        let closed = async {
            while !shared.lock().closed {
                shared.link.notified().await;
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = closed => return,
        }
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
    /// Packets of the frames read in one go, for the inbox.
    burst: VecDeque<(usize, Packet)>,
    /// A data packet inside a group kept for the frame after it, and since
    /// when (see [`Session::hand_over`]).
    kept: Option<(usize, Packet)>,
    kept_since: tokio::time::Instant,
    /// Groups open on each of the node's outports.
    open: BTreeMap<usize, usize>,
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
            let hold_until = self.kept.as_ref().map(|_| self.kept_since + HOLD);
            let held = async move {
                match hold_until {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = self.shared.link.notified() => {}
                message = self.socket.next(), if room => {
                    if let Some(kept) = self.kept.take() {
                        self.burst.push_front(kept);
                    }
                    let received = self.receive(message).and_then(|()| self.receive_ready());
                    self.hand_over();
                    if let Err(end) = received {
                        return end;
                    }
                }
                () = held => {
                    if let Some(kept) = self.kept.take() {
                        self.shared.lock().inbox.push_back(kept);
                        self.node.wake.wake();
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

    /// Gives the node what came together, in one go: a data packet and the
    /// `endgroup` after it then reach its outport in one step (a graph
    /// participant's outport frames the brackets onto its data only if it
    /// sees them so). A data packet inside a group that came last is kept
    /// until the next frame (the remote writes an `endgroup` right after
    /// its data, but it may arrive in another read), at most [`HOLD`].
    fn hand_over(&mut self) {
        if let Some((port, last)) = self.burst.back() {
            let inside = self.open.get(port).is_some_and(|open| *open > 0);
            if inside && !last.is_bracket() {
                self.kept = self.burst.pop_back();
                self.kept_since = tokio::time::Instant::now();
            }
        }
        if !self.burst.is_empty() {
            self.shared.lock().inbox.append(&mut self.burst);
            self.node.wake.wake();
        }
    }

    /// Takes the frames that are already here, as long as the inbox has room.
    fn receive_ready(&mut self) -> Result<(), End> {
        while self.shared.lock().inbox.len() + self.burst.len() < self.shared.capacity {
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
        match packet.body {
            Body::Open(_) => *open += 1,
            Body::Close(_) => *open = open.saturating_sub(1),
            Body::Data(_) | Body::Json(_) => {}
        }
        self.burst.push_back((port, packet));
    }
}
