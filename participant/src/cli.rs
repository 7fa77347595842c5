//! The options of participant programs ([`ParticipantArgs`]) and running
//! one; what every command-line program shares (runtime, logging, signals,
//! the broker from the environment) is the crate `msgflo-cli`, re-exported
//! here.

pub use msgflo_cli::{broker, env, main, shutdown_signal};

use crate::logging::LogArgs;
use crate::runner::{Options, Running, DEFAULT_PREFETCH};
use msgflo_protocol::ids::{ParticipantId, Role};
use std::future::Future;
use std::time::Duration;

/// The options every participant program takes: role, broker, id, prefetch
/// and IIPs. Flatten it into a program's own clap arguments
/// (`#[command(flatten)]`) and turn it into runner [`Options`] with
/// [`ParticipantArgs::options`].
#[derive(clap::Args, Debug, Clone)]
pub struct ParticipantArgs {
    /// Role of the participant: its node name in the graph.
    #[arg(long, short = 'n')]
    pub name: String,
    /// Broker URL [default: $MSGFLO_BROKER, $CLOUDAMQP_URL, amqp://localhost].
    #[arg(long, short = 'b')]
    pub broker: Option<String>,
    /// Participant id [default: ROLE-UUID, a new UUID]. With an id, an MQTT session is
    /// kept when the participant stops, and resumed when it starts again with
    /// the same id (nothing queued meanwhile is lost).
    #[arg(long)]
    pub id: Option<String>,
    /// Unacked messages per inport, processed concurrently.
    #[arg(long, default_value_t = DEFAULT_PREFETCH)]
    pub prefetch: u16,
    /// Initial packets as a JSON object: {"port": data, ...}.
    #[arg(long)]
    pub iips: Option<String>,
    /// RabbitMQ type of the inport queues this participant declares: classic
    /// or quorum (replicated over a cluster's nodes; a queue's type cannot
    /// change, so only where every participant of the role agrees)
    /// [default: $MSGFLO_QUEUE_TYPE, classic]. MQTT ignores it.
    #[arg(long, value_name = "TYPE")]
    pub queue_type: Option<String>,
    /// `--log-format`.
    #[command(flatten)]
    pub log: LogArgs,
}

impl ParticipantArgs {
    /// The runner options these arguments (and `MSGFLO_DISCOVERY_PERIOD`) ask for.
    pub fn options(&self) -> Result<Options, String> {
        let role = Role::new(self.name.as_str()).map_err(|e| e.to_string())?;
        let mut options = Options::new(role, broker(self.broker.as_deref()));
        if let Some(id) = &self.id {
            options.id = ParticipantId::new(id.as_str()).map_err(|e| e.to_string())?;
            options.keep_session = true;
        } else if let Some(mqtt) = mqtt_broker(&options.broker) {
            // A session left by a killed process is resumed by the next
            // one: see `slot.rs`.
            let id = crate::slot::claim(options.role.as_str(), &mqtt).map_err(|e| e.to_string())?;
            options.id = ParticipantId::new(id).map_err(|e| e.to_string())?;
            options.adopt_orphans = Some(mqtt);
        }
        if let Some(kind) = self.queue_type.clone().or_else(|| env("MSGFLO_QUEUE_TYPE")) {
            options.queue_type = kind
                .trim()
                .parse()
                .map_err(|e| format!("--queue-type: {e}"))?;
        }
        if self.prefetch == 0 {
            return Err("--prefetch must be at least 1".into());
        }
        options.prefetch = self.prefetch;
        if let Some(iips) = &self.iips {
            let value: serde_json::Value =
                serde_json::from_str(iips).map_err(|e| format!("--iips is not JSON: {e}"))?;
            let serde_json::Value::Object(map) = value else {
                return Err("--iips must be a JSON object of port -> data".into());
            };
            options.iips = map;
        }
        if let Some(period) = env("MSGFLO_DISCOVERY_PERIOD") {
            options.discovery_period = period
                .trim()
                .parse()
                .ok()
                .filter(|secs: &f64| *secs > 0.0)
                .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                .ok_or_else(|| {
                    format!(
                        "MSGFLO_DISCOVERY_PERIOD must be a positive number of seconds, not {period:?}"
                    )
                })?;
        }
        Ok(options)
    }
}

/// Prints the ready line `ROLE connected to BROKER` (what msgflo-setup and
/// the coordinator wait for) and runs the participant until `shutdown`.
pub async fn run_participant(
    role: &Role,
    running: Running,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    println!("{role} connected to {}", running.broker());
    running.run_until(shutdown).await.map_err(|e| e.to_string())
}

/// `broker` parsed, if it is an MQTT URL (`mqtt://`, `mqtts://`); a URL
/// that does not parse is reported when the participant connects.
/// Of a list of brokers, the first names the slot.
fn mqtt_broker(broker: &str) -> Option<crate::transport::BrokerUrl> {
    use crate::transport::{Brokers, Scheme};
    Brokers::parse(broker)
        .ok()
        .map(|brokers| brokers.primary().clone())
        .filter(|url| matches!(url.scheme, Scheme::Mqtt | Scheme::Mqtts))
}
