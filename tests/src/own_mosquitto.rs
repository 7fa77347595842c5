//! A Mosquitto of a test's own, on a free port of 127.0.0.1, with
//! persistence on (in a folder of its own), that the test may stop and
//! start again: the shared broker is never restarted.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// How long Mosquitto may take to open its port.
const STARTUP: Duration = Duration::from_secs(10);

/// The broker; killed when dropped.
pub struct OwnMosquitto {
    /// Where it listens.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl OwnMosquitto {
    /// Starts it and waits until it takes connections.
    pub async fn start() -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
        let dir = tempfile::tempdir()?;
        let config = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
             persistence_location {}/\nmax_queued_messages 0\n",
            dir.path().display()
        );
        std::fs::write(dir.path().join("mosquitto.conf"), config)?;
        // Mosquitto started as root writes its store as user `mosquitto`.
        make_writable(dir.path())?;
        let mut broker = Self {
            port,
            dir,
            child: None,
        };
        broker.up().await?;
        Ok(broker)
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Stops it as an operator would (SIGTERM: it saves its store), waits
    /// `down`, and starts it again on the same port.
    pub async fn restart(&mut self, down: Duration) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status()
                    .await?;
            }
            tokio::time::timeout(STARTUP, child.wait())
                .await
                .context("mosquitto did not stop within 10 s of SIGTERM")??;
        }
        tokio::time::sleep(down).await;
        self.up().await
    }

    async fn up(&mut self) -> Result<()> {
        let config = self.dir.path().join("mosquitto.conf");
        let log = self.dir.path().join("mosquitto.log");
        self.child = Some(run(&config, &log, self.port).await?);
        Ok(())
    }
}

/// Starts `mosquitto -c config`, its output appended to `log`, and waits
/// until it takes connections on `port` of 127.0.0.1; if it exits or is not
/// there within 10 s, the error quotes its log. Killed when dropped.
pub(crate) async fn run(config: &Path, log: &Path, port: u16) -> Result<Child> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let mut child = Command::new(program()?)
        .arg("-c")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start mosquitto")?;
    let deadline = Instant::now() + STARTUP;
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        let log = || std::fs::read_to_string(log).unwrap_or_default();
        if let Some(status) = child.try_wait()? {
            bail!("mosquitto exited ({status}): {}", log().trim());
        }
        if Instant::now() > deadline {
            bail!(
                "mosquitto did not open port {port} within {STARTUP:?}: {}",
                log().trim()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(child)
}

fn make_writable(dir: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))?;
    Ok(())
}

/// The `mosquitto` program: on `PATH`, or where Debian installs it.
fn program() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join("mosquitto"))
        .find(|candidate| candidate.is_file())
        .context("the `mosquitto` program is needed (Debian package mosquitto)")
}
