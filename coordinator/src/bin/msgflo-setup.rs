//! `msgflo-setup GRAPH`: sets up the bindings of a graph's edges on the
//! broker, optionally starting its participants from the library first, as
//! msgflo's `msgflo-setup` does (same options and output; see
//! `msgflo_coordinator::tools::setup`).

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};
use msgflo_cli as cli;
use msgflo_cli::settings::{keys, Flags, Key, SettingsArgs};
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
    /// Library definition [default: $MSGFLO_LIBRARY, package.json if there is one].
    #[arg(long, value_name = "FILE.json")]
    library: Option<PathBuf>,
    /// Directory where components are located [default: $MSGFLO_COMPONENTDIR, participants].
    #[arg(long, value_name = "DIR")]
    componentdir: Option<PathBuf>,
    /// The started participants' streams to copy to ours, each line prefixed
    /// with `[role] ` (comma-separated; empty: none).
    /// [default: $MSGFLO_FORWARD, stderr,stdout]
    #[arg(long, value_name = "stderr,stdout", num_args = 0..=1, default_missing_value = "stderr,stdout")]
    forward: Option<String>,
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
    settings: SettingsArgs,
}

/// The settings msgflo-setup reads.
const KEYS: &[&Key] = &[
    &keys::BROKER,
    &keys::LIBRARY,
    &keys::COMPONENTDIR,
    &keys::FORWARD,
];

fn main() -> ExitCode {
    let args = Args::parse();
    let flags = Flags::new()
        .with(&keys::BROKER, args.broker.as_ref())
        .with(&keys::LIBRARY, args.library.as_ref().map(|p| p.display()))
        .with(
            &keys::COMPONENTDIR,
            args.componentdir.as_ref().map(|p| p.display()),
        )
        .with(&keys::FORWARD, args.forward.as_ref());
    let settings_args = args.settings.clone();
    cli::start(
        "msgflo-setup",
        &settings_args,
        KEYS,
        flags,
        |settings| async move {
            let mut forward = ChildOptions::default();
            let streams = settings.string(&keys::FORWARD).unwrap_or_default();
            forward.forward(&streams).map_err(|e| e.to_string())?;
            let timeout = Duration::try_from_secs_f64(args.timeout)
                .map_err(|_| format!("--timeout: {} is not a number of seconds", args.timeout))?;
            let options = Options {
                graph: args.graph,
                broker: settings.broker(),
                participants: args.participants,
                only: args.only,
                ignore: args.ignore,
                library: settings.path(&keys::LIBRARY),
                componentdir: settings.path(&keys::COMPONENTDIR),
                forward_stdout: forward.forward_stdout,
                forward_stderr: forward.forward_stderr,
                log_format: settings.log_format(),
                discover: args.discover,
                timeout,
                forever: args.forever,
            };
            setup::run(options, cli::shutdown_signal()).await
        },
    )
}
