//! Issue 18, settings files: the real programs read their settings with one
//! precedence — flag > environment > user file > system file > default —
//! each layer shown winning over the next through `--print-config`, which
//! names where every value came from; values from a file are really used
//! (a coordinator listens on the file's port, a participant connects to the
//! file's broker); a bad file stops the program with one line naming the
//! file and the key, before it connects to anything.
//!
//! Every command runs with a cleared environment: the user file lives under
//! the test's own `XDG_CONFIG_HOME`, the system file at the test's own
//! `MSGFLO_SYSTEM_CONFIG`.

use anyhow::{ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{free_port, Client};
use msgflo_tests::process::{run_to_end, spawn_ready};
use msgflo_tests::vhost::Vhost;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(30);

/// A test's own settings files.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Result<Self> {
        Ok(Self {
            dir: tempfile::tempdir()?,
        })
    }

    fn system(&self) -> PathBuf {
        self.dir.path().join("etc-msgflo.toml")
    }

    fn user(&self) -> PathBuf {
        self.dir
            .path()
            .join("xdg")
            .join("msgflo")
            .join("config.toml")
    }

    fn write(&self, path: &Path, text: &str) -> Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        Ok(std::fs::write(path, text)?)
    }

    /// `program` with only these files and `env` to go by.
    fn command(&self, program: &str, env: &[(&str, &str)]) -> Result<Command> {
        let mut command = Command::new(binary(program)?);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg"))
            .env("MSGFLO_SYSTEM_CONFIG", self.system())
            .envs(env.iter().copied());
        Ok(command)
    }

    /// `msgflo --print-config ARGS`: its stdout.
    async fn print(&self, env: &[(&str, &str)], args: &[&str]) -> Result<String> {
        let mut command = self.command("msgflo", env)?;
        command.arg("--print-config").args(args);
        let (code, out, err) = run_to_end(command, WAIT).await?;
        ensure!(code == Some(0), "exit {code:?}: {err}");
        Ok(out)
    }
}

/// The `port = ...` line of a --print-config output.
fn port_line(out: &str) -> Result<&str> {
    out.lines()
        .find(|line| line.starts_with("port = "))
        .with_context(|| format!("no port line in {out}"))
}

#[tokio::test]
async fn the_system_file_wins_over_the_default() -> Result<()> {
    let files = Files::new()?;
    assert_eq!(
        port_line(&files.print(&[], &[]).await?)?,
        "port = 3569  # default"
    );
    files.write(&files.system(), "port = 4001\n")?;
    let out = files.print(&[], &[]).await?;
    assert_eq!(
        port_line(&out)?,
        format!("port = 4001  # {}", files.system().display())
    );
    Ok(())
}

#[tokio::test]
async fn the_user_file_wins_over_the_system_file() -> Result<()> {
    let files = Files::new()?;
    files.write(&files.system(), "port = 4001\n")?;
    files.write(&files.user(), "port = 4002\n")?;
    let out = files.print(&[], &[]).await?;
    assert_eq!(
        port_line(&out)?,
        format!("port = 4002  # {}", files.user().display())
    );
    Ok(())
}

#[tokio::test]
async fn the_environment_wins_over_the_user_file() -> Result<()> {
    let files = Files::new()?;
    files.write(&files.user(), "port = 4002\n")?;
    let out = files.print(&[("MSGFLO_LISTEN_PORT", "4003")], &[]).await?;
    assert_eq!(port_line(&out)?, "port = 4003  # $MSGFLO_LISTEN_PORT");
    Ok(())
}

#[tokio::test]
async fn a_flag_wins_over_the_environment() -> Result<()> {
    let files = Files::new()?;
    let out = files
        .print(&[("MSGFLO_LISTEN_PORT", "4003")], &["--port", "4004"])
        .await?;
    assert_eq!(port_line(&out)?, "port = 4004  # --port");
    Ok(())
}

