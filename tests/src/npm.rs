//! Public npm packages the tests compare against (the reference `.fbp` parser,
//! later the fbp-protocol suite and fbp-spec), installed at test time into
//! `<workspace>/.cache/npm/<name>-<version>` — never committed.

use anyhow::{bail, ensure, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Installs `name@version` unless already there and returns the folder whose
/// `node_modules/` holds it. Installs into a private folder and renames it into
/// place, so concurrent test runs never see a half-installed package. Fails
/// with a one-line reason when Node.js, npm or the package cannot be had.
pub fn install(name: &str, version: &str) -> Result<PathBuf> {
    install_with(name, version, &[])
}

/// Like [`install`], with `companions` (`name@version`) installed beside it:
/// packages it needs but does not depend on (msgflo-nodejs' `amqplib`).
pub fn install_with(name: &str, version: &str, companions: &[&str]) -> Result<PathBuf> {
    run(Command::new("node").arg("--version"), "`node --version`")?;
    let mut folder = format!("{}-{version}", name.replace('/', "+"));
    for companion in companions {
        folder.push('+');
        folder.push_str(&companion.replace('/', "+"));
    }
    let dir = crate::workspace_root().join(".cache/npm").join(folder);
    let complete = |dir: &Path| {
        is_installed(dir, name, version)
            && companions.iter().all(|c| {
                let package = c.rsplit_once('@').map_or(*c, |(n, _)| n);
                dir.join("node_modules")
                    .join(package)
                    .join("package.json")
                    .exists()
            })
    };
    if complete(&dir) {
        return Ok(dir);
    }
    let parent = dir.parent().context("cache folder has a parent")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    // Unique per call: tests of one binary may install the same package at once.
    let staging = parent.join(format!(
        "{}.staging-{}-{}",
        dir.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("package"),
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let package = format!("{name}@{version}");
    let mut npm = Command::new("npm");
    npm.args(["install", "--prefix"]).arg(&staging).args([
        "--no-save",
        "--no-audit",
        "--no-fund",
        &package,
    ]);
    npm.args(companions);
    run(&mut npm, &format!("`npm install {package}`"))?;
    ensure!(
        complete(&staging),
        "`npm install {package}` did not install it"
    );
    if std::fs::rename(&staging, &dir).is_err() {
        // Another run got there first; use its copy if it is complete.
        let _ = std::fs::remove_dir_all(&staging);
        ensure!(
            complete(&dir),
            "cannot move {package} into {}",
            dir.display()
        );
    }
    Ok(dir)
}

fn is_installed(dir: &Path, name: &str, version: &str) -> bool {
    let manifest = dir.join("node_modules").join(name).join("package.json");
    let Ok(text) = std::fs::read_to_string(manifest) else {
        return false;
    };
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    manifest["version"] == version
}

/// Runs `command`; on failure the error holds its status and last stderr line.
pub(crate) fn run(command: &mut Command, what: &str) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {what} (is it installed?)"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        bail!("{what} failed ({}): {last}", output.status);
    }
    Ok(())
}
