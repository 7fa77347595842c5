//! The options of participant programs ([`ParticipantArgs`]) and running
//! one; what every command-line program shares (runtime, logging, signals,
//! the broker from the environment) is the crate `msgflo-cli`, re-exported
//! here.

pub use msgflo_cli::settings::{keys, Flags, Key, Settings, SettingsArgs};
pub use msgflo_cli::{main, shutdown_signal, start};

use crate::runner::{Options, Running, DEFAULT_PREFETCH};
use crate::trace::{self, Telemetry};
use msgflo_protocol::ids::{ParticipantId, Role};
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

/// The options every participant program takes: role, broker, id, prefetch,
/// IIPs, the metrics address and tracing. Flatten it into a program's own clap arguments
/// (`#[command(flatten)]`), read the settings with [`start_participant`]
/// (flags over the environment over settings files: [`KEYS`],
/// [`ParticipantArgs::flags`]; tracing as they say) and turn both into
/// runner [`Options`] with [`ParticipantArgs::options`]:
///
/// ```no_run
/// # use clap::Parser;
/// # use msgflo_participant::cli::{self, ParticipantArgs};
/// #[derive(clap::Parser)]
/// struct Args {
///     #[command(flatten)]
///     participant: ParticipantArgs,
/// }
/// let args = Args::parse();
/// let participant = args.participant.clone();
/// cli::start_participant("my-participant", &participant, |settings| async move {
///     let options = args.participant.options(&settings)?;
///     // runner::start(component, options) ...
///     Ok(())
/// });
/// ```
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
    /// Unacked messages per inport, processed concurrently
    /// [default: $MSGFLO_PREFETCH, 128].
    #[arg(long)]
    pub prefetch: Option<u16>,
    /// Initial packets as a JSON object: {"port": data, ...}.
    #[arg(long)]
    pub iips: Option<String>,
    /// RabbitMQ type of the inport queues this participant declares: classic
    /// or quorum (replicated over a cluster's nodes; a queue's type cannot
    /// change, so only where every participant of the role agrees)
    /// [default: $MSGFLO_QUEUE_TYPE, classic]. MQTT ignores it.
    #[arg(long, value_name = "TYPE")]
    pub queue_type: Option<String>,
    /// Delivery mode of what the participant sends: persistent (written to
    /// disk, survives a broker restart) or transient (in memory only, much
    /// cheaper) [default: $MSGFLO_DELIVERY; unset: each output keeps the
    /// mode of the message it answers]. AMQP only; MQTT ignores it.
    #[arg(long, value_name = "MODE")]
    pub delivery: Option<String>,
    /// Serve the participant's Prometheus metrics on IP:PORT (`GET
    /// /metrics`) [default: $MSGFLO_METRICS_ADDR, none: not served].
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// Trace each message in a span of its own, continuing its W3C
    /// `traceparent` (see `trace`) [default: $MSGFLO_TRACE, false; on by
    /// itself with an OTLP endpoint].
    #[arg(long)]
    pub trace: bool,
    /// Export the message spans over OTLP/HTTP to this collector
    /// (`http://HOST:4318`) [default: $MSGFLO_OTLP_ENDPOINT,
    /// $OTEL_EXPORTER_OTLP_ENDPOINT, none: not exported].
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// `--config`, `--print-config`, `--log-format`.
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// The settings participant programs read.
pub const KEYS: &[&Key] = &[
    &keys::BROKER,
    &keys::PREFETCH,
    &keys::QUEUE_TYPE,
    &keys::DELIVERY,
    &keys::DISCOVERY_PERIOD,
    &keys::METRICS_ADDR,
    &keys::TRACE,
    &keys::OTLP_ENDPOINT,
];

