//! How the command-line programs log, on stderr: `RUST_LOG` (default
//! `warn`; lapin's and the embedded broker's rumqttd logs off) and
//! `--log-format` / `MSGFLO_LOG_FORMAT` / `log_format` in a settings file
//! (see [`crate::settings`]):
//! - `text` (default): lines for people, coloured only when stderr is a
//!   terminal and `NO_COLOR` is not set — never in a file, a pipe or
//!   `docker logs`;
//! - `json`: one JSON object per line for log collectors, the event's fields
//!   at the top level (`{"timestamp":..,"level":"WARN","message":..,"target":..}`).
//!
//! Programs that start others (the coordinator, `msgflo-setup`) forward
//! their output; [`strip_ansi`] takes terminal codes out of it.
//!
//! A program may give the subscriber more layers ([`init_with`]): a
//! participant's OpenTelemetry layer, which takes only its own spans.

use std::io::IsTerminal;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// A layer of the global subscriber, beside the log lines (each filters
/// what it takes itself).
pub type BoxedLayer = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

/// How a program logs.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Lines for people (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The value as given on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// The environment variable that sets the log format (`--log-format` wins);
/// also how the coordinator hands its format to the participants it starts.
pub const LOG_FORMAT_ENV: &str = "MSGFLO_LOG_FORMAT";

/// Installs the global logger: `format` on stderr, filtered by `RUST_LOG`.
pub fn init(format: LogFormat) {
    init_with(format, Vec::new());
}

/// [`init`], with `more` layers beside the log lines.
pub fn init_with(format: LogFormat, more: Vec<BoxedLayer>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,lapin=off,rumqttd=off"));
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let lines = match format {
        LogFormat::Text => lines.with_ansi(colour()).with_filter(filter).boxed(),
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
    };
    let layers: Vec<BoxedLayer> = std::iter::once(lines).chain(more).collect();
    tracing_subscriber::registry().with(layers).init();
}

/// Whether text logs are coloured: on a terminal, unless `NO_COLOR` is set.
pub fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` without terminal escape sequences (colours, cursor moves: `ESC [
/// ... final-byte`, and other `ESC x` pairs).
pub fn strip_ansi(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\x1b') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        // CSI: parameters and intermediates, up to a final byte @..~; any
        // other escape is two characters long.
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_codes_are_taken_out_and_the_text_kept() {
        let coloured =
            "\x1b[2m2026-01-01T00:00:00Z\x1b[0m \x1b[33m WARN\x1b[0m \x1b[2mx\x1b[0m: hi";
        assert_eq!(strip_ansi(coloured), "2026-01-01T00:00:00Z  WARN x: hi");
        assert_eq!(strip_ansi("plain [1m text"), "plain [1m text");
        assert_eq!(strip_ansi("a\x1b7b\x1b"), "ab");
        assert!(matches!(
            strip_ansi("no codes"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
