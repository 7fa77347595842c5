//! `msgflo-dump-message`: prints messages from a queue, or copies of an
//! outport's, as JSON (see `msgflo_coordinator::tools::dump`).

use clap::Parser;
use msgflo_coordinator::tools::dump;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = dump::Args::parse();
    let settings = args.settings.clone();
    let flags = args.flags();
    msgflo_cli::start(
        "msgflo-dump-message",
        &settings,
        dump::KEYS,
        flags,
        |settings| dump::run(args, settings),
    )
}
