//! The project's binaries and examples, built on first use by the tests that
//! run them (`cargo build --bin NAME` / `--example NAME`, a no-op when
//! `cargo test --workspace` built them already), so end-to-end tests always
//! run the current code.

use anyhow::{ensure, Context, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// The path of the freshly built binary `name`.
pub fn binary(name: &str) -> Result<PathBuf> {
    build(&["--bin", name], name, "")
}

/// The path of the freshly built example `name` of package `package`.
pub fn example(package: &str, name: &str) -> Result<PathBuf> {
    build(&["-p", package, "--example", name], name, "examples")
}

fn build(args: &[&str], name: &str, subdir: &str) -> Result<PathBuf> {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let built = built.get_or_insert_with(HashMap::new);
    let key = args.join(" ");
    if let Some(path) = built.get(&key) {
        return Ok(path.clone());
    }
    let root = crate::workspace_root();
    let output = Command::new(env!("CARGO"))
        .args(["build", "--quiet"])
        .args(args)
        .current_dir(&root)
        .output()
        .context("cannot run cargo build")?;
    ensure!(
        output.status.success(),
        "cargo build {key} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let path = target.join("debug").join(subdir).join(name);
    ensure!(path.exists(), "{} was not built", path.display());
    built.insert(key, path.clone());
    Ok(path)
}
