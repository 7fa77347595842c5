//! THE table of settings: every key any msgflo-rs program reads from flags,
//! the environment or a settings file, with its environment variables, type,
//! default and whether it is secret. A program names the keys it uses
//! (`&[&BROKER, &HOST, ...]`); a settings file may hold any key of this
//! table (one file serves all programs) and nothing else.
//!
//! The flag of a key is `--` and its name with `-` for `_` (`--participant-timeout`).

use super::kind::Kind;

/// One setting.
#[derive(Debug, PartialEq, Eq)]
pub struct Key {
    /// Its name in settings files (`participant_timeout`).
    pub name: &'static str,
    /// Environment variables that set it, the first set one winning.
    pub env: &'static [&'static str],
    /// Its type.
    pub kind: Kind,
    /// Its value when no layer sets it.
    pub default: Option<&'static str>,
    /// Masked by `--print-config`.
    pub secret: bool,
    /// One line on what it is.
    pub about: &'static str,
}

impl Key {
    /// The command-line flag: `--participant-timeout`.
    pub fn flag(&self) -> String {
        format!("--{}", self.name.replace('_', "-"))
    }
}

const fn key(
    name: &'static str,
    env: &'static [&'static str],
    kind: Kind,
    default: Option<&'static str>,
    about: &'static str,
) -> Key {
    Key {
        name,
        env,
        kind,
        default,
        secret: false,
        about,
    }
}

