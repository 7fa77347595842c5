//! The coordinator at scale: `msgflo` (a process of its own) hears discovery
//! messages from many simulated participants, then answers `component:list`
//! over the FBP protocol while holding them all.
//!
//! `participants` distinct participants (each its own component) announce
//! themselves `rounds` times (participants re-announce periodically), then
//! one last participant with a component of its own: the coordinator takes
//! `fbp` in order, so once it tells its FBP clients about that last
//! component, it has processed every message before it.

use crate::processes::{Memory, Process};
use anyhow::{bail, Context, Result};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use futures_util::SinkExt;
use msgflo_coordinator::client;
use msgflo_participant::protocol::discovery::{Participant, Port};
use msgflo_participant::transport::{connect, ConnectOptions, Transport};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// How long the coordinator may take to process the announcements.
const PROCESSING: Duration = Duration::from_secs(120);
/// How long one reply may take.
const REPLY: Duration = Duration::from_secs(10);
/// Announcements in flight at once.
const PIPELINE: usize = 256;

/// How `msgflo --broker embedded` names its broker.
const EMBEDDED: &str = "embedded MQTT broker on ";

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Scale {
    pub messages: usize,
    pub participants: usize,
    /// From the first announcement sent until the last one was processed.
    pub processing: Duration,
    /// `component:list` round trips (request to `componentsready`).
    pub list: Vec<Duration>,
    /// Components the last `component:list` named.
    pub listed: usize,
    pub memory: Memory,
}

/// Starts `msgflo` on `broker` (`embedded` runs its own MQTT broker), sends
/// `participants` x `rounds` announcements and one more, lists components
/// `lists` times.
pub async fn measure(
    broker: &str,
    participants: usize,
    rounds: usize,
    lists: usize,
) -> Result<Scale> {
    let port = free_port()?;
    let args = [
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--broker",
        broker,
    ];
    let started = format!("msgflo started on ws://127.0.0.1:{port}");
    let (mut coordinator, first) = Process::start("msgflo", &args, |line| {
        line == started || line.starts_with(EMBEDDED)
    })
    .await?;
    // With an embedded broker, its line comes first, then the ready line.
    let broker = match first.strip_prefix(EMBEDDED) {
        Some(url) => {
            let url = url.to_owned();
            coordinator.wait_for_line(|line| line == started).await?;
            url
        }
        None => broker.to_owned(),
    };
    coordinator.drain_output();
    let result = run(&coordinator, &broker, port, participants, rounds, lists).await;
    coordinator.stop().await?;
    result
}

async fn run(
    coordinator: &Process,
    broker: &str,
    port: u16,
    participants: usize,
    rounds: usize,
    lists: usize,
) -> Result<Scale> {
    let mut fbp = Fbp::connect(port).await?;
    let transport = connect(broker, ConnectOptions::default())
        .await
        .with_context(|| format!("cannot connect to {broker}"))?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let last = format!("bench/Last{run}");
    let mut messages: Vec<Bytes> = (0..rounds)
        .flat_map(|_| {
            (0..participants).map(|i| announcement(&run, &i.to_string(), &format!("bench/C{i}")))
        })
        .collect::<Result<_>>()?;
    messages.push(announcement(&run, "last", &last)?);
    let count = messages.len();

    let started = Instant::now();
    // The sender runs on a task of its own, so that reading the
    // coordinator's messages keeps up (it drops a client 4,096 behind).
    let sending = tokio::spawn(send_all(transport.clone(), messages));
    fbp.until_component(&last).await?;
    sending.await.context("the sender panicked")??;
    let processing = started.elapsed();

    let mut list = Vec::with_capacity(lists);
    let mut listed = 0;
    for _ in 0..lists.max(1) {
        let began = Instant::now();
        listed = fbp.list_components().await?;
        list.push(began.elapsed());
    }
    let memory = coordinator.memory()?;
    transport.close().await?;
    Ok(Scale {
        messages: count,
        participants: participants + 1,
        processing,
        list,
        listed,
        memory,
    })
}

/// A discovery message of participant `benchRUN-N-p` (role `benchRUN-N`)
/// with one inport and one outport.
fn announcement(run: &str, n: &str, component: &str) -> Result<Bytes> {
    let role = format!("bench{run}-{n}");
    let id = format!("{role}-p");
    let mut participant = Participant::new(
        id.as_str().try_into()?,
        role.as_str().try_into()?,
        component,
    );
    participant.inports.push(Port::new(
        "in".try_into()?,
        Some(format!("{role}.IN").try_into()?),
    ));
    participant.outports.push(Port::new(
        "out".try_into()?,
        Some(format!("{role}.OUT").try_into()?),
    ));
    Ok(Bytes::from(participant.encode()))
}

async fn send_all(transport: Arc<dyn Transport>, messages: Vec<Bytes>) -> Result<()> {
    stream::iter(messages)
        .map(|message| {
            let transport = transport.clone();
            async move { transport.announce(message).await }
        })
        .buffered(PIPELINE)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// An FBP protocol client (WebSocket, subprotocol `noflo`).
struct Fbp {
    ws: client::Socket,
}

impl Fbp {
    async fn connect(port: u16) -> Result<Self> {
        let url = format!("ws://127.0.0.1:{port}/");
        let (ws, _) = client::connect(&url)
            .await
            .with_context(|| format!("cannot open the FBP protocol on port {port}"))?;
        Ok(Self { ws })
    }

    async fn next(&mut self, wait: Duration) -> Result<Value> {
        loop {
            let frame = tokio::time::timeout(wait, self.ws.next())
                .await
                .with_context(|| format!("the coordinator said nothing for {wait:?}"))?
                .context("the coordinator closed the FBP connection")??;
            if let Message::Text(text) = frame {
                return Ok(serde_json::from_str(text.as_str())?);
            }
        }
    }

    /// Waits for the coordinator's `component:component` about `name`.
    async fn until_component(&mut self, name: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + PROCESSING;
        let mut heard = 0usize;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self.next(left).await.with_context(|| {
                format!("waiting for the coordinator to list {name} ({heard} messages heard)")
            })?;
            heard += 1;
            if message["command"] == "component" && message["payload"]["name"] == name {
                return Ok(());
            }
        }
    }

    /// `component:list`; returns how many components came before
    /// `componentsready`.
    async fn list_components(&mut self) -> Result<usize> {
        let request = json!({"protocol": "component", "command": "list", "payload": {}});
        self.ws.send(Message::text(request.to_string())).await?;
        let mut components = 0;
        loop {
            let message = self.next(REPLY).await?;
            match (message["protocol"].as_str(), message["command"].as_str()) {
                (Some("component"), Some("component")) => components += 1,
                (Some("component"), Some("componentsready")) => return Ok(components),
                (_, Some("error")) => bail!("component:list failed: {message}"),
                _ => {}
            }
        }
    }
}
