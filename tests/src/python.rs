//! Public Python packages the tests run against (msgflo-python from PyPI),
//! installed at test time into a virtual environment under
//! `<workspace>/.cache/python/<name>` — never committed.

use crate::npm::run;
use anyhow::{ensure, Context, Result};
use std::path::PathBuf;
use std::process::Command;

/// The Python interpreter of a virtual environment `name` that has the
/// pip requirements `requirements` (a requirements file's path) installed;
/// made on first use. It is built in a private folder and renamed into
/// place, so concurrent test runs never see a half-made environment. Fails
/// with a one-line reason when Python, venv or a package cannot be had.
pub fn venv(name: &str, requirements: &std::path::Path) -> Result<PathBuf> {
    let dir = crate::workspace_root().join(".cache/python").join(name);
    let python = dir.join("bin/python");
    if python.exists() {
        return Ok(python);
    }
    let parent = dir.parent().context("cache folder has a parent")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = parent.join(format!("{name}.staging-{}", uuid::Uuid::new_v4().simple()));
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&staging),
        "`python3 -m venv` (is python3 with venv installed?)",
    )?;
    run(
        Command::new(staging.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(requirements),
        &format!("`pip install -r {}`", requirements.display()),
    )?;
    // A venv's scripts name its folder: renaming it keeps `bin/python`
    // working (it is a link to the base interpreter), which is all we run.
    if std::fs::rename(&staging, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        ensure!(
            python.exists(),
            "cannot move the venv into {}",
            dir.display()
        );
    }
    Ok(python)
}
