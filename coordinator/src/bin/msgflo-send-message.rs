//! `msgflo-send-message`: sends JSON messages to an inport queue
//! (see `msgflo_coordinator::tools::send`).

use clap::Parser;
use msgflo_coordinator::tools::send;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = send::Args::parse();
    let settings = args.settings.clone();
    let flags = args.flags();
    msgflo_cli::start(
        "msgflo-send-message",
        &settings,
        send::KEYS,
        flags,
        |settings| send::run(args, settings),
    )
}
