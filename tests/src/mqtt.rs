//! MQTT broker fixtures: making a broker drop a client, as a broker restart
//! or a network cut would.

use anyhow::{Context, Result};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
use std::time::Duration;

/// Makes an MQTT broker close the connections of these client ids by taking
/// over each one's session: the broker disconnects a client when another one
/// connects with its client id. The intruder then leaves without ending the
/// session.
pub async fn take_over(host: &str, port: u16, client_ids: &[String]) -> Result<()> {
    for client_id in client_ids {
        let mut options = MqttOptions::new(client_id.clone(), host, port);
        options.set_clean_session(false);
        // Never ack what arrives while holding the session: those messages
        // must go back to the real client.
        options.set_manual_acks(true);
        options.set_keep_alive(Duration::from_secs(5));
        let (intruder, mut events) = AsyncClient::new(options, 10);
        tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                if let Event::Incoming(Packet::ConnAck(_)) = events.poll().await? {
                    return anyhow::Ok(());
                }
            }
        })
        .await
        .context("session takeover timed out")??;
        intruder.disconnect().await?;
        // Drive the event loop until the DISCONNECT is on the wire.
        while events.poll().await.is_ok() {}
    }
    Ok(())
}
