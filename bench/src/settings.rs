//! What a benchmark run does: the command line.

use clap::Parser;
use msgflo_participant::transport::DeliveryMode;

fn parse_mode(text: &str) -> Result<DeliveryMode, String> {
    text.parse()
}

/// msgflo-rs against the raw broker, side by side in one run.
///
/// Needs the workspace built in the same profile (`msgflo-participant` and
/// `msgflo` next to this program): `cargo build --release`.
#[derive(Debug, Clone, Parser)]
#[command(name = "msgflo-bench", version)]
pub struct Settings {
    /// RabbitMQ.
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    pub amqp: String,
    /// MQTT broker (`mqtt://HOST[:PORT]`).
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    pub mqtt: String,
    /// Broker of the coordinator check: an AMQP or MQTT URL, or `embedded`
    /// (the coordinator's own MQTT broker). Default: --amqp. On AMQP the
    /// coordinator takes the shared `fbp` queue: run it where no other
    /// coordinator does.
    #[arg(long)]
    pub coordinator_broker: Option<String>,
    /// Which parts to run (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "amqp,mqtt,coordinator")]
    pub only: Vec<Part>,
    /// Runs of every measurement; the table shows medians.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Messages per throughput measurement.
    #[arg(long, default_value_t = 20_000)]
    pub messages: u64,
    /// Bytes per message (JSON).
    #[arg(long, default_value_t = 128)]
    pub size: usize,
    /// AMQP: messages sent but not yet out at most.
    #[arg(long, default_value_t = 1000)]
    pub window: usize,
    /// MQTT: messages sent but not yet out at most (Mosquitto drops past
    /// 1,000 queued per client by default).
    #[arg(long, default_value_t = 500)]
    pub mqtt_window: usize,
    /// Prefetch of the benchmark's own consumers (msgflo-rs' default).
    #[arg(long, default_value_t = 128)]
    pub prefetch: u16,
    /// Messages per second of the latency measurement.
    #[arg(long, default_value_t = 1000)]
    pub rate: u32,
    /// Messages per latency measurement.
    #[arg(long, default_value_t = 10_000)]
    pub latency_messages: u64,
    /// Simulated participants in the coordinator check.
    #[arg(long, default_value_t = 1000)]
    pub participants: usize,
    /// Discovery messages each simulated participant sends.
    #[arg(long, default_value_t = 10)]
    pub rounds: usize,
    /// Participant processes the calls part starts.
    #[arg(long, default_value_t = 200)]
    pub call_participants: usize,
    /// Calls to all of them (after one to warm up).
    #[arg(long, default_value_t = 50)]
    pub call_rounds: usize,
    /// Broker of the calls part [default: --amqp].
    #[arg(long)]
    pub calls_broker: Option<String>,
    /// AMQP: a W3C `traceparent` header on every message sent (to measure
    /// participants continuing traces: give them `MSGFLO_TRACE=true`).
    #[arg(long, value_name = "HEADER")]
    pub traceparent: Option<String>,
    /// AMQP: the delivery mode of every message the benchmark publishes,
    /// baseline and participants alike (a participant's output keeps its
    /// input's mode): persistent (msgflo-rs's default) or transient
    /// (msgflo-nodejs's).
    #[arg(long, default_value = "persistent", value_parser = parse_mode)]
    pub delivery: DeliveryMode,
    /// AMQP: the benchmark publishes without publisher confirms, as amqplib
    /// and msgflo-nodejs do (the view from outside a msgflo-rs flow): a
    /// message counts as sent once written; the window of messages not yet
    /// out still holds.
    #[arg(long)]
    pub no_confirms: bool,
    /// Small sizes everywhere: checks that the benchmark works, measures
    /// nothing worth keeping.
    #[arg(long)]
    pub quick: bool,
}

/// A part of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    Amqp,
    Mqtt,
    Coordinator,
    /// One hop with and without the coordinator running its graph.
    Coordinated,
    /// `health` called on many participant processes at once.
    Calls,
}

impl Settings {
    /// `--quick` applied.
    pub fn effective(mut self) -> Self {
        if self.quick {
            self.runs = 1;
            self.messages = self.messages.min(500);
            self.latency_messages = self.latency_messages.min(200);
            self.participants = self.participants.min(50);
            self.rounds = self.rounds.min(2);
            self.call_participants = self.call_participants.min(5);
            self.call_rounds = self.call_rounds.min(3);
        }
        self
    }

    pub fn runs(&self, part: Part) -> bool {
        self.only.contains(&part)
    }
}
