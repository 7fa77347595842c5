//! Forwarding one output stream of one child: each line, terminal codes
//! taken out, to the log (stdout at debug, stderr at info, with the role),
//! optionally to the coordinator's own stdout/stderr (`--forward`), and to
//! the events channel; the first stdout line also answers "started".

use super::{ChildEvent, ChildOptions, Stream};
use crate::forward;
use msgflo_cli::logging::LogFormat;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, oneshot};

pub(super) type StartedTx = Arc<Mutex<Option<oneshot::Sender<Result<String, ExitStatus>>>>>;

pub(super) fn take(tx: &StartedTx) -> Option<oneshot::Sender<Result<String, ExitStatus>>> {
    tx.lock()
        .map(|mut s| s.take())
        .unwrap_or_else(|p| p.into_inner().take())
}

/// Forwards one output stream of one child.
pub(super) struct Lines {
    role: String,
    stream: Stream,
    forward: bool,
    log_format: LogFormat,
    events: Option<mpsc::Sender<ChildEvent>>,
    started: Option<StartedTx>,
}

impl Lines {
    pub(super) fn new(
        role: &str,
        stream: Stream,
        options: &ChildOptions,
        started: Option<StartedTx>,
    ) -> Self {
        let forward = match stream {
            Stream::Stdout => options.forward_stdout,
            Stream::Stderr => options.forward_stderr,
        };
        Lines {
            role: role.to_owned(),
            stream,
            forward,
            log_format: options.log_format,
            events: options.events.clone(),
            started,
        }
    }

    pub(super) async fn run(self, pipe: impl AsyncRead + Unpin) {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) => return,
                Ok(_) => self.line(&buf),
                Err(error) => {
                    tracing::debug!(role = %self.role, %error, "participant output unreadable");
                    return;
                }
            }
        }
    }

    fn line(&self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let line = forward::strip_ansi(text.trim_end_matches(['\n', '\r']));
        let line = line.as_ref();
        let role = &self.role;
        match self.stream {
            Stream::Stdout => {
                tracing::debug!(target: "msgflo::participant", %role, "{line}");
                if self.forward {
                    println!("{}", forward::stdout_line(role, line));
                }
            }
            Stream::Stderr => {
                tracing::info!(target: "msgflo::participant", %role, "{line}");
                if self.forward {
                    eprintln!("{}", forward::stderr_line(self.log_format, role, line));
                }
            }
        }
        if let Some(tx) = self.started.as_ref().and_then(take) {
            let _ = tx.send(Ok(line.to_owned()));
        }
        if let Some(events) = &self.events {
            let event = ChildEvent::Line {
                role: role.clone(),
                stream: self.stream,
                line: line.to_owned(),
            };
            if events.try_send(event).is_err() {
                tracing::debug!(%role, "participant output dropped (events channel full)");
            }
        }
    }
}
