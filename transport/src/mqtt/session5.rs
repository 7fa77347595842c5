//! The publishing connection's MQTT 5 side: client options, the first
//! connection, one-line reasons for connection errors (the MQTT 3.1.1
//! equivalents are in `session.rs`).

use super::super::{brokers, BrokerUrl, ConnectOptions, Result, TransportError};
use super::session::{publisher_id, tls_transport, INFLIGHT, KEEP_ALIVE, REQUESTS};
use rumqttc::v5::mqttbytes::v5::{ConnAck, Packet};
use rumqttc::v5::{ConnectionError, Event, EventLoop, MqttOptions, StateError};

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
    let mut mqtt = MqttOptions::new(publisher_id(options), url.host.clone(), url.port);
    mqtt.set_clean_start(true)
        .set_session_expiry_interval(None)
        .set_keep_alive(KEEP_ALIVE)
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
/// and its CONNACK. Fails naming each broker and why when none does.
pub(super) async fn first_connect_any(
    eventloop: &mut EventLoop,
    brokers: &[(BrokerUrl, MqttOptions)],
) -> Result<(usize, ConnAck)> {
    let mut failures = Vec::new();
    for (index, (url, options)) in brokers.iter().enumerate() {
        eventloop.options = options.clone();
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => return Ok((index, ack)),
                Ok(_) => {}
                Err(error) => {
                    failures.push((url.to_string(), reason(&error)));
                    break;
                }
            }
        }
    }
    Err(brokers::unreachable(failures))
}

/// `error` in one line, without rumqttc's prefixes.
pub(super) fn reason(error: &ConnectionError) -> String {
    match error {
        ConnectionError::Io(e) => e.to_string(),
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
