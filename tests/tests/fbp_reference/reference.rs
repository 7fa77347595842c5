//! The reference `.fbp` parser (npm `fbp` 1.8.0), installed on first use into
//! `<workspace>/.cache/npm/fbp-1.8.0` and run as one `node` process per batch.

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const VERSION: &str = "1.8.0";

/// Reads a JSON array of `{text, caseSensitive}` on stdin and writes a JSON
/// array of `{ok: graph}` or `{error, location: [line, column] | null}`.
/// `parse` must be called on the module (the parser keeps state on `this`).
/// Strings are made well-formed (a lone surrogate becomes U+FFFD, as in our
/// parser) so that Rust can read the output.
const DRIVER: &str = r#"
const fbp = require('./node_modules/fbp');
const wellFormed = (key, value) =>
  typeof value === 'string' && value.toWellFormed ? value.toWellFormed() : value;
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const results = JSON.parse(input).map(({ text, caseSensitive }) => {
    try {
      return { ok: fbp.parse(text, { caseSensitive }) };
    } catch (e) {
      const at = e.location ? [e.location.start.line, e.location.start.column] : null;
      return { error: String(e.message), location: at };
    }
  });
  process.stdout.write(JSON.stringify(results, wellFormed));
});
"#;

/// What the reference made of one input.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The graph JSON.
    Graph(Value),
    /// The error message, and `(line, column)` for syntax errors.
    Error(String, Option<(u64, u64)>),
}

/// An installed reference parser.
pub struct Reference {
    dir: PathBuf,
}

/// The reference parser, installed once per test binary. Panics with a
/// one-line message when Node.js, npm or the package cannot be had.
pub fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Result<Reference, String>> = OnceLock::new();
    let installed = REFERENCE.get_or_init(|| install().map_err(|e| format!("{e:#}")));
    match installed {
        Ok(reference) => reference,
        Err(message) => {
            panic!("the npm `fbp` {VERSION} reference parser is unavailable: {message}")
        }
    }
}

fn install() -> Result<Reference> {
    let dir = msgflo_tests::npm::install("fbp", VERSION)?;
    std::fs::write(dir.join("driver.js"), DRIVER).context("cannot write driver.js")?;
    Ok(Reference { dir })
}

impl Reference {
    /// Parses every `(text, case_sensitive)` input with one `node` process.
    pub fn parse_all(&self, inputs: &[(String, bool)]) -> Result<Vec<Outcome>> {
        let batch: Vec<Value> = inputs
            .iter()
            .map(|(text, case_sensitive)| json!({"text": text, "caseSensitive": case_sensitive}))
            .collect();
        let mut child = Command::new("node")
            .arg("driver.js")
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start node")?;
        let mut stdin = child.stdin.take().context("node's stdin")?;
        let payload = serde_json::to_vec(&batch)?;
        // Write from a thread: node may fill its stdout before reading all of stdin.
        let writer = std::thread::spawn(move || stdin.write_all(&payload));
        let output = child.wait_with_output().context("node did not finish")?;
        writer
            .join()
            .map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
        ensure!(
            output.status.success(),
            "node failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let results: Vec<Value> =
            serde_json::from_slice(&output.stdout).context("driver output is JSON")?;
        ensure!(
            results.len() == inputs.len(),
            "driver answered {} of {} inputs",
            results.len(),
            inputs.len()
        );
        Ok(results.into_iter().map(outcome).collect())
    }
}

fn outcome(result: Value) -> Outcome {
    if let Some(graph) = result.get("ok") {
        return Outcome::Graph(graph.clone());
    }
    let message = result["error"]
        .as_str()
        .unwrap_or("(no message)")
        .to_string();
    let location = result["location"]
        .as_array()
        .and_then(|at| Some((at.first()?.as_u64()?, at.get(1)?.as_u64()?)));
    Outcome::Error(message, location)
}
