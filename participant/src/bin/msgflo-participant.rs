//! `msgflo-participant`: runs a built-in component, or a graph of built-in
//! in-process components, as a msgflo participant (a single component runs
//! as a one-node graph: `runner::start_component`).
//!
//! ```text
//! msgflo-participant --name ROLE --component core/Repeat [--broker URL] [--id ID]
//!                    [--prefetch N] [--iips '{"in": "hello"}']
//! msgflo-participant --name ROLE --graph FILE.fbp|FILE.json [--broker URL] [--id ID]
//!                    [--prefetch N]
//! ```
//!
//! A graph's exported ports (`INPORT=node.PORT:NAME`) are the participant's
//! ports, on queues `ROLE.NAME`; each message is acked once the graph has
//! handled it (see `runner::start_graph`).
//!
//! Broker from `--broker`, then `MSGFLO_BROKER`, then `CLOUDAMQP_URL`, then
//! `amqp://localhost`. Discovery period from `MSGFLO_DISCOVERY_PERIOD` (seconds).
//! Prints `ROLE connected to BROKER` once ready; SIGTERM or SIGINT stops it
//! cleanly (messages in progress are finished and acked) with exit code 0.

use clap::Parser;
use msgflo_participant::cli;
use msgflo_participant::protocol::ids::{ParticipantId, Role};
use msgflo_participant::runner::{self, Options, Running, DEFAULT_PREFETCH};
use msgflo_participant::runtime::builtins::{self, BUILTINS};
use std::process::ExitCode;
use std::time::Duration;

/// Run a msgflo participant.
#[derive(Parser, Debug)]
#[command(name = "msgflo-participant", version)]
struct Args {
    /// Role of the participant: its node name in the graph.
    #[arg(long, short = 'n')]
    name: String,
    /// Component to run: core/Repeat, core/Drop, core/Output, core/Split,
    /// core/Merge, core/Counter or core/Delay.
    #[arg(
        long,
        short = 'c',
        required_unless_present = "graph",
        conflicts_with = "graph"
    )]
    component: Option<String>,
    /// Graph of in-process components to run (.fbp or .json).
    #[arg(long, short = 'g')]
    graph: Option<std::path::PathBuf>,
    /// Broker URL [default: $MSGFLO_BROKER, $CLOUDAMQP_URL, amqp://localhost].
    #[arg(long, short = 'b')]
    broker: Option<String>,
    /// Participant id [default: ROLE-<uuid>]. With an id, an MQTT session is
    /// kept when the participant stops, and resumed when it starts again with
    /// the same id (nothing queued meanwhile is lost).
    #[arg(long)]
    id: Option<String>,
    /// Unacked messages per inport, processed concurrently.
    #[arg(long, default_value_t = DEFAULT_PREFETCH)]
    prefetch: u16,
    /// Initial packets as a JSON object: {"port": data, ...}.
    #[arg(long)]
    iips: Option<String>,
}

fn options(args: &Args) -> Result<Options, String> {
    let role = Role::new(args.name.as_str()).map_err(|e| e.to_string())?;
    let broker = cli::broker(args.broker.as_deref());
    let mut options = Options::new(role, broker);
    if let Some(id) = &args.id {
        options.id = ParticipantId::new(id.as_str()).map_err(|e| e.to_string())?;
        options.keep_session = true;
    }
    if args.prefetch == 0 {
        return Err("--prefetch must be at least 1".into());
    }
    options.prefetch = args.prefetch;
    if let Some(iips) = &args.iips {
        let value: serde_json::Value =
            serde_json::from_str(iips).map_err(|e| format!("--iips is not JSON: {e}"))?;
        let serde_json::Value::Object(map) = value else {
            return Err("--iips must be a JSON object of port -> data".into());
        };
        options.iips = map;
    }
    if let Some(period) = cli::env("MSGFLO_DISCOVERY_PERIOD") {
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

async fn start(args: &Args, options: Options) -> Result<Running, String> {
    if let Some(path) = &args.graph {
        if args.iips.is_some() {
            return Err("--iips is for --component; put IIPs in the graph".into());
        }
        let graph = runner::load_graph(path).map_err(|e| e.to_string())?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("graph");
        return runner::start_graph(&graph, stem, builtins::builtin, options)
            .await
            .map_err(|e| e.to_string());
    }
    let name = args.component.as_deref().unwrap_or_default();
    let component = builtins::builtin(name).ok_or_else(|| {
        format!(
            "unknown component {name:?}; built-in components: {}",
            BUILTINS.join(", ")
        )
    })?;
    runner::start_component(component, options)
        .await
        .map_err(|e| e.to_string())
}

async fn run(args: Args) -> Result<(), String> {
    let options = options(&args)?;
    let role = options.role.clone();
    let shutdown = cli::shutdown_signal();
    let running = start(&args, options).await?;
    println!("{role} connected to {}", running.broker());
    running.run_until(shutdown).await.map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main("msgflo-participant", run(args))
}
