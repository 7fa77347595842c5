//! The smallest graph a coordinator starts from its library: `a(core/Repeat)
//! OUT -> IN b(core/Repeat)`, each node a `msgflo-participant` process.

use anyhow::{Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The graph and library files, written in `dir`.
pub struct RepeatPair {
    /// The `.fbp` graph.
    pub graph: PathBuf,
    /// The library (`package.json` with a `msgflo` key).
    pub library: PathBuf,
}

impl RepeatPair {
    /// Writes the graph of roles `a` and `b`, and a library that starts
    /// `core/Repeat` as `msgflo-participant` (found through `PATH`: the
    /// coordinator adds the folder it was started from).
    pub fn write(dir: &Path, a: &str, b: &str) -> Result<Self> {
        let graph = dir.join("graph.fbp");
        std::fs::write(
            &graph,
            format!("{a}(core/Repeat) OUT -> IN {b}(core/Repeat)\n"),
        )?;
        let library = dir.join("package.json");
        let command = "msgflo-participant --name #ROLE --component core/Repeat";
        let config = json!({"msgflo": {"components": {"core/Repeat": command}}});
        std::fs::write(&library, config.to_string())?;
        Ok(Self { graph, library })
    }

    /// `--graph GRAPH --library LIBRARY`, for `msgflo`.
    pub fn args(&self) -> Result<[&str; 4]> {
        Ok([
            "--graph",
            utf8(&self.graph)?,
            "--library",
            utf8(&self.library)?,
        ])
    }
}

fn utf8(path: &Path) -> Result<&str> {
    path.to_str()
        .with_context(|| format!("not UTF-8: {}", path.display()))
}
