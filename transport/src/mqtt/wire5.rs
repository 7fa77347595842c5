//! [`Wire`] for rumqttc's MQTT 5 client: a message's user properties are
//! its headers.

use super::super::{BrokerUrl, Headers};
use super::outbox::Op;
use super::session::REQUESTS;
use super::session5;
use super::wire::{ConnectFailed, Connection, Event, Full, Kind, Message, Wire};
use rumqttc::v5::mqttbytes::v5::{Filter, Packet, Publish, SubscribeReasonCode};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, EventLoop, MqttOptions};
use rumqttc::Outgoing;

/// MQTT 5 through rumqttc.
pub(super) struct V5;

impl Wire for V5 {
    type Client = AsyncClient;
    type EventLoop = EventLoop;
    type Options = MqttOptions;

    async fn connect(
        brokers: &[(BrokerUrl, MqttOptions)],
    ) -> Result<Connection<Self>, ConnectFailed> {
        let (client, mut eventloop) = AsyncClient::new(brokers[0].1.clone(), REQUESTS);
        let (current, ack) = session5::first_connect_any(&mut eventloop, brokers).await?;
        Ok(Connection {
            client,
            eventloop,
            current,
            session_present: ack.session_present,
        })
    }

    fn client_id(options: &MqttOptions) -> String {
        options.client_id()
    }

    async fn poll(eventloop: &mut EventLoop) -> Result<Event, String> {
        use rumqttc::v5::Event::{Incoming, Outgoing as Out};
        let event = eventloop.poll().await.map_err(|e| session5::reason(&e))?;
        Ok(match event {
            Incoming(Packet::Publish(publish)) => Event::Message(message(publish)),
            Incoming(Packet::PubAck(ack)) => Event::PubAck(ack.pkid),
            Incoming(Packet::SubAck(ack)) => Event::SubAck {
                pkid: ack.pkid,
                refused: ack
                    .return_codes
                    .iter()
                    .map(|code| !matches!(code, SubscribeReasonCode::Success(_)))
                    .collect(),
            },
            Incoming(Packet::UnsubAck(ack)) => Event::UnsubAck(ack.pkid),
            Incoming(Packet::ConnAck(ack)) => Event::ConnAck {
                session_present: ack.session_present,
            },
            Out(Outgoing::Publish(pkid)) => Event::Sent(Kind::Publish, pkid),
            Out(Outgoing::Subscribe(pkid)) => Event::Sent(Kind::Subscribe, pkid),
            Out(Outgoing::Unsubscribe(pkid)) => Event::Sent(Kind::Unsubscribe, pkid),
            Out(Outgoing::Disconnect) => Event::SentDisconnect,
            _ => Event::Other,
        })
    }

    fn drop_connection(eventloop: &mut EventLoop) {
        eventloop.clean();
    }

    fn forget(eventloop: &mut EventLoop) {
        eventloop.pending.clear();
        eventloop.state.collision = None;
        eventloop.state.events.clear();
    }

    fn options(eventloop: &mut EventLoop) -> &mut MqttOptions {
        &mut eventloop.options
    }

    fn send(client: &AsyncClient, op: &Op) -> Result<(), Full> {
        let sent = match op {
            Op::Publish { topic, payload, .. } => {
                client.try_publish(topic.as_str(), QoS::AtLeastOnce, false, payload.to_vec())
            }
            Op::Subscribe {
                filters, transient, ..
            } => {
                let qos = match transient {
                    true => QoS::AtMostOnce,
                    false => QoS::AtLeastOnce,
                };
                client.try_subscribe_many(filters.iter().map(|f| Filter::new(f.clone(), qos)))
            }
            Op::Unsubscribe { filter, .. } => client.try_unsubscribe(filter.as_str()),
            Op::Ack { pkid } => {
                let mut publish = Publish::new("", QoS::AtLeastOnce, Vec::new(), None);
                publish.pkid = *pkid;
                client.try_ack(&publish)
            }
            Op::Disconnect => client.try_disconnect(),
        };
        sent.map_err(|_| Full)
    }
}

/// A received MQTT 5 publish as the driver's message: the topic as text
/// (MQTT says it is UTF-8; anything else is shown lossily), the user
/// properties as headers, in order.
fn message(publish: Publish) -> Message {
    let topic = match String::from_utf8(publish.topic.to_vec()) {
        Ok(topic) => topic,
        Err(_) => String::from_utf8_lossy(&publish.topic).into_owned(),
    };
    let mut headers = Headers::new();
    if let Some(properties) = publish.properties {
        for (name, value) in properties.user_properties {
            headers.insert(name, value);
        }
    }
    Message {
        topic,
        payload: publish.payload,
        pkid: publish.pkid,
        dup: publish.dup,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use rumqttc::v5::mqttbytes::v5::PublishProperties;

    #[test]
    fn user_properties_become_headers_in_order() {
        let properties = PublishProperties {
            user_properties: vec![
                ("traceparent".into(), "00-abc-def-01".into()),
                ("x".into(), "1".into()),
            ],
            ..PublishProperties::default()
        };
        let mut publish = Publish::new("q", QoS::AtLeastOnce, "{}", Some(properties));
        publish.pkid = 7;
        publish.dup = true;
        let message = message(publish);
        assert_eq!(message.topic, "q");
        assert_eq!((message.pkid, message.dup), (7, true));
        let headers: Vec<_> = message.headers.iter().collect();
        assert_eq!(headers, [("traceparent", "00-abc-def-01"), ("x", "1")]);
        assert_eq!(message.payload, Bytes::from_static(b"{}"));
    }
}
