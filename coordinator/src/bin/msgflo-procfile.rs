//! `msgflo-procfile GRAPH`: prints a Heroku/foreman Procfile that starts the
//! graph's participants with the commands of the component library, as
//! msgflo's `msgflo-procfile` does (same options, same output).

use clap::{ArgAction, Parser};
use msgflo_cli::settings::{keys, Flags, Key, Settings, SettingsArgs};
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
    /// Library definition (a package.json with a "msgflo" key, or the
    /// configuration alone) [default: $MSGFLO_LIBRARY, `library` in a
    /// settings file, package.json].
    #[arg(long, value_name = "FILE.json")]
    library: Option<PathBuf>,
    /// Do not generate a line for NODE (repeatable).
    #[arg(long, value_name = "NODE", action = ArgAction::Append)]
    ignore: Vec<String>,
    /// Include DATA as-is at the end (repeatable).
    #[arg(long, value_name = "DATA", action = ArgAction::Append)]
    include: Vec<String>,
    /// Look up components in DIR [default: $MSGFLO_COMPONENTDIR,
    /// `componentdir` in a settings file, participants].
    #[arg(long, value_name = "DIR")]
    components: Option<PathBuf>,
    /// `--config`, `--print-config`, `--log-format`.
    #[command(flatten)]
    settings: SettingsArgs,
}

/// The settings it reads.
const KEYS: &[&Key] = &[&keys::LIBRARY, &keys::COMPONENTDIR];

impl Args {
    /// The settings given as flags.
    fn flags(&self) -> Flags {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        Flags::new()
            .with(&keys::LIBRARY, path(&self.library))
            .with_flag(&keys::COMPONENTDIR, "--components", path(&self.components))
    }
}

fn run(args: Args, settings: Settings) -> Result<(), String> {
    let graph = graph_file::load(&args.graph, false).map_err(|e| e.to_string())?;
    let library = settings
        .path(&keys::LIBRARY)
        .unwrap_or_else(|| PathBuf::from("package.json"));
    let components = settings
        .path(&keys::COMPONENTDIR)
        .unwrap_or_else(|| PathBuf::from("participants"));
    let mut library = Library::load(&library).map_err(|e| e.to_string())?;
    library
        .add_component_dir(&components)
        .map_err(|e| e.to_string())?;
    let text = procfile::generate(&graph, &library, &args.ignore, &args.include)
        .map_err(|e| e.to_string())?;
    print!("{text}");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let settings = match args.settings.load("msgflo-procfile", KEYS, args.flags()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    match run(args, settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("msgflo-procfile: {message}");
            ExitCode::FAILURE
        }
    }
}
