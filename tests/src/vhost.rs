//! A RabbitMQ virtual host of a test's own, for a test that runs a
//! coordinator: the `fbp` discovery queue (and every queue name) is then
//! its alone. Made with `rabbitmqctl` on this machine's RabbitMQ (what
//! `scripts/test` starts), deleted when dropped.

use anyhow::{bail, Context, Result};
use std::process::Command;

/// A virtual host that lives as long as this value.
pub struct Vhost {
    name: String,
    url: String,
}

impl Vhost {
    /// A new virtual host `<prefix>-<uuid>` that the test RabbitMQ's user
    /// may use fully.
    pub fn new(prefix: &str) -> Result<Self> {
        let name = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
        let mut url = url::Url::parse(&crate::amqp_url()).context("MSGFLO_TEST_AMQP_URL")?;
        let user = match url.username() {
            "" => "guest".to_owned(),
            user => user.to_owned(),
        };
        rabbitmqctl(&["add_vhost", &name])?;
        let vhost = Self {
            url: {
                url.set_path(&format!("/{name}"));
                url.to_string()
            },
            name,
        };
        rabbitmqctl(&[
            "set_permissions",
            "-p",
            &vhost.name,
            &user,
            ".*",
            ".*",
            ".*",
        ])?;
        Ok(vhost)
    }

    /// The broker URL of this virtual host.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        if let Err(error) = rabbitmqctl(&["delete_vhost", &self.name]) {
            eprintln!("could not delete the test vhost {}: {error:#}", self.name);
        }
    }
}

fn rabbitmqctl(args: &[&str]) -> Result<()> {
    let output = Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .output()
        .context("cannot run rabbitmqctl (tests that run a coordinator on RabbitMQ make a vhost of their own with it)")?;
    if !output.status.success() {
        bail!(
            "rabbitmqctl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
