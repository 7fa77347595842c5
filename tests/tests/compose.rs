//! What docker-compose.yml, the Dockerfile and the ignore files promise, checked
//! without a Docker engine (`scripts/test` also has Compose validate the file):
//! every msgflo service gets `MSGFLO_SECRET` (the tools too) and builds the
//! local image instead of pulling it; every port is published on
//! `MSGFLO_PUBLISH_ADDRESS` (default 127.0.0.1) and a host port of its own
//! that a variable can change; the image builds its dependencies in a layer
//! of their own and strips the binaries; the README's `.venv` stays out of
//! git and the image.

use anyhow::{ensure, Context, Result};
use msgflo_tests::workspace_root;
use serde_norway::Value;

fn compose() -> Result<Value> {
    let text = std::fs::read_to_string(workspace_root().join("docker-compose.yml"))?;
    let mut value: Value = serde_norway::from_str(&text)?;
    value.apply_merge()?;
    Ok(value)
}

fn services(compose: &Value) -> Result<Vec<(String, &Value)>> {
    let services = compose["services"].as_mapping().context("services")?;
    Ok(services
        .iter()
        .map(|(name, service)| (name.as_str().unwrap_or_default().to_owned(), service))
        .collect())
}

#[test]
fn every_msgflo_service_gets_the_secret_and_builds_the_local_image() -> Result<()> {
    let compose = compose()?;
    let mut msgflo = 0;
    for (name, service) in services(&compose)? {
        let image = service["image"].as_str().unwrap_or_default();
        if !image.starts_with("msgflo-rs") {
            continue;
        }
        msgflo += 1;
        ensure!(
            service["environment"]["MSGFLO_SECRET"].as_str() == Some("${MSGFLO_SECRET:-}"),
            "{name} does not get MSGFLO_SECRET"
        );
        ensure!(
            service["build"].as_str() == Some(".") && service["pull_policy"] == "build",
            "{name} may pull {image} instead of building it"
        );
    }
    ensure!(
        msgflo >= 8,
        "{msgflo} msgflo services (coordinator, six roles, tools)"
    );
    Ok(())
}

#[test]
fn ports_are_published_on_this_machine_by_default_on_ports_of_their_own() -> Result<()> {
    let compose = compose()?;
    let mut host_ports = Vec::new();
    for (name, service) in services(&compose)? {
        for port in service["ports"].as_sequence().into_iter().flatten() {
            let port = port.as_str().context("ports are strings")?;
            let rest = port
                .strip_prefix("${MSGFLO_PUBLISH_ADDRESS:-127.0.0.1}:${")
                .with_context(|| format!("{name} publishes {port} elsewhere"))?;
            let (variable, default) = rest
                .split_once("}:")
                .and_then(|(host, _)| host.split_once(":-"))
                .with_context(|| format!("{name}: {port} has no host port variable"))?;
            ensure!(variable.starts_with("MSGFLO_"), "{name}: {port}");
            host_ports.push(default.to_owned());
        }
    }
    for taken in ["5672", "15672", "1883", "3569"] {
        ensure!(
            !host_ports.iter().any(|p| p == taken),
            "a default host port clashes with a broker or msgflo of this machine: {taken}"
        );
    }
    let command = compose["services"]["coordinator"]["command"][2]
        .as_str()
        .context("the coordinator's command")?;
    ensure!(
        command.contains("set MSGFLO_SECRET") && command.contains("exec msgflo --host 0.0.0.0"),
        "the coordinator must refuse to be published elsewhere without a secret: {command}"
    );
    Ok(())
}

#[test]
fn the_image_caches_its_dependencies_and_strips_its_binaries() -> Result<()> {
    let dockerfile = std::fs::read_to_string(workspace_root().join("Dockerfile"))?;
    let cook = dockerfile
        .find("cargo chef cook --release --locked --workspace --bins")
        .context("no dependency layer (cargo chef cook)")?;
    let sources = dockerfile[cook..]
        .find("COPY . .")
        .context("the sources are copied before the dependencies are built")?;
    ensure!(
        dockerfile[cook + sources..].contains("cargo build --release --locked --workspace --bins"),
        "{dockerfile}"
    );
    ensure!(
        dockerfile.contains("CARGO_PROFILE_RELEASE_STRIP=symbols"),
        "binaries are not stripped"
    );
    Ok(())
}

#[test]
fn the_readmes_venv_stays_out_of_git_and_the_image() -> Result<()> {
    let root = workspace_root();
    let ignored = std::process::Command::new("git")
        .args(["check-ignore", "-q", ".venv/bin/python"])
        .current_dir(&root)
        .status()?;
    ensure!(ignored.success(), ".venv is not in .gitignore");
    let dockerignore = std::fs::read_to_string(root.join(".dockerignore"))?;
    ensure!(
        dockerignore.lines().any(|l| l.trim() == "**/.venv"),
        ".venv is not in .dockerignore"
    );
    Ok(())
}
