//! The project's binaries and examples, built for the tests that run them by
//! one `cargo build --workspace --bins --examples` per test process, so
//! end-to-end tests always run the current code.
//!
//! That build shares everything with `cargo test --workspace`: the same
//! target directory and profile (those of the running test executable), the
//! same features (`--workspace` with examples unifies them as `cargo test`
//! does), and the same environment minus what cargo sets for the crate under
//! test (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, ...). Build scripts such as
//! ring's re-run when those variables change, and everything above them is
//! compiled again — by this build, then again by the next `cargo test`.
//!
//! `scripts/test` runs the same build before `cargo test` and sets
//! [`PREBUILT`]: then this build must compile nothing, and says what it
//! compiled if it did.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Set (to anything) when the binaries were built before the tests ran.
pub const PREBUILT: &str = "MSGFLO_TEST_PREBUILT";

/// The arguments of the build, after `cargo build`.
pub const BUILD_ARGS: [&str; 3] = ["--workspace", "--bins", "--examples"];

/// The path of the freshly built binary `name`.
pub fn binary(name: &str) -> Result<PathBuf> {
    built(&profile_dir()?.join(name))
}

/// `PATH` with the directory of the built binaries first, so that a
/// library's commands (`msgflo-participant`, `msgflo-examples`) are found
/// as a user's shell finds them.
pub fn path_with_binaries() -> Result<String> {
    let dir = binary("msgflo-participant")?
        .parent()
        .context("binary directory")?
        .to_path_buf();
    binary("msgflo-examples")?;
    let old = std::env::var("PATH").unwrap_or_default();
    Ok(format!("{}:{old}", dir.display()))
}

/// The path of the freshly built example `name` (of any workspace package).
pub fn example(name: &str) -> Result<PathBuf> {
    built(&profile_dir()?.join("examples").join(name))
}

fn built(path: &Path) -> Result<PathBuf> {
    static BUILD: OnceLock<Result<(), String>> = OnceLock::new();
    BUILD
        .get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)?;
    if !path.exists() {
        bail!("{} was not built", path.display());
    }
    Ok(path.to_owned())
}

/// Where cargo put the running test executable's profile: `target/debug`
/// for `target/debug/deps/TEST-HASH`.
fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("where is this test executable?")?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .with_context(|| format!("{} is not in a cargo target directory", exe.display()))
}

fn build() -> Result<()> {
    let profile_dir = profile_dir()?;
    let target_dir = profile_dir
        .parent()
        .with_context(|| format!("{} has no parent", profile_dir.display()))?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(other) => other.to_owned(),
        None => bail!("{} names no profile", profile_dir.display()),
    };
    let mut command = Command::new(env!("CARGO"));
    command
        .arg("build")
        .args(BUILD_ARGS)
        .args(["--profile", &profile])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(crate::workspace_root());
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_for_the_test) {
            command.env_remove(name);
        }
    }
    let output = command.output().context("cannot run cargo build")?;
    let said = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("cargo build {} failed: {said}", BUILD_ARGS.join(" "));
    }
    let compiled: Vec<&str> = said
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling "))
        .collect();
    if std::env::var_os(PREBUILT).is_some() && !compiled.is_empty() {
        bail!(
            "the tests' cargo build compiled again what was built before the tests \
             ({PREBUILT} is set): {}",
            compiled.join("; ")
        );
    }
    Ok(())
}

/// Whether cargo sets environment variable `name` for the crate under test
/// (so a build started from a test must not inherit it).
fn set_for_the_test(name: &str) -> bool {
    const PREFIXES: [&str; 3] = ["CARGO_PKG_", "CARGO_BIN_EXE_", "CARGO_MANIFEST_"];
    const NAMES: [&str; 6] = [
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::set_for_the_test;

    #[test]
    fn the_crate_under_tests_variables_are_not_passed_on() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_BIN_EXE_x",
            "OUT_DIR",
        ] {
            assert!(set_for_the_test(name), "{name}");
        }
        for name in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "RUSTFLAGS",
            "PATH",
            "CARGO",
        ] {
            assert!(!set_for_the_test(name), "{name}");
        }
    }
}
