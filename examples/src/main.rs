//! `msgflo-examples`: runs one of the example components as a participant.
//!
//! ```text
//! msgflo-examples --name ROLE --component example/Hello|example/ParseOrder|example/Totals
//!                 [--broker URL] [--id ID] [--prefetch N] [--iips '{"port": data}']
//!                 [--trace] [--otlp-endpoint URL]
//! ```
//!
//! Prints `ROLE connected to BROKER` once ready; SIGTERM or SIGINT stops it
//! cleanly.

use clap::Parser;
use msgflo_examples::{component, COMPONENTS};
use msgflo_participant::cli;
use msgflo_participant::runner;
use std::process::ExitCode;

/// Run an example msgflo participant.
#[derive(Parser, Debug)]
#[command(name = "msgflo-examples", version)]
struct Args {
    #[command(flatten)]
    participant: cli::ParticipantArgs,
    /// Component to run: example/Hello, example/ParseOrder or example/Totals.
    #[arg(long, short = 'c')]
    component: String,
}

async fn run(args: Args, settings: cli::Settings) -> Result<(), String> {
    let options = args.participant.options(&settings)?;
    let Some(component) = component(&args.component, options.id.as_str()) else {
        return Err(format!(
            "unknown component {:?}; example components: {}",
            args.component,
            COMPONENTS.join(", ")
        ));
    };
    let role = options.role.clone();
    let shutdown = cli::shutdown_signal();
    let running = runner::start(component, options)
        .await
        .map_err(|e| e.to_string())?;
    cli::run_participant(&role, running, shutdown).await
}

fn main() -> ExitCode {
    let args = Args::parse();
    let participant = args.participant.clone();
    cli::start_participant("msgflo-examples", &participant, |settings| {
        run(args, settings)
    })
}