#[tokio::test]
async fn print_config_masks_secrets_and_names_the_files_it_read() -> Result<()> {
    let files = Files::new()?;
    files.write(
        &files.user(),
        "secret = \"hunter2\"\nregistry_token = \"tok-123\"\n",
    )?;
    let env = [
        ("MSGFLO_SECRET", "from-env"),
        ("CLOUDAMQP_URL", "amqps://user:pa55word@cloud.example/vh"),
    ];
    let out = files.print(&env, &[]).await?;
    for secret in ["hunter2", "from-env", "tok-123", "pa55word"] {
        ensure!(!out.contains(secret), "{secret} shown: {out}");
    }
    ensure!(
        out.lines()
            .any(|l| l == "# secret = \"********\"  # $MSGFLO_SECRET"),
        "{out}"
    );
    ensure!(
        out.lines()
            .any(|l| l == "broker = \"amqps://user:***@cloud.example/vh\"  # $CLOUDAMQP_URL"),
        "{out}"
    );
    ensure!(
        out.contains(&format!("# {}: read", files.user().display())),
        "{out}"
    );
    ensure!(
        out.contains(&format!("# {}: not found", files.system().display())),
        "{out}"
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_file_stops_the_program_with_one_line_naming_file_and_key() -> Result<()> {
    let files = Files::new()?;
    let cases = [
        (
            "hots = \"0.0.0.0\"\n",
            "unknown key `hots` (did you mean `host`?)",
        ),
        (
            "port = \"http\"\n",
            "port: expected a port number (0-65535), got \"http\"",
        ),
        (
            "participant_timeout = -5\n",
            "participant_timeout: expected a number of seconds, 0 or more, got -5",
        ),
        (
            "[broker]\nurl = \"amqp://x\"\n",
            "broker: expected text, got a table",
        ),
    ];
    for (text, reason) in cases {
        files.write(&files.system(), text)?;
        // An unreachable broker: if the file were taken, the program would
        // try to connect; it must stop before that, at once.
        let mut command = files.command("msgflo", &[("MSGFLO_BROKER", "amqp://127.0.0.1:1")])?;
        command.args(["--port", &free_port()?.to_string()]);
        let (code, out, err) = run_to_end(command, WAIT).await?;
        ensure!(code == Some(1), "{text}: exit {code:?}, {out} {err}");
        let expected = format!("msgflo: {}: {reason}", files.system().display());
        ensure!(
            err.trim() == expected,
            "{text}:\n{err}\nexpected\n{expected}"
        );
        ensure!(out.is_empty(), "{text}: started: {out}");
    }
    // Every program reads the same files.
    files.write(&files.system(), "prefetch = \"lots\"\n")?;
    let mut command = files.command("msgflo-participant", &[])?;
    command.args(["--name", "p", "--component", "core/Repeat"]);
    let (code, _, err) = run_to_end(command, WAIT).await?;
    ensure!(code == Some(1), "exit {code:?}: {err}");
    ensure!(
        err.trim()
            == format!(
                "msgflo-participant: {}: prefetch: expected a whole number, 0 or more, got \"lots\"",
                files.system().display()
            ),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn a_file_named_by_config_must_exist_and_replaces_the_user_file() -> Result<()> {
    let files = Files::new()?;
    files.write(&files.user(), "port = 4002\n")?;
    let other = files.dir.path().join("other.toml");
    files.write(&other, "port = 4005\n")?;
    let out = files
        .print(&[], &["--config", &other.display().to_string()])
        .await?;
    assert_eq!(
        port_line(&out)?,
        format!("port = 4005  # {}", other.display())
    );
    let mut command = files.command("msgflo", &[])?;
    command.args(["--config", "/nonexistent/msgflo.toml", "--print-config"]);
    let (code, _, err) = run_to_end(command, WAIT).await?;
    ensure!(code == Some(1), "exit {code:?}");
    ensure!(
        err.trim() == "msgflo: /nonexistent/msgflo.toml: no such file",
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn a_coordinator_and_a_participant_use_what_the_files_say() -> Result<()> {
    let files = Files::new()?;
    let vhost = Vhost::new("settings")?;
    let port = free_port()?;
    // The broker from the system file, host and port from the user file.
    files.write(&files.system(), &format!("broker = {:?}\n", vhost.url()))?;
    files.write(
        &files.user(),
        &format!("host = \"127.0.0.1\"\nport = {port}\n"),
    )?;
    let (coordinator, line) = spawn_ready(files.command("msgflo", &[])?, WAIT).await?;
    ensure!(
        line == format!("msgflo started on ws://127.0.0.1:{port}"),
        "{line}"
    );
    let mut client = Client::connect(port).await?;
    client
        .send("runtime", "getruntime", serde_json::json!({}), None)
        .await?;
    let runtime = client.until("runtime", "runtime", WAIT).await?;
    ensure!(runtime["payload"]["type"] == "msgflo", "{runtime}");

    let mut participant = files.command("msgflo-participant", &[])?;
    participant.args(["--name", "settings-p", "--component", "core/Repeat"]);
    let (participant, line) = spawn_ready(participant, WAIT).await?;
    // The vhost's URL (printed without its password).
    let vhost_path = format!("/{}", vhost.name());
    ensure!(
        line.starts_with("settings-p connected to amqp://") && line.ends_with(&vhost_path),
        "{line:?} does not end with {vhost_path:?}"
    );
    participant.terminate(WAIT).await?;
    coordinator.terminate(WAIT).await?;
    Ok(())
}

/// `msgflo --config FILE` hands the file to the participants it starts:
/// one started for the graph runs with the file's `prefetch`, as its
/// `health` answer says.
#[tokio::test]
async fn a_config_file_given_to_the_coordinator_reaches_the_participants_it_starts() -> Result<()> {
    let files = Files::new()?;
    let vhost = Vhost::new("settings")?;
    let discovery = msgflo_tests::unique("settings-fbp");
    let config = files.dir.path().join("deploy.toml");
    files.write(
        &config,
        &format!(
            "broker = {:?}\nprefetch = 7\ndiscovery_period = 1\n",
            vhost.url()
        ),
    )?;
    let library = files.dir.path().join("package.json");
    files.write(
        &library,
        r##"{"msgflo": {"components": {"core/Repeat": "msgflo-participant --name #ROLE --component core/Repeat"}}}"##,
    )?;
    let graph = files.dir.path().join("one.fbp");
    files.write(
        &graph,
        "INPORT=r.IN:IN\nOUTPORT=r.OUT:OUT\nr(core/Repeat)\n",
    )?;
    let port = free_port()?;
    let path = |p: &Path| p.display().to_string();
    let env = [("MSGFLO_DISCOVERY_QUEUE", discovery.as_str())];
    let mut coordinator = files.command("msgflo", &env)?;
    coordinator.args(["--config", &path(&config), "--host", "127.0.0.1"]);
    coordinator.args(["--port", &port.to_string(), "--forward", ""]);
    coordinator.args(["--graph", &path(&graph), "--library", &path(&library)]);
    let (coordinator, _) = spawn_ready(coordinator, WAIT).await?;

    // Asked until the started participant has announced itself.
    let runtime = format!("ws://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + WAIT;
    let rows = loop {
        let mut call = files.command("msgflo-participants", &env)?;
        call.args([
            "--runtime",
            &runtime,
            "--call",
            "health",
            "--role",
            "r",
            "--json",
        ]);
        call.args(["--config", &path(&config)]);
        let (code, out, err) = run_to_end(call, WAIT).await?;
        let rows: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_default();
        if code == Some(0) && rows.as_array().is_some_and(|r| !r.is_empty()) {
            break rows;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "no health answer: {code:?} {out} {err}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let prefetch = &rows[0]["result"]["prefetch"];
    ensure!(prefetch == 7, "{rows}");
    coordinator.terminate(WAIT).await?;
    Ok(())
}
