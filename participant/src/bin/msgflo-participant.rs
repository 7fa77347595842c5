//! `msgflo-participant`: runs a built-in component, or a graph of built-in
//! in-process components, as a msgflo participant (a single component runs
//! as a one-node graph: `runner::start_component`).
//!
//! ```text
//! msgflo-participant --name ROLE --component core/Repeat [--broker URL] [--id ID]
//!                    [--prefetch N] [--iips '{"in": "hello"}']
//!                    [--metrics-addr IP:PORT] [--trace] [--otlp-endpoint URL]
//! msgflo-participant --name ROLE --graph FILE.fbp|FILE.json [--broker URL] [--id ID]
//!                    [--prefetch N] [--trace] [--otlp-endpoint URL]
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
use msgflo_participant::runner::{self, Options, Running};
use msgflo_participant::runtime::builtins::{self, BUILTINS};
use std::process::ExitCode;

/// Run a msgflo participant.
#[derive(Parser, Debug)]
#[command(name = "msgflo-participant", version)]
struct Args {
    #[command(flatten)]
    participant: cli::ParticipantArgs,
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
}

async fn start(args: &Args, options: Options) -> Result<Running, String> {
    if let Some(path) = &args.graph {
        if args.participant.iips.is_some() {
            return Err("--iips is for --component; put IIPs in the graph".into());
        }
        let graph = runner::load_graph(path).map_err(|e| e.to_string())?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("graph");
        let options = Options {
            graph_file: Some(path.clone()),
            ..options
        };
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

async fn run(args: Args, settings: cli::Settings) -> Result<(), String> {
    let options = args.participant.options(&settings)?;
    let role = options.role.clone();
    let shutdown = cli::shutdown_signal();
    let running = start(&args, options).await?;
    cli::run_participant(&role, running, shutdown).await
}

fn main() -> ExitCode {
    let args = Args::parse();
    let participant = args.participant.clone();
    cli::start_participant("msgflo-participant", &participant, |settings| {
        run(args, settings)
    })
}
