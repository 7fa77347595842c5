//! [`Wire`] for rumqttc's MQTT 3.1.1 client: no headers.

use super::super::{BrokerUrl, Headers};
use super::outbox::Op;
use super::session::{self, REQUESTS};
use super::wire::{ConnectFailed, Connection, Event, Full, Kind, Message, Wire};
use rumqttc::{
    AsyncClient, EventLoop, MqttOptions, Outgoing, Packet, Publish, QoS, SubscribeFilter,
    SubscribeReasonCode,
};

/// MQTT 3.1.1 through rumqttc.
pub(super) struct V4;

impl Wire for V4 {
    type Client = AsyncClient;
    type EventLoop = EventLoop;
    type Options = MqttOptions;

    /// Never says a broker answered: there is no older version to try.
    async fn connect(
        brokers: &[(BrokerUrl, MqttOptions)],
    ) -> Result<Connection<Self>, ConnectFailed> {
        let (client, mut eventloop) = AsyncClient::new(brokers[0].1.clone(), REQUESTS);
        // Small packets go out at once (no Nagle delay behind an unacked one).
        let mut network = eventloop.network_options();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let (current, ack) = session::first_connect_any(&mut eventloop, brokers)
            .await
            .map_err(|error| ConnectFailed {
                error,
                answered: false,
            })?;
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
        use rumqttc::Event::{Incoming, Outgoing as Out};
        let event = eventloop.poll().await.map_err(|e| session::reason(&e))?;
        Ok(match event {
            Incoming(Packet::Publish(publish)) => Event::Message(Message {
                topic: publish.topic,
                payload: publish.payload,
                pkid: publish.pkid,
                dup: publish.dup,
                headers: Headers::new(),
            }),
            Incoming(Packet::PubAck(ack)) => Event::PubAck(ack.pkid),
            Incoming(Packet::SubAck(ack)) => Event::SubAck {
                pkid: ack.pkid,
                refused: ack
                    .return_codes
                    .iter()
                    .map(|code| matches!(code, SubscribeReasonCode::Failure))
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
        &mut eventloop.mqtt_options
    }

    fn send(client: &AsyncClient, op: &Op) -> std::result::Result<(), Full> {
        let sent = match op {
            // `try_publish` wants an owned Vec: one copy of the payload, which
            // we keep in case it has to be sent again.
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
                client.try_subscribe_many(
                    filters.iter().map(|f| SubscribeFilter::new(f.clone(), qos)),
                )
            }
            Op::Unsubscribe { filter, .. } => client.try_unsubscribe(filter.as_str()),
            Op::Ack { pkid } => {
                let mut publish = Publish::new("", QoS::AtLeastOnce, Vec::new());
                publish.pkid = *pkid;
                client.try_ack(&publish)
            }
            Op::Disconnect => client.try_disconnect(),
        };
        sent.map_err(|_| Full)
    }
}
