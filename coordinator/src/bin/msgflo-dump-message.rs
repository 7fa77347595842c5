//! `msgflo-dump-message`: prints messages from a queue, or copies of an
//! outport's, as JSON (see `msgflo_coordinator::tools::dump`).

use clap::Parser;
use msgflo_coordinator::tools::dump;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = dump::Args::parse();
    msgflo_cli::main("msgflo-dump-message", args.log, dump::run(args))
}
