//! The MQTT 5 side of both connections: client options of the session and
//! of the publisher, the first connection, one-line reasons for connection
//! errors (the MQTT 3.1.1 equivalents are in `session.rs`).

use super::super::{brokers, BrokerUrl, ConnectOptions, Result, TransportError};
use super::session::{
    client_id, publisher_id, tls_transport, INFLIGHT, KEEP_ALIVE, MAX_PACKET, REQUESTS,
};
use super::wire::ConnectFailed;
use rumqttc::v5::mqttbytes::v5::{ConnAck, Packet};
use rumqttc::v5::{ConnectionError, Event, EventLoop, MqttOptions, StateError};

/// Messages the broker may send the session before it acks one (MQTT 5's
/// receive maximum; over MQTT 3.1.1 the broker decides, Mosquitto's
/// `max_inflight_messages`, 20 by default).
pub(super) const RECEIVE_MAXIMUM: u16 = 512;

/// The MQTT 5 options of the session at `url`: a persistent session under
/// `options.client_id` (no clean start, and a session that never expires,
/// as an MQTT 3.1.1 session without clean session), manual acks, at most
/// [`RECEIVE_MAXIMUM`] unacked deliveries, credentials from the URL, TLS
/// for `mqtts://`.
pub(super) fn session_options(url: &BrokerUrl, options: &ConnectOptions) -> Result<MqttOptions> {
    if options.client_id.is_empty() {
        return Err(TransportError::Connect {
            broker: url.to_string(),
            reason: "an MQTT persistent session needs a client id; the one given is empty".into(),
        });
    }
    let mut mqtt = base_options(client_id(&options.client_id), url, options)?;
    mqtt.set_clean_start(false)
        .set_session_expiry_interval(Some(u32::MAX))
        .set_manual_acks(true)
        .set_receive_maximum(Some(RECEIVE_MAXIMUM))
        .set_max_packet_size(u32::try_from(MAX_PACKET).ok());
    Ok(mqtt)
}

/// The MQTT 5 options of the publishing connection to `url`: its own client
/// id, a clean start and a session that ends with the connection (the
/// publisher sends every unconfirmed publish again itself), credentials from
/// the URL, TLS for `mqtts://`. The broker's receive maximum (Mosquitto:
/// `max_inflight_messages`) caps the publishes in flight below [`INFLIGHT`].
pub(super) fn publisher_options(url: &BrokerUrl, options: &ConnectOptions) -> Result<MqttOptions> {
    if options.client_id.is_empty() {
        return Err(TransportError::Connect {
            broker: url.to_string(),
            reason: "an MQTT client needs a client id; the one given is empty".into(),
        });
    }
    let mut mqtt = base_options(publisher_id(options), url, options)?;
    mqtt.set_clean_start(true).set_session_expiry_interval(None);
    Ok(mqtt)
}

/// What both connections share: keep-alive, in-flight limit, request
/// channel, no Nagle delay, credentials from the URL, TLS for `mqtts://`.
fn base_options(id: String, url: &BrokerUrl, options: &ConnectOptions) -> Result<MqttOptions> {
    let mut mqtt = MqttOptions::new(id, url.host.clone(), url.port);
    mqtt.set_keep_alive(KEEP_ALIVE)
        .set_outgoing_inflight_upper_limit(INFLIGHT)
        .set_request_channel_capacity(REQUESTS);
    let mut network = mqtt.network_options();
    network.set_tcp_nodelay(true);
    mqtt.set_network_options(network);
    if let Some(user) = &url.username {
        mqtt.set_credentials(user.clone(), url.password.clone().unwrap_or_default());
    }
    if let Some(transport) = tls_transport(url, options)? {
        mqtt.set_transport(transport);
    }
    Ok(mqtt)
}

/// Connects `eventloop` to the first of `brokers` that accepts it: which,
/// and its CONNACK. Fails naming each broker and why when none does, and
/// says whether any of them answered at all (one that did may still take
/// MQTT 3.1.1).
pub(super) async fn first_connect_any(
    eventloop: &mut EventLoop,
    brokers: &[(BrokerUrl, MqttOptions)],
) -> std::result::Result<(usize, ConnAck), ConnectFailed> {
    let mut failures = Vec::new();
    let mut answered = false;
    for (index, (url, options)) in brokers.iter().enumerate() {
        eventloop.options = options.clone();
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => return Ok((index, ack)),
                Ok(_) => {}
                Err(error) => {
                    answered |= !out_of_reach(&error);
                    failures.push((url.to_string(), reason(&error)));
                    break;
                }
            }
        }
    }
    Err(ConnectFailed {
        error: brokers::unreachable(failures),
        answered,
    })
}

/// The connection failed before the broker could say anything about MQTT:
/// nothing listens there, no answer in time, or TLS failed. A broker that
/// closes the connection on our MQTT 5 CONNECT (rumqttd's MQTT 3.1.1
/// listener) or refuses it did answer.
fn out_of_reach(error: &ConnectionError) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    match error {
        ConnectionError::Io(e) => !matches!(
            e.kind(),
            UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe
        ),
        ConnectionError::Tls(_) | ConnectionError::Timeout(_) => true,
        _ => false,
    }
}

/// `error` in one line, without rumqttc's prefixes.
pub(super) fn reason(error: &ConnectionError) -> String {
    match error {
        ConnectionError::Io(e) => e.to_string(),
        // As over MQTT 3.1.1: rustls' text ("invalid peer certificate: ...").
        ConnectionError::Tls(rumqttc::TlsError::Io(e)) => format!("TLS handshake failed: {e}"),
        ConnectionError::Tls(e) => format!("TLS handshake failed: {e}"),
        ConnectionError::ConnectionRefused(code)
        | ConnectionError::MqttState(StateError::ConnFail { reason: code }) => {
            format!("the broker refused the connection ({code:?})")
        }
        ConnectionError::MqttState(StateError::ServerDisconnect {
            reason_code,
            reason_string,
        }) => match reason_string {
            Some(text) => format!("the broker disconnected ({reason_code:?}: {text})"),
            None => format!("the broker disconnected ({reason_code:?})"),
        },
        ConnectionError::Timeout(_) => "the broker did not answer in time".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_publisher_starts_clean_under_its_own_id_with_url_credentials() {
        let url = BrokerUrl::parse("mqtt://user:pw@broker:1884").unwrap();
        let options = ConnectOptions {
            client_id: "core/Repeat-1".into(),
            ..ConnectOptions::default()
        };
        let mqtt = publisher_options(&url, &options).unwrap();
        assert!(mqtt.clean_start());
        assert_eq!(mqtt.session_expiry_interval(), None);
        assert_eq!(mqtt.client_id(), "core%2FRepeat-1-pub");
        assert_eq!(mqtt.broker_address(), ("broker".to_owned(), 1884));
        let login = mqtt.credentials().unwrap();
        assert_eq!(
            (login.username, login.password),
            ("user".into(), "pw".into())
        );
        let empty = ConnectOptions {
            client_id: String::new(),
            ..options
        };
        assert!(publisher_options(&url, &empty).is_err());
    }
}
