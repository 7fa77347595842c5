//! `msgflo-send-message`: sends JSON messages to an inport queue
//! (see `msgflo_coordinator::tools::send`).

use clap::Parser;
use msgflo_coordinator::tools::send;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = send::Args::parse();
    msgflo_cli::main("msgflo-send-message", args.log, send::run(args))
}
