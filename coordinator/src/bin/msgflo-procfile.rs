//! `msgflo-procfile GRAPH`: prints a Heroku/foreman Procfile that starts the
//! graph's participants with the commands of the component library, as
//! msgflo's `msgflo-procfile` does (same options, same output).

use clap::{ArgAction, Parser};
use msgflo_coordinator::graph_file;
use msgflo_coordinator::library::Library;
use msgflo_coordinator::tools::procfile;
use std::path::PathBuf;
use std::process::ExitCode;

/// Generate a Procfile from a graph.
#[derive(Parser, Debug)]
#[command(name = "msgflo-procfile", version)]
struct Args {
    /// Graph file (.fbp or .json).
    graph: PathBuf,
    /// Library definition (a package.json with a "msgflo" key, or the configuration alone).
    #[arg(long, value_name = "FILE.json", default_value = "package.json")]
    library: PathBuf,
    /// Do not generate a line for NODE (repeatable).
    #[arg(long, value_name = "NODE", action = ArgAction::Append)]
    ignore: Vec<String>,
    /// Include DATA as-is at the end (repeatable).
    #[arg(long, value_name = "DATA", action = ArgAction::Append)]
    include: Vec<String>,
    /// Look up components in DIR.
    #[arg(long, value_name = "DIR", default_value = "participants")]
    components: PathBuf,
}

fn run(args: Args) -> Result<(), String> {
    let graph = graph_file::load(&args.graph, false).map_err(|e| e.to_string())?;
    let mut library = Library::load(&args.library).map_err(|e| e.to_string())?;
    library
        .add_component_dir(&args.components)
        .map_err(|e| e.to_string())?;
    let text = procfile::generate(&graph, &library, &args.ignore, &args.include)
        .map_err(|e| e.to_string())?;
    print!("{text}");
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("msgflo-procfile: {message}");
            ExitCode::FAILURE
        }
    }
}