const fn secret(name: &'static str, env: &'static [&'static str], about: &'static str) -> Key {
    Key {
        name,
        env,
        kind: Kind::Text,
        default: None,
        secret: true,
        about,
    }
}

// --- Every program -------------------------------------------------------

/// The broker URL (msgflo's order of environment variables).
pub const BROKER: Key = key(
    "broker",
    &["MSGFLO_BROKER", "CLOUDAMQP_URL"],
    Kind::Text,
    Some("amqp://localhost"),
    "broker URL: amqp://, amqps://, mqtt://, mqtts:// (or `embedded` for the coordinator)",
);
/// How programs log on stderr.
pub const LOG_FORMAT: Key = key(
    "log_format",
    &["MSGFLO_LOG_FORMAT"],
    Kind::OneOf(&["text", "json"]),
    Some("text"),
    "log format on stderr: text or json",
);

// --- The coordinator (`msgflo`) ------------------------------------------

/// Where the FBP protocol endpoint listens.
pub const HOST: Key = key(
    "host",
    &["MSGFLO_HOST"],
    Kind::Text,
    Some("localhost"),
    "address the FBP protocol WebSocket listens on",
);
/// Its port.
///
/// Its variable is not `MSGFLO_PORT`: Kubernetes (and Docker links) set that
/// to `tcp://IP:PORT` in every container beside a service named `msgflo`.
pub const PORT: Key = key(
    "port",
    &["MSGFLO_LISTEN_PORT"],
    Kind::Port,
    Some("3569"),
    "port of the FBP protocol WebSocket",
);
/// The FBP IDE of the printed link.
pub const IDE: Key = key(
    "ide",
    &["MSGFLO_IDE"],
    Kind::Url,
    Some("https://app.flowhub.io"),
    "FBP IDE address, for the printed link",
);
/// Where clients reach the coordinator, when not where it listens.
pub const PUBLIC_URL: Key = key(
    "public_url",
    &["MSGFLO_PUBLIC_URL"],
    Kind::Url,
    None,
    "ws:// or wss:// URL clients reach the coordinator at (behind a proxy, NAT or Docker), for the Flowhub link and the registry",
);
/// The secret every FBP protocol message carries.
pub const SECRET: Key = secret(
    "secret",
    &["MSGFLO_SECRET"],
    "secret every FBP protocol message must carry (full rights)",
);
/// The tokens file.
pub const TOKENS: Key = key(
    "tokens",
    &["MSGFLO_TOKENS"],
    Kind::Path,
    None,
    "JSON file of tokens with rights",
);
/// TLS certificate of the FBP endpoint.
pub const TLS_CERT: Key = key(
    "tls_cert",
    &["MSGFLO_TLS_CERT"],
    Kind::Path,
    None,
    "PEM certificate chain: serve wss://",
);
/// Its key.
pub const TLS_KEY: Key = key(
    "tls_key",
    &["MSGFLO_TLS_KEY"],
    Kind::Path,
    None,
    "PEM private key of tls_cert",
);
/// The runtime id.
pub const RUNTIME_ID: Key = key(
    "runtime_id",
    &["MSGFLO_RUNTIME_ID"],
    Kind::Text,
    None,
    "unique id of this runtime (default: a new UUID)",
);
/// The library configuration.
pub const LIBRARY: Key = key(
    "library",
    &["MSGFLO_LIBRARY"],
    Kind::Path,
    None,
    "library configuration (package.json with a msgflo key)",
);
/// Component files.
pub const COMPONENTDIR: Key = key(
    "componentdir",
    &["MSGFLO_COMPONENTDIR"],
    Kind::Path,
    None,
    "directory of component files",
);
/// The graph to start.
pub const GRAPH: Key = key(
    "graph",
    &["MSGFLO_GRAPH"],
    Kind::Path,
    None,
    "graph to load and start (.fbp or .json)",
);
/// Forwarded streams of started participants.
pub const FORWARD: Key = key(
    "forward",
    &["MSGFLO_FORWARD"],
    Kind::Text,
    Some("stderr,stdout"),
    "streams of started participants to copy, comma-separated",
);
/// Write graph changes back.
pub const AUTO_SAVE: Key = key(
    "auto_save",
    &["MSGFLO_AUTO_SAVE"],
    Kind::Bool,
    Some("false"),
    "write graph changes back to the graph file",
);
/// How long IIPs wait for participants.
pub const WAIT_TIMEOUT: Key = key(
    "wait_timeout",
    &["MSGFLO_WAIT_TIMEOUT"],
    Kind::Seconds,
    Some("45"),
    "seconds the graph's IIPs wait for its participants",
);
/// When a silent participant is forgotten.
pub const PARTICIPANT_TIMEOUT: Key = key(
    "participant_timeout",
    &["MSGFLO_PARTICIPANT_TIMEOUT"],
    Kind::Seconds,
    Some("600"),
    "seconds after which a silent participant is forgotten",
);
/// Most participants known at once.
pub const MAX_PARTICIPANTS: Key = key(
    "max_participants",
    &["MSGFLO_MAX_PARTICIPANTS"],
    Kind::Count,
    Some("10000"),
    "most participants known at once",
);
/// New participants per role and second.
pub const DISCOVERY_RATE: Key = key(
    "discovery_rate",
    &["MSGFLO_DISCOVERY_RATE"],
    Kind::Rate,
    Some("100"),
    "new participants registered per role and second, on average",
);
/// msgflo's own ping URL.
pub const PING_URL: Key = key(
    "ping_url",
    &["MSGFLO_PING_URL"],
    Kind::Url,
    Some("https://api.flowhub.io/runtimes/$RUNTIME_ID"),
    "URL requested every ping_interval ($RUNTIME_ID replaced)",
);
/// Its method.
pub const PING_METHOD: Key = key(
    "ping_method",
    &["MSGFLO_PING_METHOD"],
    Kind::Text,
    Some("POST"),
    "HTTP method of the ping",
);
/// Its interval.
pub const PING_INTERVAL: Key = key(
    "ping_interval",
    &["MSGFLO_PING_INTERVAL"],
    Kind::Count,
    Some("0"),
    "seconds between pings; 0 never pings",
);

// --- A runtime registry (client side) -------------------------------------

/// The registry to register with, or to list.
pub const REGISTRY: Key = key(
    "registry",
    &["MSGFLO_REGISTRY"],
    Kind::Url,
    None,
    "runtime registry URL to register with (coordinator) or list (msgflo-participants)",
);
/// The token for it.
pub const REGISTRY_TOKEN: Key = secret(
    "registry_token",
    &["MSGFLO_REGISTRY_TOKEN"],
    "token of the runtime registry",
);
/// The registry user the runtime is registered under.
pub const REGISTRY_USER: Key = key(
    "registry_user",
    &["MSGFLO_REGISTRY_USER"],
    Kind::Text,
    None,
    "registry user id (default: the token's user)",
);
/// How often the registry is pinged.
pub const REGISTRY_INTERVAL: Key = key(
    "registry_interval",
    &["MSGFLO_REGISTRY_INTERVAL"],
    Kind::Seconds,
    Some("300"),
    "seconds between pings of the registry",
);
/// The runtime's label in the registry.
pub const LABEL: Key = key(
    "label",
    &["MSGFLO_LABEL"],
    Kind::Text,
    None,
    "label of this runtime in the registry (default: msgflo on HOSTNAME)",
);
/// Its description.
pub const DESCRIPTION: Key = key(
    "description",
    &["MSGFLO_DESCRIPTION"],
    Kind::Text,
    None,
    "description of this runtime in the registry",
);

// --- A runtime registry (server, `msgflo-registry serve`) ------------------

/// Where the registry server listens.
pub const REGISTRY_LISTEN: Key = key(
    "registry_listen",
    &["MSGFLO_REGISTRY_LISTEN"],
    Kind::Text,
    Some("127.0.0.1:8080"),
    "address:port the registry server listens on",
);
/// Its database.
pub const REGISTRY_DATABASE: Key = key(
    "registry_database",
    &["MSGFLO_REGISTRY_DATABASE"],
    Kind::Url,
    None,
    "registry database: sqlite://FILE or postgres://... (default: a SQLite file in the data directory)",
);
/// When a runtime is listed as offline.
pub const OFFLINE_AFTER: Key = key(
    "offline_after",
    &["MSGFLO_OFFLINE_AFTER"],
    Kind::Seconds,
    Some("900"),
    "seconds without a ping after which a runtime is listed as offline",
);

// --- Participants --------------------------------------------------------

/// Unacked messages per inport.
pub const PREFETCH: Key = key(
    "prefetch",
    &["MSGFLO_PREFETCH"],
    Kind::Count,
    Some("128"),
    "unacked messages per inport, processed concurrently",
);
/// Where a participant serves its Prometheus metrics.
pub const METRICS_ADDR: Key = key(
    "metrics_addr",
    &["MSGFLO_METRICS_ADDR"],
    Kind::Text,
    None,
    "address:port a participant serves Prometheus metrics on (/metrics); none by default",
);
/// Whether a participant traces the messages it handles.
pub const TRACE: Key = key(
    "trace",
    &["MSGFLO_TRACE"],
    Kind::Bool,
    Some("false"),
    "continue each message's W3C trace (traceparent header) in a span of its own; on by itself with otlp_endpoint",
);
/// Where a participant exports its spans.
pub const OTLP_ENDPOINT: Key = key(
    "otlp_endpoint",
    &["MSGFLO_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"],
    Kind::Url,
    None,
    "OTLP/HTTP collector a participant exports its message spans to (http://HOST:4318; /v1/traces is added); none by default",
);
/// The RabbitMQ queue type.
pub const QUEUE_TYPE: Key = key(
    "queue_type",
    &["MSGFLO_QUEUE_TYPE"],
    Kind::OneOf(&["classic", "quorum"]),
    Some("classic"),
    "RabbitMQ type of the inport queues: classic or quorum",
);
/// The delivery mode of a participant's outputs.
pub const DELIVERY: Key = key(
    "delivery",
    &["MSGFLO_DELIVERY"],
    Kind::OneOf(&["persistent", "transient"]),
    None,
    "delivery mode of what a participant sends: persistent (on disk, survives a broker restart) or transient (in memory); unset, each output keeps its input's mode (AMQP only)",
);
/// The discovery period.
pub const DISCOVERY_PERIOD: Key = key(
    "discovery_period",
    &["MSGFLO_DISCOVERY_PERIOD"],
    Kind::Rate,
    Some("60"),
    "seconds between a participant's discovery messages",
);

/// Every key, in the order `--print-config` shows them.
pub const ALL: &[&Key] = &[
    &BROKER,
    &LOG_FORMAT,
    &HOST,
    &PORT,
    &IDE,
    &PUBLIC_URL,
    &SECRET,
    &TOKENS,
    &TLS_CERT,
    &TLS_KEY,
    &RUNTIME_ID,
    &LIBRARY,
    &COMPONENTDIR,
    &GRAPH,
    &FORWARD,
    &AUTO_SAVE,
    &WAIT_TIMEOUT,
    &PARTICIPANT_TIMEOUT,
    &MAX_PARTICIPANTS,
    &DISCOVERY_RATE,
    &PING_URL,
    &PING_METHOD,
    &PING_INTERVAL,
    &REGISTRY,
    &REGISTRY_TOKEN,
    &REGISTRY_USER,
    &REGISTRY_INTERVAL,
    &LABEL,
    &DESCRIPTION,
    &REGISTRY_LISTEN,
    &REGISTRY_DATABASE,
    &OFFLINE_AFTER,
    &PREFETCH,
    &METRICS_ADDR,
    &TRACE,
    &OTLP_ENDPOINT,
    &QUEUE_TYPE,
    &DELIVERY,
    &DISCOVERY_PERIOD,
];

/// The key named `name`.
pub fn find(name: &str) -> Option<&'static Key> {
    ALL.iter().copied().find(|key| key.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_defaults_are_of_their_kind() {
        for (i, key) in ALL.iter().enumerate() {
            assert!(
                ALL[..i].iter().all(|other| other.name != key.name),
                "{} twice",
                key.name
            );
            if let Some(default) = key.default {
                assert!(key.kind.accepts(default), "{}: {default}", key.name);
            }
            assert!(
                !key.env.is_empty(),
                "{} has no environment variable",
                key.name
            );
        }
        assert_eq!(PARTICIPANT_TIMEOUT.flag(), "--participant-timeout");
    }
}
