//! `msgflo-send-message`: puts JSON messages into an inport queue (msgflo's
//! tool, which crashes in msgflo 0.12.3, and more).
//!
//! Publishing is pipelined: up to `--window` messages are in flight at once,
//! each confirmed by the broker (publisher confirms / PUBACK), sent in order
//! from one task. The report on stdout counts the confirms. `--rate` paces
//! the sends; a progress bar shows on stderr when it is a terminal and many
//! messages go out.

use super::input::{self, Messages};
use super::progress;
use super::{close, connect, ensure_inport, queue_name, CONNECT_TIMEOUT};
use bytes::Bytes;
use clap::{ArgAction, Parser};
use futures_util::stream::{FuturesUnordered, StreamExt};
use msgflo_cli::settings::{keys, Flags, Key, Settings, SettingsArgs};
use msgflo_protocol::ids::QueueName;
use msgflo_transport::Transport;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Sends JSON data to a msgflo inport queue.
#[derive(Parser, Debug)]
#[command(name = "msgflo-send-message", version)]
pub struct Args {
    /// Broker URL [default: $MSGFLO_BROKER, $CLOUDAMQP_URL, amqp://localhost].
    #[arg(long)]
    pub broker: Option<String>,
    /// Inport queue to send to.
    #[arg(long, default_value = "")]
    pub queue: String,
    /// The message: JSON text, sent as given.
    #[arg(long, conflicts_with = "file")]
    pub json: Option<String>,
    /// File with one JSON message per line (`-`: standard input); blank lines
    /// are skipped. Every line is checked before anything is sent.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Send the message (or the file's messages) this many times.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// Messages per second; 0 sends as fast as the broker confirms.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Most messages waiting for the broker's confirm at once.
    #[arg(long, default_value_t = 500)]
    pub window: usize,
    /// Create the queue (as an inport) if it does not exist; without this a
    /// missing queue is an error (RabbitMQ would drop the messages).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false",
          value_parser = clap::builder::BoolishValueParser::new(), action = ArgAction::Set)]
    pub declare: bool,
    /// `--config`, `--print-config`, `--log-format`.
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// The settings it reads.
pub const KEYS: &[&Key] = &[&keys::BROKER];

impl Args {
    /// The settings given as flags.
    pub fn flags(&self) -> Flags {
        Flags::new().with(&keys::BROKER, self.broker.as_ref())
    }
}

/// What was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Messages handed to the broker.
    pub sent: u64,
    /// Of those, confirmed by the broker.
    pub confirmed: u64,
}

/// Runs the tool.
pub async fn run(args: Args, settings: Settings) -> Result<(), String> {
    let queue = queue_name(&args.queue, "--queue")?;
    let messages = match (&args.json, &args.file) {
        (Some(json), _) => input::from_json(json)?,
        (None, Some(file)) => input::from_file(file)?,
        (None, None) => return Err("missing message payload (--json or --file)".into()),
    };
    if !(args.rate.is_finite() && args.rate >= 0.0) {
        return Err(format!(
            "invalid --rate {}: messages per second, 0 or more",
            args.rate
        ));
    }
    let broker = settings.broker();
    let transport = connect(&broker, "msgflo-send-message", CONNECT_TIMEOUT).await?;
    let outcome = match ensure_inport(transport.as_ref(), &queue, args.declare).await {
        // Unconstrained: tokio's cooperative budget would make the odd send
        // wait before its message is numbered, letting later ones overtake
        // it; each send's first poll must queue its message, in order.
        Ok(()) => tokio::task::unconstrained(send(&transport, &queue, &messages, &args)).await,
        Err(e) => Err(e),
    };
    close(transport.as_ref()).await;
    let report = outcome?;
    let noun = if report.sent == 1 {
        "message"
    } else {
        "messages"
    };
    println!(
        "sent {} {noun} to {queue} ({} confirmed by the broker)",
        report.sent, report.confirmed
    );
    Ok(())
}

/// Sends `messages` `args.count` times, keeping up to `args.window` in
/// flight; stops at the first failure, after the ones in flight finished.
pub async fn send(
    transport: &Arc<dyn Transport>,
    queue: &QueueName,
    messages: &Messages,
    args: &Args,
) -> Result<Report, String> {
    let total = args.count.saturating_mul(messages.0.len() as u64);
    let progress = progress::bar(total);
    let window = args.window.max(1);
    let started = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut report = Report {
        sent: 0,
        confirmed: 0,
    };
    let mut failure = None;
    let payloads = (0..args.count).flat_map(|_| messages.0.iter().cloned());
    for (index, payload) in payloads.enumerate() {
        if args.rate > 0.0 {
            let due = started + Duration::from_secs_f64(index as f64 / args.rate);
            // Confirms keep arriving while waiting for the next slot.
            while Instant::now() < due && failure.is_none() {
                tokio::select! {
                    () = tokio::time::sleep_until(due) => {}
                    Some(result) = in_flight.next(), if !in_flight.is_empty() => {
                        confirmed(result, &mut report, &mut failure, progress.as_ref());
                    }
                }
            }
        }
        while in_flight.len() >= window && failure.is_none() {
            if let Some(result) = in_flight.next().await {
                confirmed(result, &mut report, &mut failure, progress.as_ref());
            }
        }
        if failure.is_some() {
            break;
        }
        in_flight.push(send_one(transport.clone(), queue.clone(), payload));
        report.sent += 1;
    }
    while let Some(result) = in_flight.next().await {
        confirmed(result, &mut report, &mut failure, progress.as_ref());
    }
    if let Some(progress) = progress {
        progress.finish_and_clear();
    }
    match failure {
        None => Ok(report),
        Some(error) => Err(format!(
            "{error} ({} of {total} messages confirmed by the broker)",
            report.confirmed
        )),
    }
}

async fn send_one(
    transport: Arc<dyn Transport>,
    queue: QueueName,
    payload: Bytes,
) -> Result<(), String> {
    transport
        .send_to_inport(&queue, payload)
        .await
        .map_err(|e| e.to_string())
}

fn confirmed(
    result: Result<(), String>,
    report: &mut Report,
    failure: &mut Option<String>,
    progress: Option<&indicatif::ProgressBar>,
) {
    match result {
        Ok(()) => {
            report.confirmed += 1;
            if let Some(progress) = progress {
                progress.inc(1);
            }
        }
        Err(error) => {
            failure.get_or_insert(error);
        }
    }
}
