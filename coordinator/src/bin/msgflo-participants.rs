//! `msgflo-participants`: lists the live participants, from a coordinator
//! or from discovery on the broker (see
//! `msgflo_coordinator::tools::participants`).

use clap::Parser;
use msgflo_coordinator::tools::participants;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = participants::Args::parse();
    let (settings, flags) = (args.settings.clone(), args.flags());
    msgflo_cli::start(
        "msgflo-participants",
        &settings,
        participants::KEYS,
        flags,
        |settings| participants::run(args, settings),
    )
}
