//! `msgflo-participants`: the live participants, as a table or as JSON.
//!
//! Where from:
//! - a running coordinator (`--runtime ws://HOST:PORT`, or the default
//!   `ws://localhost:3569` when something listens there), asked with the
//!   msgflo-rs FBP extension `msgflo:participants`
//!   ([`crate::core::extension`]); `--secret` as for any FBP client. It
//!   also names the graph's nodes that no participant serves, and why,
//!   and the roles whose participants it started again after they exited
//!   (after the table; on stderr with `--json`);
//! - else the broker's discovery messages, heard for `--listen` seconds
//!   (default 30: participants announce themselves every
//!   `MSGFLO_DISCOVERY_PERIOD`/2.2 s, 27 s by default), each participant
//!   named on stderr as it is heard. On MQTT that is a
//!   subscription of its own. On AMQP the `fbp` queue is shared with the
//!   coordinator, so the messages are read without acking and the
//!   connection is closed at the end: RabbitMQ puts them all back. Without
//!   a coordinator, `fbp` holds every announcement since the last one ran,
//!   so participants that stopped meanwhile are listed too.
//!
//! With `--registry URL` it asks a runtime registry instead and lists its
//! runtimes (coordinators and other FBP runtimes), not participants
//! ([`super::runtimes`]).
//!
//! With `--call NAME` (`--args JSON`, `--role R`, `--timeout 2s`) it then
//! calls each of them over the broker and prints their answers instead
//! ([`super::call`]).

pub use super::listed::Listed;
use super::{call, table};
use super::{close, connect, CONNECT_TIMEOUT};
use crate::client;
use crate::core::{PendingNode, Restarted};
use clap::{ArgAction, Parser};
use futures_util::{SinkExt, StreamExt};
use msgflo_cli::settings::{keys, mask_passwords, Flags, Key, Settings, SettingsArgs};
use msgflo_protocol::discovery::Participant;
use msgflo_transport::{discovery_queue, Transport};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// The coordinator asked when no `--runtime` is given.
pub const DEFAULT_RUNTIME: &str = "ws://localhost:3569";
/// How long the coordinator has to answer.
const ANSWER_WAIT: Duration = Duration::from_secs(5);
/// How long discovery is heard when no coordinator answers and no
/// `--listen` is given.
const DEFAULT_LISTEN_S: f64 = 30.0;

/// Lists the live msgflo participants.
#[derive(Parser, Debug)]
#[command(name = "msgflo-participants", version)]
pub struct Args {
    /// Coordinator to ask [default: ws://localhost:3569 if it answers, else
    /// the broker is listened to].
    #[arg(long)]
    pub runtime: Option<String>,
    /// FBP protocol secret of the coordinator [default: $MSGFLO_SECRET].
    #[arg(long)]
    pub secret: Option<String>,
    /// Listen to discovery on the broker for this many seconds instead of
    /// asking a coordinator.
    #[arg(long)]
    pub listen: Option<f64>,
    /// Broker URL, for listening [default: $MSGFLO_BROKER, $CLOUDAMQP_URL,
    /// `broker` in a settings file, amqp://localhost].
    #[arg(long)]
    pub broker: Option<String>,
    /// Call this on each participant (`health`, `drain`, or one of their
    /// own) and print the answers.
    #[arg(long, value_name = "NAME")]
    pub call: Option<String>,
    /// The call's arguments, as JSON [default: null].
    #[arg(long, value_name = "JSON", requires = "call")]
    pub args: Option<String>,
    /// Call only the participants of this role.
    #[arg(long, value_name = "ROLE", requires = "call")]
    pub role: Option<String>,
    /// How long to wait for the answers: seconds, or 2s, 500ms, 1m.
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    pub timeout: String,
    /// List the runtimes this runtime registry knows instead (Flowhub's
    /// API, e.g. msgflo-registry); `--registry` alone lists the one the
    /// settings name ($MSGFLO_REGISTRY, `registry` in a settings file).
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "",
          conflicts_with_all = ["runtime", "listen", "call"])]
    pub registry: Option<String>,
    /// Token of the registry's user [default: $MSGFLO_REGISTRY_TOKEN,
    /// `registry_token` in a settings file].
    #[arg(long, value_name = "TOKEN", requires = "registry")]
    pub registry_token: Option<String>,
    /// Print a JSON array instead of a table.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false",
          value_parser = clap::builder::BoolishValueParser::new(), action = ArgAction::Set)]
    pub json: bool,
    /// `--config`, `--print-config`, `--log-format`.
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// The settings it reads.
pub const KEYS: &[&Key] = &[
    &keys::BROKER,
    &keys::SECRET,
    &keys::REGISTRY,
    &keys::REGISTRY_TOKEN,
];

