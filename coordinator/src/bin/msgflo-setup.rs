//! `msgflo-setup GRAPH`: sets up the bindings of a graph's edges on the
//! broker, optionally starting its participants from the library first, as
//! msgflo's `msgflo-setup` does (same options and output; see
//! `msgflo_coordinator::tools::setup`).

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};
use msgflo_cli as cli;
use msgflo_coordinator::spawn::ChildOptions;
use msgflo_coordinator::tools::setup::{self, Options};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Set up a graph's bindings (and participants) on the broker.
#[derive(Parser, Debug)]
#[command(name = "msgflo-setup", version)]
struct Args {
    /// Graph file (.fbp or .json).
    graph: PathBuf,
    /// Broker URL [default: $MSGFLO_BROKER, $CLOUDAMQP_URL, amqp://localhost].
    #[arg(long)]
    broker: Option<String>,
    /// Also start the participants, not just set up bindings.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set)]
    participants: bool,
    /// Only start participants for these roles (comma-separated).
    #[arg(long, value_name = "one,two", value_delimiter = ',')]
    only: Option<Vec<String>>,
    /// Do not start participants for these roles (comma-separated).
    #[arg(long, value_name = "one,two", value_delimiter = ',')]
    ignore: Vec<String>,
    /// Library definition [default: package.json, if there is one].
    #[arg(long, value_name = "FILE.json")]
    library: Option<PathBuf>,
    /// Directory where components are located [default: participants].
    #[arg(long, value_name = "DIR")]
    componentdir: Option<PathBuf>,
    /// The started participants' streams to copy to ours, each line prefixed
    /// with `[role] ` (comma-separated; empty: none).
    #[arg(long, value_name = "stderr,stdout", num_args = 0..=1, default_missing_value = "stderr,stdout",
          default_value = "stderr,stdout")]
    forward: String,
    /// Wait for discovery messages and use the queues they name.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set)]
    discover: bool,
    /// How long to wait for discovery messages, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    timeout: f64,
    /// Keep running (with the participants) until SIGTERM or SIGINT.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set)]
    forever: bool,
    /// Accepted for msgflo compatibility: commands always run with `sh -c`.
    #[arg(long, value_name = "SHELL", num_args = 0..=1, default_missing_value = "sh")]
    shell: Option<String>,
    #[command(flatten)]
    log: msgflo_cli::logging::LogArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main("msgflo-setup", args.log, async move {
        let mut forward = ChildOptions::default();
        forward.forward(&args.forward).map_err(|e| e.to_string())?;
        let timeout = Duration::try_from_secs_f64(args.timeout)
            .map_err(|_| format!("--timeout: {} is not a number of seconds", args.timeout))?;
        let options = Options {
            graph: args.graph,
            broker: cli::broker(args.broker.as_deref()),
            participants: args.participants,
            only: args.only,
            ignore: args.ignore,
            library: args.library,
            componentdir: args.componentdir,
            forward_stdout: forward.forward_stdout,
            forward_stderr: forward.forward_stderr,
            log_format: args.log.log_format,
            discover: args.discover,
            timeout,
            forever: args.forever,
        };
        setup::run(options, cli::shutdown_signal()).await
    })
}
