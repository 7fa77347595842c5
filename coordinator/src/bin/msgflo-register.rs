//! `msgflo-register --role ROLE:FILE.yaml ...`: announces participants
//! described in YAML files (devices and services that cannot announce
//! themselves), as msgflo's `msgflo-register` does; see
//! `msgflo_coordinator::tools::register`.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};
use msgflo_cli as cli;
use msgflo_cli::settings::{keys, Flags, SettingsArgs};
use msgflo_coordinator::tools::register::{self, Options};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Send discovery messages for participants described in YAML files.
#[derive(Parser, Debug)]
#[command(name = "msgflo-register", version)]
struct Args {
    /// A role and its description file (repeatable).
    #[arg(long, value_name = "ROLE:FILE", required = true, action = ArgAction::Append,
          value_parser = register::parse_role)]
    role: Vec<(String, PathBuf)>,
    /// Broker URL [default: $MSGFLO_BROKER, $CLOUDAMQP_URL, amqp://localhost].
    #[arg(long)]
    broker: Option<String>,
    /// Discovery period in seconds: messages are sent every interval/2.2 seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    interval: f64,
    /// Keep sending until SIGTERM or SIGINT.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "true",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set)]
    forever: bool,
    #[command(flatten)]
    settings: SettingsArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let flags = Flags::new().with(&keys::BROKER, args.broker.as_ref());
    let settings_args = args.settings.clone();
    cli::start(
        "msgflo-register",
        &settings_args,
        &[&keys::BROKER],
        flags,
        |settings| async move {
            let interval = Duration::try_from_secs_f64(args.interval)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    format!(
                        "--interval: {} is not a positive number of seconds",
                        args.interval
                    )
                })?;
            let options = Options {
                roles: args.role,
                broker: settings.broker(),
                interval,
                forever: args.forever,
            };
            register::run(options, cli::shutdown_signal()).await
        },
    )
}
