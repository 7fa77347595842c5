//! A [`Snapshot`] in the text format Prometheus scrapes (OpenMetrics, by
//! the Prometheus project's own `prometheus-client`).

use super::histograms::ByLabel;
use crate::snapshot::Snapshot;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, String)>;

fn gauges(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, Gauge> {
    let family = Family::<Labels, Gauge>::default();
    registry.register(name, help, family.clone());
    family
}

fn set(family: &Family<Labels, Gauge>, labels: Labels, value: u64) {
    family
        .get_or_create(&labels)
        .set(i64::try_from(value).unwrap_or(i64::MAX));
}

/// `snapshot` as metrics named `msgflo_*`.
pub fn render(snapshot: &Snapshot) -> String {
    let mut registry = Registry::default();
    let participants = gauges(
        &mut registry,
        "msgflo_participants",
        "Participants known, per role",
    );
    for (role, count) in &snapshot.participants {
        set(&participants, vec![("role", role.clone())], *count);
    }
    let clients = gauges(
        &mut registry,
        "msgflo_fbp_clients",
        "FBP protocol clients connected",
    );
    set(&clients, Vec::new(), snapshot.clients);
    let wanted = gauges(
        &mut registry,
        "msgflo_links_wanted",
        "Broker links the running graph wants, by kind (bind, connectinport, forward: edges the coordinator passes on itself, msgflo_links_wanted{kind=\"forward\"} counts the forwarding edges; delivery: outports (AMQP) or edges into a participant (MQTT) given a delivery mode by the graph)",
    );
    let in_place = gauges(
        &mut registry,
        "msgflo_links_in_place",
        "Of the links wanted, those in place on the broker",
    );
    for kind in ["bind", "connectinport", "forward", "delivery"] {
        let of = |map: &BTreeMap<&str, u64>| map.get(kind).copied().unwrap_or(0);
        set(
            &wanted,
            vec![("kind", kind.into())],
            of(&snapshot.links_wanted),
        );
        set(
            &in_place,
            vec![("kind", kind.into())],
            of(&snapshot.links_in_place),
        );
    }
    let pending = gauges(
        &mut registry,
        "msgflo_pending_nodes",
        "Graph nodes no participant serves yet",
    );
    set(&pending, Vec::new(), snapshot.pending_nodes);
    let connected = gauges(
        &mut registry,
        "msgflo_broker_connected",
        "1 while the coordinator's broker connection is up",
    );
    set(&connected, Vec::new(), u64::from(snapshot.broker_connected));
    edges(&mut registry, snapshot);
    per_role(
        &mut registry,
        "msgflo_dead_letters",
        "Messages dead-lettered by each node's participants (those that answer health calls)",
        &snapshot.dead_letters,
    );
    per_role(
        &mut registry,
        "msgflo_processed",
        "Messages handled and acked by each node's participants (those that answer health calls)",
        &snapshot.processed,
    );
    let reconnects = Counter::<u64>::default();
    reconnects.inc_by(snapshot.broker_reconnects);
    registry.register(
        "msgflo_broker_reconnects",
        "Times the coordinator's broker connection was made again after it was lost",
        reconnects,
    );
    registry.register(
        "msgflo_fbp_reply_seconds",
        "Time from a client's FBP command arriving to its answer queued for the client, by sub-protocol (answers given later, after broker operations or participants' answers, are not counted)",
        ByLabel {
            label: "protocol",
            histograms: snapshot.fbp_reply_seconds.clone(),
        },
    );
    let mut text = String::new();
    // Writing to a String does not fail.
    let _ = encode(&mut text, &registry);
    text
}

fn counters(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, Counter> {
    let family = Family::<Labels, Counter>::default();
    registry.register(name, help, family.clone());
    family
}

/// A counter per role, set to `counts`.
fn per_role(registry: &mut Registry, name: &str, help: &str, counts: &BTreeMap<String, u64>) {
    let family = counters(registry, name, help);
    for (role, count) in counts {
        family
            .get_or_create(&vec![("role", role.clone())])
            .inc_by(*count);
    }
}

/// The edges' series: messages carried, their rate, what waits.
fn edges(registry: &mut Registry, snapshot: &Snapshot) {
    let messages = counters(
        registry,
        "msgflo_edge_messages",
        "Messages carried by each graph edge, as its participants count them (drops when one restarts)",
    );
    let rates = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    registry.register(
        "msgflo_edge_messages_per_second",
        "Messages per second on each graph edge, over the coordinator's last second of observing",
        rates.clone(),
    );
    let depths = gauges(
        registry,
        "msgflo_edge_queue_depth",
        "Messages waiting in each graph edge's target queues (AMQP)",
    );
    for (edge, numbers) in &snapshot.edges {
        let labels = vec![("edge", edge.clone())];
        if let Some(count) = numbers.messages {
            messages.get_or_create(&labels).inc_by(count);
        }
        if let Some(rate) = numbers.rate {
            rates.get_or_create(&labels).set(rate);
        }
        if let Some(depth) = numbers.depth {
            set(&depths, labels, depth);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_renders_as_labelled_gauges() {
        let mut snapshot = Snapshot {
            clients: 2,
            pending_nodes: 1,
            broker_connected: true,
            broker_reconnects: 2,
            ..Snapshot::default()
        };
        snapshot.participants.insert("parse".into(), 3);
        snapshot.links_wanted.insert("forward", 1);
        snapshot.links_wanted.insert("delivery", 2);
        snapshot.edges.insert(
            "a() OUT -> IN b()".into(),
            crate::view::numbers::EdgeNumbers {
                messages: Some(12),
                rate: Some(2.5),
                depth: Some(3),
                dead: None,
            },
        );
        snapshot.dead_letters.insert("parse".into(), 4);
        let mut graph = crate::latency::Histogram::default();
        graph.observe(std::time::Duration::from_millis(3));
        graph.observe(std::time::Duration::from_millis(30));
        snapshot.fbp_reply_seconds.insert("graph", graph);
        snapshot
            .fbp_reply_seconds
            .insert("runtime", Default::default());
        let text = render(&snapshot);
        for line in [
            "msgflo_participants{role=\"parse\"} 3",
            "msgflo_fbp_clients 2",
            "msgflo_links_wanted{kind=\"forward\"} 1",
            "msgflo_links_in_place{kind=\"forward\"} 0",
            "msgflo_links_wanted{kind=\"delivery\"} 2",
            "msgflo_pending_nodes 1",
            "msgflo_broker_connected 1",
            "msgflo_edge_messages_total{edge=\"a() OUT -> IN b()\"} 12",
            "msgflo_edge_messages_per_second{edge=\"a() OUT -> IN b()\"} 2.5",
            "msgflo_edge_queue_depth{edge=\"a() OUT -> IN b()\"} 3",
            "msgflo_dead_letters_total{role=\"parse\"} 4",
            "# TYPE msgflo_broker_reconnects counter",
            "msgflo_broker_reconnects_total 2",
            "# TYPE msgflo_fbp_reply_seconds histogram",
            "msgflo_fbp_reply_seconds_bucket{le=\"0.005\",protocol=\"graph\"} 1",
            "msgflo_fbp_reply_seconds_bucket{le=\"0.05\",protocol=\"graph\"} 2",
            "msgflo_fbp_reply_seconds_bucket{le=\"+Inf\",protocol=\"graph\"} 2",
            "msgflo_fbp_reply_seconds_count{protocol=\"graph\"} 2",
            "msgflo_fbp_reply_seconds_count{protocol=\"runtime\"} 0",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
    }
}
