//! The MQTT session: client options from the URL and [`ConnectOptions`]
//! (TLS for `mqtts://`), the first connection, and one-line reasons for
//! connection errors.

use super::super::{brokers, tls, BrokerUrl, ConnectOptions, Result, TransportError};
use rumqttc::{ConnAck, ConnectionError, Event, EventLoop, MqttOptions, Packet, TlsConfiguration};
use std::time::Duration;

/// PINGREQ interval: a dead connection shows within about two of these.
pub(super) const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Our QoS 1 publishes that may await their PUBACK at once.
pub(super) const INFLIGHT: u16 = 512;
/// Capacity of rumqttc's request channel.
pub(super) const REQUESTS: usize = 1024;
/// Largest packet either way: MQTT's own limit (256 MiB).
pub(super) const MAX_PACKET: usize = 256 * 1024 * 1024;

/// The rumqttc options for `url`: a persistent session (`clean_session =
/// false`) under `options.client_id`, manual acks, credentials from the URL,
/// TLS for `mqtts://`. rumqttc's connection timeout (5 s) covers the TCP
/// connection, the TLS handshake and the CONNACK.
pub(super) fn mqtt_options(url: &BrokerUrl, options: &ConnectOptions) -> Result<MqttOptions> {
    let refuse = |reason: &str| TransportError::Connect {
        broker: url.to_string(),
        reason: reason.to_owned(),
    };
    if options.client_id.is_empty() {
        return Err(refuse(
            "an MQTT persistent session needs a client id; the one given is empty",
        ));
    }
    let mut mqtt = MqttOptions::new(client_id(&options.client_id), url.host.clone(), url.port);
    mqtt.set_clean_session(false)
        .set_keep_alive(KEEP_ALIVE)
        .set_manual_acks(true)
        .set_inflight(INFLIGHT)
        .set_request_channel_capacity(REQUESTS)
        .set_max_packet_size(MAX_PACKET, MAX_PACKET);
    if let Some(user) = &url.username {
        mqtt.set_credentials(user.clone(), url.password.clone().unwrap_or_default());
    }
    if let Some(transport) = tls_transport(url, options)? {
        mqtt.set_transport(transport);
    }
    Ok(mqtt)
}

/// TLS for `mqtts://` (rustls, the certificate checked against the URL's
/// host), `None` for plain `mqtt://`. rumqttc's MQTT 3.1.1 and MQTT 5
/// clients take the same transport.
pub(super) fn tls_transport(
    url: &BrokerUrl,
    options: &ConnectOptions,
) -> Result<Option<rumqttc::Transport>> {
    if !url.scheme.is_tls() {
        return Ok(None);
    }
    let refuse = |reason: String| TransportError::Connect {
        broker: url.to_string(),
        reason,
    };
    // rumqttc checks the certificate against the host as given (so an IPv6
    // address in brackets cannot be used with TLS).
    tls::check_server_name(&url.host).map_err(refuse)?;
    let config = tls::client_config(&options.extra_root_certs).map_err(refuse)?;
    Ok(Some(rumqttc::Transport::tls_with_config(
        TlsConfiguration::Rustls(config),
    )))
}

/// `id` as an MQTT client id: `/`, `+`, `#` and `$`, which some brokers
/// refuse in a client id (rumqttd), and `%` are percent-encoded, so a
/// participant whose role is a node id like `core/Repeat_x1` connects
/// everywhere, and distinct ids stay distinct. Other ids are kept as they
/// are, so a persistent session is found again under the same id.
pub(super) fn client_id(id: &str) -> String {
    let mut encoded = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '/' | '+' | '#' | '$' | '%' => encoded.push_str(&format!("%{:02X}", u32::from(c))),
            c => encoded.push(c),
        }
    }
    encoded
}

/// Suffix of the publishing connection's client id (see `mod.rs`).
const PUBLISHER_SUFFIX: &str = "-pub";

/// The options of the publishing connection beside the session under
/// `options.client_id`: its own client id, a clean session (our driver sends
/// every unconfirmed publish again itself, so there is nothing to keep).
pub(super) fn publisher_options(url: &BrokerUrl, options: &ConnectOptions) -> Result<MqttOptions> {
    let mut mqtt = mqtt_options(url, options)?;
    mqtt.set_client_id(publisher_id(options))
        .set_clean_session(true);
    Ok(mqtt)
}

/// The publishing connection's client id.
pub(super) fn publisher_id(options: &ConnectOptions) -> String {
    format!("{}{PUBLISHER_SUFFIX}", client_id(&options.client_id))
}

/// Ends the persistent session of `options.client_id` on the broker: a
/// connection with `clean_session = true` discards it (MQTT 3.1.1, 3.1.2.4),
/// then disconnects. Bounded by rumqttc's connection timeout.
pub(super) async fn end_session(url: &BrokerUrl, options: &ConnectOptions) -> Result<()> {
    let mut mqtt = mqtt_options(url, options)?;
    mqtt.set_clean_session(true);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(mqtt, 10);
    first_connect(&mut eventloop, url).await?;
    let _ = client.disconnect().await;
    // Drive the loop until the DISCONNECT is out (the loop then errors).
    let drain = async { while eventloop.poll().await.is_ok() {} };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    Ok(())
}

