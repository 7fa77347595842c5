//! `msgflo-dump-message`: prints messages from a queue as JSON (msgflo's
//! tool, and more).
//!
//! - msgflo's output: `--amount 1` prints the message, `--amount N` one JSON
//!   array of N messages, on one line.
//! - `--follow`: one JSON line per message as it arrives, until SIGINT /
//!   SIGTERM (exit 0) or `--amount` messages.
//! - `--outport Q`: a private copy of outport Q's messages
//!   ([`Transport::tap`]), so the inports bound to it lose nothing.
//! - Messages are acked only once their text is written out (at-least-once:
//!   an interrupted dump loses nothing that was not printed). The array is
//!   written as messages arrive, so any amount works within the broker's
//!   prefetch and in-flight limits.
//! - A payload that is not JSON is printed as a JSON string (invalid UTF-8
//!   replaced); JSON spread over several lines is printed compact.

use super::{close, connect, ensure_inport, queue_name, CONNECT_TIMEOUT};
use clap::{ArgAction, Parser};
use futures_util::FutureExt;
use msgflo_cli as cli;
use msgflo_cli::settings::{keys, Flags, Key, Settings, SettingsArgs};
use msgflo_transport::{Consumer, Delivery, Transport};
use std::io::Write;
use std::time::Duration;
use tokio::time::Instant;

/// Most messages written (and then acked) at once.
const BATCH: usize = 500;

/// Prints messages from a msgflo queue as JSON.
#[derive(Parser, Debug)]
#[command(name = "msgflo-dump-message", version)]
pub struct Args {
    /// Broker URL [default: $MSGFLO_BROKER, $CLOUDAMQP_URL, amqp://localhost].
    #[arg(long)]
    pub broker: Option<String>,
    /// Inport queue to take messages from (they are consumed).
    #[arg(long, default_value = "", conflicts_with = "outport")]
    pub queue: String,
    /// Outport to watch instead: a private copy of its messages, nothing is
    /// taken from the inports bound to it. Only messages sent from now on.
    #[arg(long)]
    pub outport: Option<String>,
    /// How many messages to print [default: 1; with --follow: no limit].
    #[arg(long)]
    pub amount: Option<u64>,
    /// Print each message on a line of its own as it arrives, until
    /// SIGINT/SIGTERM or --amount messages.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false",
          value_parser = clap::builder::BoolishValueParser::new(), action = ArgAction::Set)]
    pub follow: bool,
    /// Give up (exit code 1) if not all messages arrived within this many seconds.
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Create the queue (as an inport) if it does not exist.
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

/// Runs the tool.
pub async fn run(args: Args, settings: Settings) -> Result<(), String> {
    let amount = match (args.amount, args.follow) {
        (Some(0), _) => return Err("--amount must be at least 1".into()),
        (Some(n), _) => Some(n),
        (None, true) => None,
        (None, false) => Some(1),
    };
    let deadline = match args.timeout {
        Some(s) if s.is_finite() && s > 0.0 => Some(Instant::now() + Duration::from_secs_f64(s)),
        Some(s) => return Err(format!("invalid --timeout {s}: seconds, more than 0")),
        None => None,
    };
    let shutdown = cli::shutdown_signal();
    let broker = settings.broker();
    let transport = connect(&broker, "msgflo-dump-message", CONNECT_TIMEOUT).await?;
    let outcome = dump(transport.as_ref(), &args, amount, deadline, shutdown).await;
    close(transport.as_ref()).await;
    outcome
}

