//! `msgflo-participants`: lists the live participants, from a coordinator
//! or from discovery on the broker (see
//! `msgflo_coordinator::tools::participants`).

use clap::Parser;
use msgflo_coordinator::tools::participants;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = participants::Args::parse();
    msgflo_cli::main(
        "msgflo-participants",
        args.log.log_format,
        participants::run(args),
    )
}
