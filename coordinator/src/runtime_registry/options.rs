//! The coordinator's registry options (`--registry`, `--registry-token`,
//! `--registry-user`, `--registry-interval`, `--label`, `--description`)
//! and turning them, with what the coordinator knows of itself, into an
//! [`Announcer`]: the client, the registration and the schedule.

use super::announce::announce;
use super::client::RegistryClient;
use super::error::RegistryError;
use super::schedule::Schedule;
use super::wire::Registration;
use msgflo_cli::settings::{keys, Flags, Key, Settings, SettingsError};
use std::time::Duration;

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
    /// Seconds between pings of the registry [default: 300].
    #[arg(long, value_name = "SECONDS")]
    pub registry_interval: Option<f64>,
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
    /// Where clients reach it, when given (`public_url`): registered as is.
    pub public_url: Option<&'a str>,
}

/// Options that cannot work; `msgflo` prints the text and exits.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// A registry without a token (it would refuse every registration).
    #[error("registry {registry} needs a token: --registry-token, $MSGFLO_REGISTRY_TOKEN or `registry_token` in a settings file")]
    NoToken {
        /// The registry.
        registry: String,
    },
    /// A ping interval under a second (the registry would be flooded).
    #[error("registry_interval: the seconds between pings must be 1 or more")]
    NoInterval,
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

/// What the announcer is made of, wherever it was read (flags and the
/// environment or settings files: [`RegistryOptions::from_settings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryOptions {
    /// The registry's URL; `None`: no registering.
    pub registry: Option<String>,
    /// Its token.
    pub token: Option<String>,
    /// The user id to register under; `None`: the token's.
    pub user: Option<String>,
    /// Time between pings.
    pub interval: Duration,
    /// The label; `None`: `msgflo on HOSTNAME`.
    pub label: Option<String>,
    /// The description.
    pub description: Option<String>,
}

/// The settings the registry options are read from.
pub const KEYS: &[&Key] = &[
    &keys::REGISTRY,
    &keys::REGISTRY_TOKEN,
    &keys::REGISTRY_USER,
    &keys::REGISTRY_INTERVAL,
    &keys::LABEL,
    &keys::DESCRIPTION,
];

impl RegistryArgs {
    /// `flags` with these options given on the command line.
    pub fn flags(&self, flags: Flags) -> Flags {
        flags
            .with(&keys::REGISTRY, self.registry.as_ref())
            .with(&keys::REGISTRY_TOKEN, self.registry_token.as_ref())
            .with(&keys::REGISTRY_USER, self.registry_user.as_ref())
            .with(&keys::REGISTRY_INTERVAL, self.registry_interval)
            .with(&keys::LABEL, self.label.as_ref())
            .with(&keys::DESCRIPTION, self.description.as_ref())
    }
}

impl RegistryOptions {
    /// The options `settings` hold (`registry`, `registry_token`,
    /// `registry_user`, `registry_interval`, `label`, `description`).
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        Ok(Self {
            registry: settings.string(&keys::REGISTRY),
            token: settings.string(&keys::REGISTRY_TOKEN),
            user: settings.string(&keys::REGISTRY_USER),
            interval: settings.require_seconds(&keys::REGISTRY_INTERVAL)?,
            label: settings.string(&keys::LABEL),
            description: settings.string(&keys::DESCRIPTION),
        })
    }

    /// The announcer for `runtime`; `None` when no registry is given.
    pub fn announcer(&self, runtime: &Runtime<'_>) -> Result<Option<Announcer>, OptionsError> {
        let given = |text: &Option<String>| text.clone().filter(|t| !t.trim().is_empty());
        let Some(registry) = given(&self.registry) else {
            return Ok(None);
        };
        let token = given(&self.token).ok_or_else(|| OptionsError::NoToken {
            registry: registry.clone(),
        })?;
        if self.interval < Duration::from_secs(1) {
            return Err(OptionsError::NoInterval);
        }
        let client = RegistryClient::new(&registry, Some(token))?;
        let label = given(&self.label).unwrap_or_else(|| format!("msgflo on {}", hostname()));
        let user = given(&self.user);
        let registration = Registration {
            id: runtime.id.to_owned(),
            user: user.clone().unwrap_or_default(),
            address: address(runtime),
            protocol: "websocket".into(),
            kind: "msgflo".into(),
            label,
            description: given(&self.description),
            secret: runtime.secret.map(str::to_owned),
        };
        Ok(Some(Announcer {
            client,
            registration,
            schedule: Schedule::new(user, self.interval),
        }))
    }
}

