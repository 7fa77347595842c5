//! Public Python packages the tests run against (msgflo-python from PyPI),
//! installed at test time — never committed: for Python 3 into a virtual
//! environment under `<workspace>/.cache/python/<name>` ([`venv`]); for
//! Python 2.7 (msgflo-python's AMQP engine) into
//! `<workspace>/target/python2/<name>` ([`Python2`]).

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

/// pyenv's name of the Python 2.7 that msgflo-python's AMQP engine needs
/// (its AMQP client, haigha, is Python 2 code).
pub const PYTHON2_VERSION: &str = "2.7.18";

/// Python 2.7 with pip `packages` installed into a folder of their own,
/// `<workspace>/target/python2/<name>` (never committed; made on first use,
/// in a private folder renamed into place, as [`venv`] does).
pub struct Python2 {
    site: PathBuf,
}

impl Python2 {
    /// msgflo-python 0.4.1 with its AMQP engine: gevent 1.4.0, built
    /// against greenlet 0.4 (greenlet 2 changed its object size: "greenlet.
    /// greenlet size changed" at import), haigha 0.9.0, paho-mqtt 1.5.1.
    pub fn msgflo() -> Result<Self> {
        Self::with(
            "msgflo-0.4.1-gevent-1.4.0",
            &[
                "msgflo==0.4.1",
                "gevent==1.4.0",
                "greenlet==0.4.17",
                "haigha==0.9.0",
                "paho-mqtt==1.5.1",
            ],
        )
    }

    /// Installs `packages` (pip requirement specifiers) for Python 2.7 once.
    /// Fails with a one-line reason when pyenv's Python 2.7 or a package
    /// cannot be had.
    pub fn with(name: &str, packages: &[&str]) -> Result<Self> {
        let site = crate::workspace_root().join("target/python2").join(name);
        if site.join(".complete").exists() {
            return Ok(Self { site });
        }
        let parent = site.parent().context("cache folder has a parent")?;
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let staging = parent.join(format!("{name}.staging-{}", uuid::Uuid::new_v4().simple()));
        run(
            Command::new("python2.7")
                .env("PYENV_VERSION", PYTHON2_VERSION)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-cache-dir",
                    "--target",
                ])
                .arg(&staging)
                .args(packages),
            &format!(
                "`python2.7 -m pip install {}` (pyenv {PYTHON2_VERSION})",
                packages.join(" ")
            ),
        )?;
        std::fs::write(staging.join(".complete"), b"")?;
        if std::fs::rename(&staging, &site).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
            ensure!(
                site.join(".complete").exists(),
                "cannot move the packages into {}",
                site.display()
            );
        }
        Ok(Self { site })
    }

    /// A shell command line that runs `script` with these packages
    /// (for a coordinator's library: `#ROLE` and the like can follow).
    pub fn command_line(&self, script: &std::path::Path) -> String {
        format!(
            "env PYENV_VERSION={PYTHON2_VERSION} PYTHONPATH={} python2.7 {}",
            self.site.display(),
            script.display()
        )
    }
}

/// A msgflo-python 0.4.1 participant script (Python 3 on MQTT, Python 2.7
/// on AMQP) of component `py/Repeat`: repeats what it gets on `in` to `out`.
/// Run it as `python SCRIPT ROLE`.
pub const REPEAT: &str = r#"import sys
import msgflo

class Repeat(msgflo.Participant):
    def __init__(self, role):
        d = {
            'component': 'py/Repeat',
            'label': 'Repeats its input (msgflo-python)',
            'icon': 'repeat',
            'inports': [{'id': 'in', 'type': 'any'}],
            'outports': [{'id': 'out', 'type': 'any'}],
        }
        msgflo.Participant.__init__(self, d, role)

    def process(self, inport, msg):
        self.send('out', msg.data)
        self.ack(msg)

if __name__ == '__main__':
    msgflo.main(Repeat, sys.argv[1])
"#;