impl ParticipantArgs {
    /// The settings given as flags.
    pub fn flags(&self) -> Flags {
        Flags::new()
            .with(&keys::BROKER, self.broker.as_ref())
            .with(&keys::PREFETCH, self.prefetch)
            .with(&keys::QUEUE_TYPE, self.queue_type.as_ref())
            .with(&keys::DELIVERY, self.delivery.as_ref())
            .with(&keys::METRICS_ADDR, self.metrics_addr.as_ref())
            .with(&keys::TRACE, self.trace.then_some("true"))
            .with(&keys::OTLP_ENDPOINT, self.otlp_endpoint.as_ref())
    }

    /// The OpenTelemetry tracer these arguments and `settings` ask for,
    /// its service name the role: `None` when tracing is off (neither
    /// `trace` nor `otlp_endpoint`).
    pub fn telemetry(&self, settings: &Settings) -> Result<Option<Telemetry>, String> {
        let endpoint = settings.text(&keys::OTLP_ENDPOINT);
        if endpoint.is_none() && !settings.flag(&keys::TRACE) {
            return Ok(None);
        }
        Telemetry::new(&self.name, endpoint)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The runner options these arguments and `settings` (read with
    /// [`KEYS`] and [`ParticipantArgs::flags`]) ask for.
    pub fn options(&self, settings: &Settings) -> Result<Options, String> {
        let role = Role::new(self.name.as_str()).map_err(|e| e.to_string())?;
        let mut options = Options::new(role, settings.broker());
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
        if let Some(kind) = settings.text(&keys::QUEUE_TYPE) {
            options.queue_type = kind.parse().map_err(|e| format!("queue_type: {e}"))?;
        }
        if let Some(mode) = settings.text(&keys::DELIVERY) {
            options.delivery = Some(mode.parse().map_err(|e| format!("delivery: {e}"))?);
        }
        let prefetch = settings
            .parse::<u16>(&keys::PREFETCH)
            .map_err(|e| e.to_string())?;
        options.prefetch = prefetch.unwrap_or(DEFAULT_PREFETCH);
        options.metrics_addr = settings
            .parse::<SocketAddr>(&keys::METRICS_ADDR)
            .map_err(|e| e.to_string())?;
        if options.prefetch == 0 {
            let origin = settings.get(&keys::PREFETCH).map(|s| s.origin.as_str());
            return Err(format!(
                "{}: prefetch must be at least 1",
                origin.unwrap_or("--prefetch")
            ));
        }
        if let Some(iips) = &self.iips {
            let value: serde_json::Value =
                serde_json::from_str(iips).map_err(|e| format!("--iips is not JSON: {e}"))?;
            let serde_json::Value::Object(map) = value else {
                return Err("--iips must be a JSON object of port -> data".into());
            };
            options.iips = map;
        }
        if let Some(period) = settings
            .seconds(&keys::DISCOVERY_PERIOD)
            .map_err(|e| e.to_string())?
        {
            options.discovery_period = period;
        }
        Ok(options)
    }
}

/// [`start`] for a participant program: reads its settings ([`KEYS`] and
/// `args`' flags), turns tracing on when they ask for it
/// ([`ParticipantArgs::telemetry`]), runs `program` and then sends the
/// spans not exported yet.
pub fn start_participant<P, F>(name: &str, args: &ParticipantArgs, program: P) -> ExitCode
where
    P: FnOnce(Settings) -> F,
    F: Future<Output = Result<(), String>>,
{
    let settings = match args.settings.load(name, KEYS, args.flags()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let format = settings.log_format();
    let telemetry = match args.telemetry(&settings) {
        Ok(telemetry) => telemetry,
        Err(error) => return main(name, format, async move { Err(error) }),
    };
    let layers = telemetry.iter().map(trace::install).collect();
    let code = msgflo_cli::main_with(name, format, layers, program(settings));
    if let Some(telemetry) = telemetry {
        telemetry.shutdown();
    }
    code
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_table_says_the_runner_defaults() {
        assert_eq!(
            keys::PREFETCH.default,
            Some(DEFAULT_PREFETCH.to_string().as_str())
        );
        let period = msgflo_protocol::discovery::DEFAULT_PERIOD_SECS.to_string();
        assert_eq!(keys::DISCOVERY_PERIOD.default, Some(period.as_str()));
    }
}
