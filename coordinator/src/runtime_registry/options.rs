//! The coordinator's registry options (`--registry`, `--registry-token`,
//! `--registry-user`, `--registry-interval`, `--label`, `--description`)
//! and turning them, with what the coordinator knows of itself, into an
//! [`Announcer`]: the client, the registration and the schedule.

use super::announce::announce;
use super::client::RegistryClient;
use super::error::RegistryError;
use super::schedule::Schedule;
use super::wire::Registration;
use msgflo_cli as cli;
use std::time::Duration;

/// Flowhub's ping interval for runtimes: 5 minutes.
pub const DEFAULT_INTERVAL_S: u64 = 300;

/// The registry options of `msgflo`.
#[derive(clap::Args, Debug, Clone)]
pub struct RegistryArgs {
    /// Runtime registry to register with and ping (Flowhub's API, e.g.
    /// msgflo-registry) [default: $MSGFLO_REGISTRY, else none].
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Token of the registry's user [default: $MSGFLO_REGISTRY_TOKEN].
    #[arg(long, value_name = "TOKEN")]
    pub registry_token: Option<String>,
    /// User id to register under [default: the token's user, asked of the
    /// registry].
    #[arg(long, value_name = "ID")]
    pub registry_user: Option<String>,
    /// Seconds between pings of the registry.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_INTERVAL_S,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub registry_interval: u64,
    /// The runtime's label in the registry [default: "msgflo on HOSTNAME"].
    #[arg(long)]
    pub label: Option<String>,
    /// The runtime's description in the registry.
    #[arg(long)]
    pub description: Option<String>,
}

/// What the coordinator tells the registry of itself.
#[derive(Debug, Clone)]
pub struct Runtime<'a> {
    /// Its runtime id.
    pub id: &'a str,
    /// `ws` or `wss`.
    pub scheme: &'a str,
    /// The address it listens on (`--host`).
    pub host: &'a str,
    /// Its port.
    pub port: u16,
    /// Its `--secret`.
    pub secret: Option<&'a str>,
}

/// Options that cannot work; `msgflo` prints the text and exits.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// A registry without a token (it would refuse every registration).
    #[error("--registry {registry} needs a token: --registry-token or $MSGFLO_REGISTRY_TOKEN")]
    NoToken {
        /// The registry.
        registry: String,
    },
    /// A registry URL the client cannot use.
    #[error(transparent)]
    Client(#[from] RegistryError),
}

/// Everything the announcing task needs; [`Announcer::spawn`] starts it.
#[derive(Debug)]
pub struct Announcer {
    /// The registry.
    pub client: RegistryClient,
    /// What is registered (`user` filled in by the schedule).
    pub registration: Registration,
    /// When.
    pub schedule: Schedule,
}

impl Announcer {
    /// Runs the task in the background, for as long as the program does.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(announce(self.client, self.registration, self.schedule))
    }
}

impl RegistryArgs {
    /// The announcer for `runtime`; `None` when no registry is given (flag
    /// or `$MSGFLO_REGISTRY`).
    pub fn announcer(&self, runtime: &Runtime<'_>) -> Result<Option<Announcer>, OptionsError> {
        let Some(registry) = self
            .registry
            .clone()
            .or_else(|| cli::env("MSGFLO_REGISTRY"))
        else {
            return Ok(None);
        };
        let token = self
            .registry_token
            .clone()
            .or_else(|| cli::env("MSGFLO_REGISTRY_TOKEN"))
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| OptionsError::NoToken {
                registry: registry.clone(),
            })?;
        let client = RegistryClient::new(&registry, Some(token))?;
        let label = self
            .label
            .clone()
            .unwrap_or_else(|| format!("msgflo on {}", hostname()));
        let registration = Registration {
            id: runtime.id.to_owned(),
            user: self.registry_user.clone().unwrap_or_default(),
            address: address(runtime),
            protocol: "websocket".into(),
            kind: "msgflo".into(),
            label,
            description: self.description.clone(),
            secret: runtime.secret.map(str::to_owned),
        };
        let user = self.registry_user.clone().filter(|u| !u.trim().is_empty());
        let schedule = Schedule::new(user, Duration::from_secs(self.registry_interval));
        Ok(Some(Announcer {
            client,
            registration,
            schedule,
        }))
    }
}

/// `ws://HOST:PORT` as a browser reaches it (a wildcard listening address
/// becomes this machine's outward address, as in the Flowhub link).
pub fn address(runtime: &Runtime<'_>) -> String {
    let host = crate::flowhub::reachable_host(runtime.host);
    format!("{}://{host}:{}", runtime.scheme, runtime.port)
}

/// This machine's name, `localhost` if it has none we can read.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at
    // most that many bytes.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if ok && !name.is_empty() => name.to_owned(),
        _ => "localhost".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        registry: RegistryArgs,
    }

    fn args(given: &[&str]) -> RegistryArgs {
        let argv = std::iter::once("msgflo").chain(given.iter().copied());
        Cli::try_parse_from(argv).expect("parses").registry
    }

    const RUNTIME: Runtime<'static> = Runtime {
        id: "rt-1",
        scheme: "wss",
        host: "10.1.2.3",
        port: 3570,
        secret: Some("s3"),
    };

    #[test]
    fn the_registration_says_where_and_what_the_coordinator_is() {
        let given = args(&[
            "--registry",
            "http://r:8080",
            "--registry-token",
            "t",
            "--registry-user",
            "u-1",
            "--label",
            "edge box",
            "--description",
            "the one by the door",
        ]);
        let announcer = given
            .announcer(&RUNTIME)
            .expect("valid")
            .expect("configured");
        let r = &announcer.registration;
        assert_eq!(r.id, "rt-1");
        assert_eq!(r.address, "wss://10.1.2.3:3570");
        assert_eq!(
            (r.protocol.as_str(), r.kind.as_str()),
            ("websocket", "msgflo")
        );
        assert_eq!(r.label, "edge box");
        assert_eq!(r.description.as_deref(), Some("the one by the door"));
        assert_eq!(r.secret.as_deref(), Some("s3"));
        assert_eq!(announcer.schedule.user(), Some("u-1"));
        assert!(announcer.client.has_token());
    }

    #[test]
    fn defaults_label_the_host_and_ping_every_five_minutes() {
        let given = args(&["--registry", "http://r", "--registry-token", "t"]);
        assert_eq!(given.registry_interval, 300);
        let announcer = given
            .announcer(&RUNTIME)
            .expect("valid")
            .expect("configured");
        assert!(announcer.registration.label.starts_with("msgflo on "));
        assert_eq!(announcer.schedule.user(), None);
    }

    #[test]
    fn a_registry_without_a_token_or_a_zero_interval_is_refused() {
        let mut given = args(&["--registry", "http://r"]);
        given.registry_token = Some(" ".into());
        if std::env::var_os("MSGFLO_REGISTRY_TOKEN").is_none() {
            let error = given.announcer(&RUNTIME).expect_err("no token").to_string();
            assert!(error.contains("needs a token"), "{error}");
        }
        let argv = ["msgflo", "--registry-interval", "0"];
        assert!(Cli::try_parse_from(argv).is_err());
    }

    #[test]
    fn a_wildcard_host_is_registered_at_a_reachable_address() {
        let wildcard = Runtime {
            host: "0.0.0.0",
            scheme: "ws",
            ..RUNTIME
        };
        let address = address(&wildcard);
        assert!(
            address.starts_with("ws://") && !address.contains("0.0.0.0"),
            "{address}"
        );
    }
}
