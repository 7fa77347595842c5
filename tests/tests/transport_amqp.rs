//! The transport contract against RabbitMQ.

mod contract;

use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use contract::Harness;
use msgflo_tests::{amqp_url, unique};
use tokio::process::Command;

struct Amqp {
    prefix: String,
    url: String,
}

impl Amqp {
    fn new() -> Self {
        Self::on(&amqp_url())
    }

    /// A harness whose clients connect to `url` (a test's own vhost).
    fn on(url: &str) -> Self {
        Amqp {
            prefix: unique("c"),
            url: url.to_owned(),
        }
    }
}

#[async_trait]
impl Harness for Amqp {
    fn url(&self) -> String {
        self.url.clone()
    }

    fn client_id(&self, client: &str) -> String {
        format!("{}-{client}", self.prefix)
    }

    /// Closes the connections whose AMQP connection name is one of the clients'
    /// ids, with `rabbitmqctl` (the broker runs on this machine in tests).
    ///
    /// The JSON listing names the client properties but prints pids in a form
    /// `close_connection` rejects (`#PID<12576.1420.0>`), so connections are
    /// found by name in JSON and their pids taken from the tab-separated
    /// listing, joined on the connection's `name` (its peer addresses).
    async fn kill_connections(&self, clients: &[&str]) -> Result<()> {
        let wanted: Vec<String> = clients.iter().map(|c| self.client_id(c)).collect();
        let json = rabbitmqctl(&[
            "list_connections",
            "name",
            "client_properties",
            "--formatter",
            "json",
        ])
        .await?;
        let conns: serde_json::Value = serde_json::from_str(&json).context("rabbitmqctl json")?;
        let names: Vec<&str> = conns
            .as_array()
            .into_iter()
            .flatten()
            .filter(|conn| {
                let connection_name = conn["client_properties"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p[0] == "connection_name")
                    .and_then(|p| p[2].as_str());
                connection_name.is_some_and(|n| wanted.iter().any(|w| w == n))
            })
            .filter_map(|conn| conn["name"].as_str())
            .collect();
        let table = rabbitmqctl(&["list_connections", "--no-table-headers", "pid", "name"]).await?;
        let mut closed = 0;
        for (pid, name) in table.lines().filter_map(|line| line.split_once('\t')) {
            if names.contains(&name.trim()) {
                rabbitmqctl(&[
                    "close_connection",
                    pid.trim(),
                    "contract test: broker closes the connection",
                ])
                .await?;
                closed += 1;
            }
        }
        if closed != wanted.len() {
            bail!("closed {closed} of {} connections {wanted:?}", wanted.len());
        }
        Ok(())
    }
}

/// Runs `rabbitmqctl -q ARGS` and returns its stdout.
async fn rabbitmqctl(args: &[&str]) -> Result<String> {
    let out = Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .output()
        .await
        .context("cannot run rabbitmqctl")?;
    if !out.status.success() {
        bail!(
            "rabbitmqctl {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

contract_tests!(Amqp::new());

#[path = "transport_amqp/cases.rs"]
mod amqp;
#[path = "transport_amqp/peers.rs"]
mod peers;
#[path = "transport_amqp/proxy.rs"]
mod proxy;
#[path = "transport_amqp/stamps.rs"]
mod stamps;
#[path = "transport_amqp/taps.rs"]
mod taps;