impl Args {
    /// The settings given as flags (`--registry` alone gives none).
    pub fn flags(&self) -> Flags {
        let registry = self.registry.as_ref().filter(|url| !url.is_empty());
        Flags::new()
            .with(&keys::BROKER, self.broker.as_ref())
            .with(&keys::SECRET, self.secret.as_ref())
            .with(&keys::REGISTRY, registry)
            .with(&keys::REGISTRY_TOKEN, self.registry_token.as_ref())
    }
}

/// Runs the tool.
pub async fn run(args: Args, settings: Settings) -> Result<(), String> {
    // Only --registry lists a registry: a `registry` in a settings file is
    // where a coordinator registers, and names the one to list.
    if args.registry.is_some() {
        let registry = settings.string(&keys::REGISTRY).ok_or(
            "--registry needs a URL (or $MSGFLO_REGISTRY, or `registry` in a settings file)",
        )?;
        let token = settings.string(&keys::REGISTRY_TOKEN);
        return super::runtimes::run(&registry, token, args.json).await;
    }
    let broker = settings.broker();
    let secret = settings.string(&keys::SECRET);
    let heard = |listed| Answer {
        listed,
        ..Answer::default()
    };
    let Answer {
        mut listed,
        pending,
        forwarded,
        restarted,
    } = match (&args.listen, &args.runtime) {
        (Some(seconds), _) => heard(listen(&broker, *seconds).await?),
        (None, Some(runtime)) => ask(runtime, secret.as_deref()).await?,
        (None, None) => match ask(DEFAULT_RUNTIME, secret.as_deref()).await {
            Ok(answer) => answer,
            Err(error) if error.starts_with("cannot connect") => {
                eprintln!(
                    "no coordinator at {DEFAULT_RUNTIME} (start msgflo, or give --runtime); \
                     listening to discovery on {} for {DEFAULT_LISTEN_S} s (--listen SECONDS)",
                    mask_passwords(&broker)
                );
                heard(listen(&broker, DEFAULT_LISTEN_S).await?)
            }
            Err(error) => return Err(error),
        },
    };
    listed.sort_by(|a, b| {
        (a.participant.role.as_str(), a.participant.id.as_str())
            .cmp(&(b.participant.role.as_str(), b.participant.id.as_str()))
    });
    if let Some(call) = call_options(&args)? {
        return call_them(&broker, args.json, &call, &listed).await;
    }
    if args.json {
        let all: Vec<Value> = listed.iter().map(Listed::to_json).collect();
        println!("{}", Value::Array(all));
        for node in &pending {
            eprintln!(
                "pending: graph node {} ({}): {}",
                node.role, node.component, node.reason
            );
        }
        for (outport, inport) in &forwarded {
            eprintln!("forwarded by the coordinator: {outport} -> {inport}");
        }
        for role in &restarted {
            eprintln!(
                "restarted by the coordinator: {} {} times, {}",
                role.role, role.restarts, role.state
            );
        }
    } else {
        print!("{}", table::render(&listed));
        if !pending.is_empty() {
            print!("\n{}", table::render_pending(&pending));
        }
        if !forwarded.is_empty() {
            print!("\n{}", table::render_forwarded(&forwarded));
        }
        if !restarted.is_empty() {
            print!("\n{}", table::render_restarted(&restarted));
        }
    }
    Ok(())
}

/// What `--call` asks for, checked before anything is asked of a broker.
fn call_options(args: &Args) -> Result<Option<call::Call>, String> {
    let Some(name) = &args.call else {
        return Ok(None);
    };
    let timeout = call::duration(&args.timeout).map_err(|e| format!("--timeout: {e}"))?;
    let call_args = match &args.args {
        Some(text) => serde_json::from_str(text).map_err(|e| format!("--args is not JSON: {e}"))?,
        None => Value::Null,
    };
    Ok(Some(call::Call {
        name: name.clone(),
        args: call_args,
        role: args.role.clone(),
        timeout,
    }))
}

/// Calls the `listed` participants over the broker and prints the rows.
async fn call_them(
    broker: &str,
    json: bool,
    call: &call::Call,
    listed: &[Listed],
) -> Result<(), String> {
    let transport = connect(broker, "msgflo-participants", CONNECT_TIMEOUT).await?;
    let rows = call::call_all(transport.clone(), listed, call).await;
    close(transport.as_ref()).await;
    let rows = rows?;
    if json {
        println!("{}", call::to_json(&rows));
    } else {
        print!("{}", call::render(call, &rows));
    }
    match call::trouble(&rows) {
        Some(trouble) => Err(trouble),
        None => Ok(()),
    }
}

/// What a coordinator says of its participants.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The participants it knows.
    pub listed: Vec<Listed>,
    /// Its graph nodes that no participant serves, and why.
    pub pending: Vec<PendingNode>,
    /// Edges whose messages it passes on itself: (outport, inport).
    pub forwarded: Vec<(String, String)>,
    /// The roles whose participants it started again, or gave up on.
    pub restarted: Vec<Restarted>,
}

