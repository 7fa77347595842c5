//! Adopting the persistent session of a dead participant of the same
//! inports ([`Transport::adopt_session`](super::super::Transport::adopt_session)).
//!
//! A participant killed without a clean stop leaves its session on the
//! broker, still a member of its inports' share groups: Mosquitto keeps
//! giving it its turn and queues those messages for it. When nobody takes
//! that client id again they wait forever. The adopter connects under that
//! id (`clean_session = false`) and first unsubscribes the session from the
//! share groups (the same filters as its own: a participant of the same
//! role consumes the same inports, bound the same way), so the broker gives
//! it no new turns; the broker still hands it what was queued and what the
//! dead one left unacked, and it puts each message back on the inport's
//! own topic (which only that inport's share group takes: a live
//! participant gets it) and acks it; once all is quiet it ends the
//! session. A message is put back before it is
//! acked: at least once. Only one process may adopt a given id at a time,
//! and none may be using it (see the participant's `slot.rs`).

use super::super::{BrokerUrl, ConnectOptions, Result, TransportError};
use super::routes::filter;
use super::session;
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use rumqttc::{AsyncClient, Event, Packet, Publish};
use std::future::Future;
use std::time::Duration;

/// How long the session stays quiet before the adopter moves on: the broker
/// sends a resumed session its queue at once.
const QUIET: Duration = Duration::from_millis(500);
/// The longest an adoption takes before it gives up (what was put back and
/// acked stays so; the rest stays in the session).
const LIMIT: Duration = Duration::from_secs(60);

/// Adopts the session `client_id` on `broker`. `takers`: each inport this
/// process consumes with the topics it takes; `put_back(inport, payload)`
/// sends a message to an inport's own topic, confirmed. Returns how many
/// messages were put back.
pub(super) async fn adopt<F, Fut>(
    broker: &BrokerUrl,
    options: &ConnectOptions,
    client_id: &str,
    takers: Vec<(QueueName, Vec<QueueName>)>,
    put_back: F,
) -> Result<usize>
where
    F: Fn(QueueName, Bytes) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let options = ConnectOptions {
        client_id: client_id.to_owned(),
        ..options.clone()
    };
    let mqtt = session::mqtt_options(broker, &options)?;
    let (client, mut eventloop) = AsyncClient::new(mqtt, session::REQUESTS);
    let ack = session::first_connect(&mut eventloop, broker).await?;
    let failed = |reason: String| TransportError::Broker {
        operation: "adopt session",
        queue: client_id.to_owned(),
        reason,
    };
    let mut put = 0;
    if ack.session_present {
        // Out of the share groups first, so the broker gives the dead
        // session no new turns (what we put back goes to the live
        // members); then take what it had queued and in flight.
        let mut unsubacks_due = 0usize;
        for (inport, topics) in &takers {
            for topic in topics {
                client
                    .unsubscribe(filter(inport, topic))
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                unsubacks_due += 1;
            }
        }
        let work = async {
            loop {
                let event = match tokio::time::timeout(QUIET, eventloop.poll()).await {
                    Ok(Ok(event)) => event,
                    Ok(Err(error)) => return Err(failed(session::reason(&error))),
                    Err(_) if unsubacks_due == 0 => return Ok(()),
                    Err(_) => continue,
                };
                match event {
                    Event::Incoming(Packet::Publish(publish)) => {
                        put += put_back_one(&publish, &takers, &put_back).await?;
                        client
                            .ack(&publish)
                            .await
                            .map_err(|e| failed(e.to_string()))?;
                    }
                    Event::Incoming(Packet::UnsubAck(_)) => {
                        unsubacks_due = unsubacks_due.saturating_sub(1)
                    }
                    Event::Incoming(_) | Event::Outgoing(_) => {}
                }
            }
        };
        match tokio::time::timeout(LIMIT, work).await {
            Ok(result) => result?,
            Err(_) => return Err(failed(format!("not done within {LIMIT:?}"))),
        }
    }
    let _ = client.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while eventloop.poll().await.is_ok() {}
    })
    .await;
    // The session has no subscriptions left; remove it from the broker.
    session::end_session(broker, &options).await?;
    Ok(put)
}

/// Puts `publish` back on the own topic of each inport that takes its
/// topic; how many copies that made.
async fn put_back_one<F, Fut>(
    publish: &Publish,
    takers: &[(QueueName, Vec<QueueName>)],
    put_back: &F,
) -> Result<usize>
where
    F: Fn(QueueName, Bytes) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut copies = 0;
    for (inport, topics) in takers {
        if topics.iter().any(|topic| topic.as_str() == publish.topic) {
            put_back(inport.clone(), publish.payload.clone()).await?;
            copies += 1;
        }
    }
    if copies == 0 {
        // Not ours to route: back where it was published (every share
        // group of that topic gets a copy), rather than lost.
        tracing::warn!(topic = %publish.topic, "adopted session held a message no inport of ours takes; published again to its topic");
        if let Ok(topic) = QueueName::new(publish.topic.as_str()) {
            put_back(topic, publish.payload.clone()).await?;
            copies = 1;
        }
    }
    Ok(copies)
}