/// Its `public_url`, else `ws://HOST:PORT` as a browser reaches it (a
/// wildcard listening address becomes this machine's outward address, as
/// in the Flowhub link).
pub fn address(runtime: &Runtime<'_>) -> String {
    match runtime.public_url {
        Some(url) => url.to_owned(),
        None => crate::flowhub::address(runtime.scheme, runtime.host, runtime.port),
    }
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

    /// The options these flags give, over no environment and no files.
    fn options(given: &[&str]) -> RegistryOptions {
        use msgflo_cli::settings::Inputs;
        let flags = args(given).flags(Flags::new());
        let settings =
            Settings::load("msgflo", KEYS, flags, &Inputs::default()).expect("valid settings");
        RegistryOptions::from_settings(&settings).expect("valid options")
    }

    const RUNTIME: Runtime<'static> = Runtime {
        id: "rt-1",
        scheme: "wss",
        host: "10.1.2.3",
        port: 3570,
        secret: Some("s3"),
        public_url: None,
    };

    #[test]
    fn the_registration_says_where_and_what_the_coordinator_is() {
        let given = options(&[
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
        let given = options(&["--registry", "http://r", "--registry-token", "t"]);
        assert_eq!(given.interval, Duration::from_secs(300));
        let announcer = given
            .announcer(&RUNTIME)
            .expect("valid")
            .expect("configured");
        assert!(announcer.registration.label.starts_with("msgflo on "));
        assert_eq!(announcer.schedule.user(), None);
    }

    #[test]
    fn a_registry_without_a_token_or_a_zero_interval_is_refused() {
        let given = options(&["--registry", "http://r", "--registry-token", " "]);
        let error = given.announcer(&RUNTIME).expect_err("no token").to_string();
        assert!(error.contains("needs a token"), "{error}");
        let zero = options(&[
            "--registry",
            "http://r",
            "--registry-token",
            "t",
            "--registry-interval",
            "0",
        ]);
        assert!(matches!(
            zero.announcer(&RUNTIME),
            Err(OptionsError::NoInterval)
        ));
    }

    #[test]
    fn options_from_elsewhere_make_the_same_announcer_and_zero_is_refused() {
        let mut options = RegistryOptions {
            registry: Some("https://r.example/".into()),
            token: Some("t".into()),
            user: None,
            interval: Duration::from_secs(60),
            label: Some("L".into()),
            description: Some(" ".into()),
        };
        let announcer = options
            .announcer(&RUNTIME)
            .expect("valid")
            .expect("configured");
        assert_eq!(announcer.registration.description, None);
        assert_eq!(announcer.client.base().as_str(), "https://r.example/");
        options.interval = Duration::ZERO;
        assert!(matches!(
            options.announcer(&RUNTIME),
            Err(OptionsError::NoInterval)
        ));
        options.registry = None;
        assert!(matches!(options.announcer(&RUNTIME), Ok(None)));
    }

    #[test]
    fn a_wildcard_host_is_registered_at_a_reachable_address() {
        let wildcard = Runtime {
            host: "0.0.0.0",
            scheme: "ws",
            ..RUNTIME
        };
        let proxied = Runtime {
            public_url: Some("wss://flow.example.com/rt"),
            ..wildcard.clone()
        };
        assert_eq!(super::address(&proxied), "wss://flow.example.com/rt");
        let address = address(&wildcard);
        assert!(
            address.starts_with("ws://") && !address.contains("0.0.0.0"),
            "{address}"
        );
    }
}