async fn dump(
    transport: &dyn Transport,
    args: &Args,
    amount: Option<u64>,
    deadline: Option<Instant>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let prefetch = u16::try_from(amount.unwrap_or(u64::MAX).min(BATCH as u64)).unwrap_or(1);
    let (mut consumer, source) = match &args.outport {
        Some(outport) => {
            let outport = queue_name(outport, "--outport")?;
            let tap = transport.tap(&outport).await.map_err(|e| e.to_string())?;
            (tap.consumer, format!("outport {outport}"))
        }
        None => {
            let queue = queue_name(&args.queue, "--queue (or --outport)")?;
            ensure_inport(transport, &queue, args.declare).await?;
            let consumer = transport
                .consume(&queue, prefetch)
                .await
                .map_err(|e| e.to_string())?;
            (consumer, format!("queue {queue}"))
        }
    };
    // The ready line (tests and scripts wait for it before sending).
    let wanted = match amount {
        Some(1) => "1 message".into(),
        Some(n) => format!("{n} messages"),
        None => "messages".into(),
    };
    eprintln!("reading {wanted} from {source}");
    let mut out = Output::new(args.follow, amount);
    let mut shutdown = std::pin::pin!(shutdown);
    let ended = loop {
        if amount.is_some_and(|n| out.written >= n) {
            break None;
        }
        let timer = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let first = tokio::select! {
            delivery = consumer.next() => delivery,
            () = &mut shutdown => break None,
            () = timer => break Some(timed_out(&out, amount, &source, args.timeout)),
        };
        let Some(first) = first else {
            break Some(format!(
                "the broker connection closed while reading {source}"
            ));
        };
        let batch = more(first, &mut consumer, amount.map(|n| n - out.written));
        if let Err(e) = out.write(&batch) {
            break Some(format!("cannot write to standard output: {e}"));
        }
        for delivery in batch {
            if let Err(error) = delivery.ack().await {
                tracing::warn!(%error, "ack failed; the message may come again");
            }
        }
    };
    if let Err(e) = out.finish() {
        return Err(format!("cannot write to standard output: {e}"));
    }
    match ended {
        None => Ok(()),
        Some(error) => Err(error),
    }
}

/// `first` and whatever else has arrived already, up to `left` and [`BATCH`].
fn more(first: Delivery, consumer: &mut Consumer, left: Option<u64>) -> Vec<Delivery> {
    let limit = left.unwrap_or(u64::MAX).min(BATCH as u64);
    let mut batch = vec![first];
    while (batch.len() as u64) < limit {
        match consumer.next().now_or_never() {
            Some(Some(delivery)) => batch.push(delivery),
            _ => break,
        }
    }
    batch
}

fn timed_out(out: &Output, amount: Option<u64>, source: &str, timeout: Option<f64>) -> String {
    let seconds = timeout.unwrap_or_default();
    match amount {
        Some(n) => format!(
            "only {} of {n} messages arrived on {source} within {seconds} s",
            out.written
        ),
        None => format!("stopped after {seconds} s (--timeout)"),
    }
}

/// Writes messages in msgflo's shape: one object, or one array on a line,
/// or (following) one line each; flushed after each batch.
struct Output {
    follow: bool,
    array: bool,
    written: u64,
    stdout: std::io::Stdout,
}

impl Output {
    fn new(follow: bool, amount: Option<u64>) -> Self {
        Self {
            follow,
            array: !follow && amount != Some(1),
            written: 0,
            stdout: std::io::stdout(),
        }
    }

    fn write(&mut self, batch: &[Delivery]) -> std::io::Result<()> {
        let mut out = self.stdout.lock();
        for delivery in batch {
            let text = as_json(&delivery.payload);
            if self.follow || !self.array {
                writeln!(out, "{text}")?;
            } else if self.written == 0 {
                write!(out, "[{text}")?;
            } else {
                write!(out, ",{text}")?;
            }
            self.written += 1;
        }
        out.flush()
    }

    /// Closes the array (also a partial one: what was printed was acked).
    fn finish(&mut self) -> std::io::Result<()> {
        if !self.array {
            return Ok(());
        }
        let mut out = self.stdout.lock();
        if self.written == 0 {
            return Ok(());
        }
        writeln!(out, "]")?;
        out.flush()
    }
}

/// The payload as one line of JSON: as sent if it is JSON on one line,
/// compacted if it spans lines, a JSON string if it is not JSON.
pub fn as_json(payload: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(value) => {
            let single_line = !payload.iter().any(|b| matches!(b, b'\n' | b'\r'));
            match std::str::from_utf8(payload) {
                Ok(text) if single_line => text.trim().to_owned(),
                _ => value.to_string(),
            }
        }
        Err(_) => {
            serde_json::Value::String(String::from_utf8_lossy(payload).into_owned()).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::as_json;

    #[test]
    fn payloads_print_as_one_json_line() {
        assert_eq!(as_json(br#"{"b":1, "a":[2]}"#), r#"{"b":1, "a":[2]}"#);
        assert_eq!(as_json(b"{\n  \"a\": 1\n}"), r#"{"a":1}"#);
        assert_eq!(as_json(b"hello"), r#""hello""#);
        assert_eq!(as_json(b"\xff\n"), "\"\u{fffd}\\n\"");
        assert_eq!(as_json(b""), r#""""#);
    }
}