/// Polls `eventloop` until the broker accepts the connection; fails on the
/// first error.
pub(super) async fn first_connect(eventloop: &mut EventLoop, url: &BrokerUrl) -> Result<ConnAck> {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => return Ok(ack),
            Ok(_) => {}
            Err(error) => {
                return Err(TransportError::Connect {
                    broker: url.to_string(),
                    reason: reason(&error),
                })
            }
        }
    }
}

/// Connects `eventloop` to the first of `brokers` that accepts it: which,
/// and its CONNACK. Fails naming each broker and why when none does.
pub(super) async fn first_connect_any(
    eventloop: &mut EventLoop,
    brokers: &[(BrokerUrl, MqttOptions)],
) -> Result<(usize, ConnAck)> {
    let mut failures = Vec::new();
    for (index, (url, options)) in brokers.iter().enumerate() {
        eventloop.mqtt_options = options.clone();
        match first_connect(eventloop, url).await {
            Ok(ack) => return Ok((index, ack)),
            Err(TransportError::Connect { broker, reason }) => failures.push((broker, reason)),
            Err(other) => return Err(other),
        }
    }
    Err(brokers::unreachable(failures))
}

/// `error` in one line, without rumqttc's prefixes.
pub(super) fn reason(error: &ConnectionError) -> String {
    match error {
        ConnectionError::Io(e) => e.to_string(),
        // Every I/O error here comes from the handshake; its text is rustls'
        // ("invalid peer certificate: UnknownIssuer").
        ConnectionError::Tls(rumqttc::TlsError::Io(e)) => format!("TLS handshake failed: {e}"),
        ConnectionError::Tls(e) => format!("TLS handshake failed: {e}"),
        ConnectionError::ConnectionRefused(code) => {
            format!("the broker refused the connection ({code:?})")
        }
        ConnectionError::NetworkTimeout => "the broker did not answer in time".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> BrokerUrl {
        BrokerUrl::parse(text).unwrap()
    }

    fn options(id: &str) -> ConnectOptions {
        ConnectOptions {
            client_id: id.into(),
            ..ConnectOptions::default()
        }
    }

    #[test]
    fn a_persistent_session_with_manual_acks_and_url_credentials() {
        let mqtt = mqtt_options(&url("mqtt://user:pw@broker:1884"), &options("p-1")).unwrap();
        assert!(!mqtt.clean_session());
        assert!(mqtt.manual_acks());
        assert_eq!(mqtt.client_id(), "p-1");
        assert_eq!(mqtt.broker_address(), ("broker".to_owned(), 1884));
        assert_eq!(mqtt.keep_alive(), KEEP_ALIVE);
        let login = mqtt.credentials().unwrap();
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("user", "pw")
        );
    }

    #[test]
    fn the_publisher_has_its_own_id_and_a_clean_session() {
        let mqtt = publisher_options(&url("mqtt://b"), &options("p-1")).unwrap();
        assert!(mqtt.clean_session());
        assert_eq!(mqtt.client_id(), "p-1-pub");
    }

    #[test]
    fn mqtts_uses_rustls_and_plain_mqtt_does_not() {
        let mqtt = mqtt_options(&url("mqtts://u:secret@b"), &options("x")).unwrap();
        assert!(matches!(
            mqtt.transport(),
            rumqttc::Transport::Tls(TlsConfiguration::Rustls(_))
        ));
        assert_eq!(mqtt.broker_address(), ("b".to_owned(), 8883));
        let mqtt = mqtt_options(&url("mqtt://b"), &options("x")).unwrap();
        assert!(matches!(mqtt.transport(), rumqttc::Transport::Tcp));
    }

    #[test]
    fn client_ids_carry_no_character_a_broker_may_refuse() {
        let mqtt = mqtt_options(&url("mqtt://b"), &options("core/Repeat_x1-7")).unwrap();
        assert_eq!(mqtt.client_id(), "core%2FRepeat_x1-7");
        let mqtt = publisher_options(&url("mqtt://b"), &options("a+b#c$d%e")).unwrap();
        assert_eq!(mqtt.client_id(), "a%2Bb%23c%24d%25e-pub");
        let mqtt = mqtt_options(&url("mqtt://b"), &options("plain-id_1.x")).unwrap();
        assert_eq!(
            mqtt.client_id(),
            "plain-id_1.x",
            "ids without them are kept"
        );
    }

    #[test]
    fn bad_root_files_and_empty_client_ids_are_refused_in_one_line() {
        let with_roots = ConnectOptions {
            extra_root_certs: vec!["/nonexistent/ca.pem".into()],
            ..options("x")
        };
        let err = mqtt_options(&url("mqtts://u:secret@b"), &with_roots)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot connect to mqtts://u@b:8883: cannot read root certificates"),
            "{err}"
        );
        assert!(!err.contains("secret") && !err.contains('\n'), "{err}");
        let err = mqtt_options(&url("mqtt://b"), &options("")).unwrap_err();
        assert!(err.to_string().contains("client id"), "{err}");
    }
}
