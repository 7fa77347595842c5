use super::*;
use crate::transport::{self, ConnectOptions};
use std::time::Duration;

async fn metrics() -> Metrics {
    let broker = format!("memory://metrics-unit-{}", uuid::Uuid::new_v4().simple());
    let transport = transport::connect(&broker, ConnectOptions::default())
        .await
        .expect("an in-memory broker");
    Metrics::new("repeat", transport)
}

/// The value of the series `line_start` (name and labels) in `text`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn the_handles_count_into_the_encoded_series() {
    let metrics = metrics().await;
    let inport = metrics.inport("in");
    inport.processed.inc_by(3);
    inport.failed.inc();
    let seconds = inport.seconds.expect("registered inports are timed");
    seconds.observe(Duration::from_millis(2));
    seconds.observe(Duration::from_millis(4));
    metrics.outport("out").inc_by(3);
    metrics.in_flight.set(2);
    let text = metrics.encode().expect("encodes");
    let labels = r#"{role="repeat",port="in"}"#;
    assert_eq!(
        value(
            &text,
            &format!("msgflo_participant_messages_in_total{labels}")
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            &text,
            &format!("msgflo_participant_messages_failed_total{labels}")
        ),
        Some(1.0)
    );
    let out = r#"msgflo_participant_messages_out_total{role="repeat",port="out"}"#;
    assert_eq!(value(&text, out), Some(3.0));
    let count = format!("msgflo_participant_processing_seconds_count{labels}");
    assert_eq!(value(&text, &count), Some(2.0));
    let sum = format!("msgflo_participant_processing_seconds_sum{labels}");
    assert!((value(&text, &sum).expect("a sum") - 0.006).abs() < 1e-9);
    let le = r#"msgflo_participant_processing_seconds_bucket{role="repeat",port="in",le="0.0025"}"#;
    assert_eq!(
        value(&text, le),
        Some(1.0),
        "cumulative: the 2ms one\n{text}"
    );
    let inf = r#"msgflo_participant_processing_seconds_bucket{role="repeat",port="in",le="+Inf"}"#;
    assert_eq!(value(&text, inf), Some(2.0));
    assert_eq!(
        value(&text, r#"msgflo_participant_in_flight{role="repeat"}"#),
        Some(2.0)
    );
    assert_eq!(
        value(
            &text,
            r#"msgflo_participant_broker_connected{role="repeat"}"#
        ),
        Some(1.0)
    );
    let started = value(
        &text,
        r#"msgflo_participant_start_time_seconds{role="repeat"}"#,
    );
    assert!(started.is_some_and(|s| s > 1.7e9), "{text}");
    assert!(text.contains("# TYPE msgflo_participant_processing_seconds histogram"));
}

#[tokio::test]
async fn broker_reconnects_are_what_the_transport_counted() {
    let name = format!("metrics-reconnects-{}", uuid::Uuid::new_v4().simple());
    let options = ConnectOptions {
        client_id: "repeat-1".into(),
        ..ConnectOptions::default()
    };
    let transport = transport::connect(&format!("memory://{name}"), options)
        .await
        .expect("an in-memory broker");
    let metrics = Metrics::new("repeat", transport);
    let series = r#"msgflo_participant_broker_reconnects_total{role="repeat"}"#;
    let text = metrics.encode().expect("encodes");
    assert_eq!(value(&text, series), Some(0.0), "{text}");
    assert!(
        text.contains("# TYPE msgflo_participant_broker_reconnects_total counter"),
        "{text}"
    );
    transport::memory::kill_connection(&name, "repeat-1").expect("killed");
    let text = metrics.encode().expect("encodes");
    assert_eq!(value(&text, series), Some(1.0), "{text}");
}

#[tokio::test]
async fn the_same_port_gets_the_same_series() {
    let metrics = metrics().await;
    metrics.inport("in").processed.inc();
    metrics.inport("in").processed.inc();
    let text = metrics.encode().expect("encodes");
    let series = r#"msgflo_participant_messages_in_total{role="repeat",port="in"}"#;
    assert_eq!(value(&text, series), Some(2.0));
    assert_eq!(
        text.matches("msgflo_participant_messages_in_total{")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_scrape_answers_metrics_and_other_paths_404() {
    let metrics = Arc::new(metrics().await);
    metrics.outport("out").inc();
    let listener = bind("127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("bound");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, metrics, async {
        let _ = stopped.await;
    }));
    let scrape = get(addr, "/metrics").await;
    assert!(scrape.starts_with("HTTP/1.1 200"), "{scrape}");
    assert!(
        scrape.contains("content-type: text/plain; version=0.0.4"),
        "{scrape}"
    );
    assert!(scrape.contains(r#"msgflo_participant_messages_out_total{role="repeat",port="out"} 1"#));
    assert!(get(addr, "/").await.starts_with("HTTP/1.1 404"));
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("stops when asked")
        .expect("no panic");
}

#[tokio::test]
async fn a_taken_address_is_an_error_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = taken.local_addr().expect("bound");
    let error = bind(addr).await.expect_err("in use");
    assert!(error
        .to_string()
        .starts_with(&format!("cannot serve metrics on {addr}: ")));
}

/// One HTTP/1.1 GET on a fresh connection; the whole answer.
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("reads");
    answer
}
