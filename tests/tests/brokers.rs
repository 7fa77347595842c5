//! The test command provides real brokers: a message goes through RabbitMQ and
//! through the MQTT broker over real connections.

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use msgflo_tests::{amqp_url, mqtt_address, unique};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::time::Duration;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn rabbitmq_carries_a_message_from_publish_to_consume() -> anyhow::Result<()> {
    let url = amqp_url();
    let conn = timeout(
        WAIT,
        Connection::connect(&url, ConnectionProperties::default()),
    )
    .await
    .map_err(|_| anyhow::anyhow!("RabbitMQ at {url} did not answer within {WAIT:?}"))?
    .map_err(|e| anyhow::anyhow!("cannot connect to RabbitMQ at {url}: {e}"))?;
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let queue = unique("msgflo-test.brokers");
    let opts = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..Default::default()
    };
    channel
        .queue_declare(queue.as_str().into(), opts, FieldTable::default())
        .await?;
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "brokers-test".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;

    let payload = br#"{"bar":"foo"}"#;
    let confirm = channel
        .basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            payload,
            BasicProperties::default(),
        )
        .await?
        .await?;
    assert!(confirm.is_ack(), "broker confirmed the publish");

    let delivery = timeout(WAIT, consumer.next())
        .await?
        .ok_or_else(|| anyhow::anyhow!("consumer ended"))??;
    assert_eq!(delivery.data, payload);
    delivery.ack(BasicAckOptions::default()).await?;
    conn.close(200, "done".into()).await?;
    Ok(())
}

#[tokio::test]
async fn mqtt_broker_carries_a_message_from_publish_to_subscriber() -> anyhow::Result<()> {
    let (host, port) = mqtt_address();
    let topic = unique("msgflo-test/brokers");
    let mut options = MqttOptions::new(unique("msgflo-test"), host.clone(), port);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    client.subscribe(&topic, QoS::AtLeastOnce).await?;

    let payload = br#"{"bar":"foo"}"#.to_vec();
    let mut published = false;
    let received = timeout(WAIT, async {
        loop {
            let event = eventloop
                .poll()
                .await
                .map_err(|e| anyhow::anyhow!("MQTT broker at {host}:{port}: {e}"))?;
            match event {
                Event::Incoming(Packet::SubAck(_)) if !published => {
                    client
                        .publish(&topic, QoS::AtLeastOnce, false, payload.clone())
                        .await?;
                    published = true;
                }
                Event::Incoming(Packet::Publish(p)) if p.topic == topic => {
                    return anyhow::Ok(p.payload.to_vec());
                }
                _ => {}
            }
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("no message from the MQTT broker within {WAIT:?}"))??;
    assert_eq!(received, payload);
    client.disconnect().await?;
    Ok(())
}
