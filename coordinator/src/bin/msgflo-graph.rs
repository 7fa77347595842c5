//! `msgflo-graph FILE`: prints the JSON graph of a `.fbp` file, or the `.fbp` of a
//! JSON graph. `--to` picks the output format; `-` reads standard input.

use clap::{Parser, ValueEnum};
use msgflo_coordinator::graph_file::{self, Format};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

/// Convert a graph between the .fbp language and JSON.
#[derive(Parser, Debug)]
#[command(name = "msgflo-graph", version)]
struct Args {
    /// Graph file (.fbp or .json); `-` reads standard input.
    file: PathBuf,
    /// Output format [default: the other one].
    #[arg(long, value_enum)]
    to: Option<FormatArg>,
    /// Input format [default: from the file extension, else from the content].
    #[arg(long, value_enum)]
    from: Option<FormatArg>,
    /// Keep the case of port names in .fbp input (as `fbp --case-sensitive`).
    #[arg(long)]
    case_sensitive: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Fbp,
    Json,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Fbp => Format::Fbp,
            FormatArg::Json => Format::Json,
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let stdin = args.file.as_os_str() == "-";
    let name = match stdin {
        true => "standard input".to_owned(),
        false => args.file.display().to_string(),
    };
    let text = if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        text
    } else {
        std::fs::read_to_string(&args.file).map_err(|e| format!("cannot read {name}: {e}"))?
    };
    let from = args
        .from
        .map(Format::from)
        .or_else(|| Format::from_path(&args.file))
        .unwrap_or_else(|| Format::sniff(&text));
    let to = args.to.map(Format::from).unwrap_or(from.other());

    let graph =
        graph_file::parse(&text, from, args.case_sensitive).map_err(|e| format!("{name}: {e}"))?;
    let rendered = graph_file::render(&graph, to).map_err(|e| format!("{name}: {e}"))?;
    for lost in &rendered.lost {
        eprintln!("msgflo-graph: warning: {name}: not expressible in .fbp, left out: {lost}");
    }
    print!("{}", rendered.text);
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("msgflo-graph: {message}");
            ExitCode::FAILURE
        }
    }
}