/// Asks the coordinator at `runtime` for its registry, its pending nodes
/// and the edges it forwards.
pub async fn ask(runtime: &str, secret: Option<&str>) -> Result<Answer, String> {
    let request =
        client::request(runtime).map_err(|e| format!("invalid --runtime {runtime:?}: {e}"))?;
    let (mut ws, _) = match tokio::time::timeout(ANSWER_WAIT, client::open(request)).await {
        Ok(Ok(connected)) => connected,
        Ok(Err(e)) => {
            return Err(format!(
                "cannot connect to the coordinator at {runtime}: {e}"
            ))
        }
        Err(_) => {
            return Err(format!(
                "cannot connect to the coordinator at {runtime}: no answer"
            ))
        }
    };
    let mut message = json!({"protocol": "msgflo", "command": "participants", "payload": {}});
    if let Some(secret) = secret {
        message["secret"] = json!(secret);
    }
    ws.send(Message::text(message.to_string()))
        .await
        .map_err(|e| format!("cannot ask the coordinator at {runtime}: {e}"))?;
    let answer = async {
        while let Some(frame) = ws.next().await {
            let frame = frame.map_err(|e| format!("the coordinator at {runtime}: {e}"))?;
            let Message::Text(text) = frame else { continue };
            let Ok(reply) = serde_json::from_str::<Value>(text.as_str()) else {
                continue;
            };
            match (reply["protocol"].as_str(), reply["command"].as_str()) {
                (Some("msgflo"), Some("participants")) => return Ok(reply),
                (_, Some("error")) => {
                    let why = reply["payload"]["message"].as_str().unwrap_or("an error");
                    return Err(format!("the coordinator at {runtime} answered: {why}"));
                }
                _ => {} // broadcasts
            }
        }
        Err(format!(
            "the coordinator at {runtime} closed the connection"
        ))
    };
    let reply = tokio::time::timeout(ANSWER_WAIT, answer)
        .await
        .map_err(|_| {
            format!("the coordinator at {runtime} did not answer within {ANSWER_WAIT:?}")
        })??;
    let _ = ws.close(None).await;
    let entries = reply["payload"]["participants"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let listed = entries
        .into_iter()
        .map(Listed::from_json)
        .collect::<Result<_, _>>()?;
    // An older coordinator sends no pending, forwarded or restarted list.
    let pending = serde_json::from_value(reply["payload"]["pending"].clone()).unwrap_or_default();
    let restarted =
        serde_json::from_value(reply["payload"]["restarted"].clone()).unwrap_or_default();
    let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let forwarded = reply["payload"]["forwarded"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .map(|e| (text(e, "outport"), text(e, "inport")))
                .collect()
        })
        .unwrap_or_default();
    Ok(Answer {
        listed,
        pending,
        forwarded,
        restarted,
    })
}

/// Hears discovery on the broker for `seconds`; see the module docs.
async fn listen(broker: &str, seconds: f64) -> Result<Vec<Listed>, String> {
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(format!("invalid --listen {seconds}: seconds, 0 or more"));
    }
    let transport = connect(broker, "msgflo-participants", CONNECT_TIMEOUT).await?;
    let heard = hear(transport.as_ref(), Duration::from_secs_f64(seconds)).await;
    // On AMQP closing puts back every unacked discovery message.
    close(transport.as_ref()).await;
    heard
}

async fn hear(transport: &dyn Transport, wait: Duration) -> Result<Vec<Listed>, String> {
    let mut consumer = match transport.capabilities().shared_discovery {
        // Unlimited prefetch: the whole backlog, none of it acked.
        true => transport.consume(&discovery_queue(), 0).await,
        false => transport.watch_discovery().await,
    }
    .map_err(|e| e.to_string())?;
    let end = Instant::now() + wait;
    let mut seen: BTreeMap<String, (Participant, Instant, Instant)> = BTreeMap::new();
    let mut unacked = Vec::new();
    while let Ok(Some(delivery)) = tokio::time::timeout_at(end, consumer.next()).await {
        let now = Instant::now();
        match Participant::decode(&delivery.payload) {
            Ok(participant) => {
                let id = participant.id.to_string();
                if !seen.contains_key(&id) {
                    eprintln!("heard {} ({id})", participant.role);
                }
                let first = seen.get(&id).map_or(now, |(_, first, _)| *first);
                seen.insert(id, (participant, first, now));
            }
            Err(error) => tracing::debug!(%error, "not a participant"),
        }
        // Held, never acked: the broker gets them back on close.
        unacked.push(delivery);
    }
    let now = Instant::now();
    let ms = |at: Instant| u64::try_from((now - at).as_millis()).unwrap_or(u64::MAX);
    Ok(seen
        .into_values()
        .map(|(participant, first, last)| Listed {
            participant,
            first_seen_ms_ago: ms(first),
            last_seen_ms_ago: ms(last),
        })
        .collect())
}
