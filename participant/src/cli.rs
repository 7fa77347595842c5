//! What every msgflo-rs command-line program shares: logging to stderr
//! ([`crate::logging`]: `RUST_LOG`, `--log-format`), the async runtime,
//! one-line errors with the program's name and exit code 1, SIGTERM/SIGINT,
//! reading the environment, and the options of participant programs
//! ([`ParticipantArgs`]).

use crate::logging::{self, LogArgs, LogFormat};
use crate::runner::{Options, Running, DEFAULT_PREFETCH};
use msgflo_protocol::ids::{ParticipantId, Role};
use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

/// Runs `program` on a tokio runtime with logging set up as `log` says; an
/// error is printed as `NAME: message` on stderr (a JSON object with
/// `--log-format json`) and exits with code 1.
pub fn main<F>(name: &str, log: LogArgs, program: F) -> ExitCode
where
    F: Future<Output = Result<(), String>>,
{
    logging::init(log.log_format);
    let result = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(program),
        Err(e) => Err(format!("cannot start the async runtime: {e}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            match log.log_format {
                LogFormat::Text => eprintln!("{name}: {message}"),
                LogFormat::Json => eprintln!(
                    "{}",
                    serde_json::json!({"level": "ERROR", "target": name, "message": message})
                ),
            }
            ExitCode::FAILURE
        }
    }
}

/// The value of environment variable `name`, unless unset or blank.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The broker URL: `given`, else `MSGFLO_BROKER`, else `CLOUDAMQP_URL`, else
/// `amqp://localhost` (msgflo's order).
pub fn broker(given: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| env("MSGFLO_BROKER"))
        .or_else(|| env("CLOUDAMQP_URL"))
        .unwrap_or_else(|| "amqp://localhost".into())
}

/// SIGTERM or SIGINT. The handlers are installed when this is called, not
/// when the future is first polled: a signal that arrives right after the
/// ready line must stop the program cleanly, not kill it.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        match (term, int) {
            (Some(mut term), Some(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// The options every participant program takes: role, broker, id, prefetch
/// and IIPs. Flatten it into a program's own clap arguments
/// (`#[command(flatten)]`) and turn it into runner [`Options`] with
/// [`ParticipantArgs::options`].
#[derive(clap::Args, Debug, Clone)]
pub struct ParticipantArgs {
    /// Role of the participant: its node name in the graph.
    #[arg(long, short = 'n')]
    pub name: String,
    /// Broker URL [default: $MSGFLO_BROKER, $CLOUDAMQP_URL, amqp://localhost].
    #[arg(long, short = 'b')]
    pub broker: Option<String>,
    /// Participant id [default: ROLE-UUID, a new UUID]. With an id, an MQTT session is
    /// kept when the participant stops, and resumed when it starts again with
    /// the same id (nothing queued meanwhile is lost).
    #[arg(long)]
    pub id: Option<String>,
    /// Unacked messages per inport, processed concurrently.
    #[arg(long, default_value_t = DEFAULT_PREFETCH)]
    pub prefetch: u16,
    /// Initial packets as a JSON object: {"port": data, ...}.
    #[arg(long)]
    pub iips: Option<String>,
    /// `--log-format`.
    #[command(flatten)]
    pub log: LogArgs,
}

impl ParticipantArgs {
    /// The runner options these arguments (and `MSGFLO_DISCOVERY_PERIOD`) ask for.
    pub fn options(&self) -> Result<Options, String> {
        let role = Role::new(self.name.as_str()).map_err(|e| e.to_string())?;
        let mut options = Options::new(role, broker(self.broker.as_deref()));
        if let Some(id) = &self.id {
            options.id = ParticipantId::new(id.as_str()).map_err(|e| e.to_string())?;
            options.keep_session = true;
        }
        if self.prefetch == 0 {
            return Err("--prefetch must be at least 1".into());
        }
        options.prefetch = self.prefetch;
        if let Some(iips) = &self.iips {
            let value: serde_json::Value =
                serde_json::from_str(iips).map_err(|e| format!("--iips is not JSON: {e}"))?;
            let serde_json::Value::Object(map) = value else {
                return Err("--iips must be a JSON object of port -> data".into());
            };
            options.iips = map;
        }
        if let Some(period) = env("MSGFLO_DISCOVERY_PERIOD") {
            options.discovery_period = period
                .trim()
                .parse()
                .ok()
                .filter(|secs: &f64| *secs > 0.0)
                .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                .ok_or_else(|| {
                    format!(
                        "MSGFLO_DISCOVERY_PERIOD must be a positive number of seconds, not {period:?}"
                    )
                })?;
        }
        Ok(options)
    }
}

/// Prints the ready line `ROLE connected to BROKER` (what msgflo-setup and
/// the coordinator wait for) and runs the participant until `shutdown`.
pub async fn run_participant(
    role: &Role,
    running: Running,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    println!("{role} connected to {}", running.broker());
    running.run_until(shutdown).await.map_err(|e| e.to_string())
}
