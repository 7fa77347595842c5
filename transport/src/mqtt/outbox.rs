//! Requests on their way to the client's request channel, in order.
//!
//! The driver owns the event loop, so it must never wait on the client's
//! bounded request channel (that channel is emptied by the very loop it would
//! block). Requests wait here instead and go over with `try_*` whenever the
//! channel has room; each gets a sequence number so requests taken back after
//! a lost connection keep their order.

use super::super::Result;
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use std::collections::VecDeque;
use tokio::sync::oneshot;

/// Where the outcome of a request goes.
pub(super) type Reply = oneshot::Sender<Result<()>>;

/// A request for the broker.
#[derive(Debug)]
pub(super) enum Op {
    /// QoS 1 publish; `reply` once the PUBACK came.
    Publish {
        topic: String,
        payload: Bytes,
        reply: Reply,
    },
    /// QoS 1 subscription (QoS 0 if `transient`); `reply` (if any) once
    /// the SUBACK came.
    Subscribe {
        filters: Vec<String>,
        transient: bool,
        reply: Option<Reply>,
    },
    /// `reply` (if any) once the UNSUBACK came; then the inport `retired`
    /// (if any) is forgotten.
    Unsubscribe {
        filter: String,
        reply: Option<Reply>,
        retired: Option<QueueName>,
    },
    /// PUBACK for a message we received.
    Ack { pkid: u16 },
    /// The polite goodbye (the session stays on the broker).
    Disconnect,
}

impl Op {
    /// Nobody waits for this any more and skipping it changes nothing else.
    fn abandoned(&self) -> bool {
        matches!(self, Op::Publish { reply, .. } if reply.is_closed())
    }
}

/// Requests not handed to the client yet, oldest first.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    ops: VecDeque<(u64, Op)>,
    next_seq: u64,
}

impl Outbox {
    /// Queues `op` after everything else.
    pub fn push(&mut self, op: Op) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.ops.push_back((seq, op));
    }

    /// Puts requests taken back from the client (older than anything queued
    /// here, in order) in front.
    pub fn push_front(&mut self, again: Vec<(u64, Op)>) {
        for item in again.into_iter().rev() {
            self.ops.push_front(item);
        }
    }

    /// Puts `op` before everything else.
    pub fn push_first(&mut self, op: Op) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.ops.push_front((seq, op));
    }

    /// Forgets acks: after a lost connection they name packet ids of the old
    /// connection (those messages come again).
    pub fn drop_acks(&mut self) {
        self.ops.retain(|(_, op)| !matches!(op, Op::Ack { .. }));
    }

    /// Hands requests to the client (`try_send`: false when its channel is
    /// full) while its channel has room; `sent` gets each one handed over.
    pub fn flush(&mut self, mut try_send: impl FnMut(&Op) -> bool, mut sent: impl FnMut(u64, Op)) {
        while let Some((seq, op)) = self.ops.pop_front() {
            if op.abandoned() {
                continue;
            }
            match try_send(&op) {
                true => sent(seq, op),
                false => {
                    // Full: the event loop takes requests as it goes and
                    // reports each, and the driver flushes again then.
                    self.ops.push_front((seq, op));
                    break;
                }
            }
        }
    }

    /// Requests waiting here.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Requests waiting here that `matches`.
    pub fn count(&self, matches: impl Fn(&Op) -> bool) -> usize {
        self.ops.iter().filter(|(_, op)| matches(op)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::Wire;
    use super::super::wire4::V4;
    use super::*;
    use rumqttc::{AsyncClient, MqttOptions, Request};

    fn publish(outbox: &mut Outbox, topic: &str) -> oneshot::Receiver<Result<()>> {
        let (reply, rx) = oneshot::channel();
        outbox.push(Op::Publish {
            topic: topic.into(),
            payload: Bytes::from_static(b"x"),
            reply,
        });
        rx
    }

    #[test]
    fn flush_stops_when_the_channel_is_full_and_goes_on_later() {
        let (client, mut eventloop) = AsyncClient::new(MqttOptions::new("t", "localhost", 1), 2);
        let mut outbox = Outbox::default();
        let _rx: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|t| publish(&mut outbox, t))
            .collect();
        let mut sent = Vec::new();
        outbox.flush(|op| V4::send(&client, op).is_ok(), |seq, _| sent.push(seq));
        assert_eq!((sent.as_slice(), outbox.len()), (&[0, 1][..], 1));

        eventloop.clean(); // takes the channel's requests
        outbox.flush(|op| V4::send(&client, op).is_ok(), |seq, _| sent.push(seq));
        assert_eq!((sent.as_slice(), outbox.len()), (&[0, 1, 2][..], 0));
        let topics: Vec<_> = eventloop
            .pending
            .iter()
            .map(|r| match r {
                Request::Publish(p) => p.topic.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(topics, ["a", "b"]);
    }

    #[test]
    fn abandoned_publishes_are_skipped_and_acks_dropped_on_request() {
        let (client, _eventloop) = AsyncClient::new(MqttOptions::new("t", "localhost", 1), 10);
        let mut outbox = Outbox::default();
        drop(publish(&mut outbox, "gone"));
        outbox.push(Op::Ack { pkid: 3 });
        let _kept = publish(&mut outbox, "kept");
        outbox.drop_acks();
        let mut sent = Vec::new();
        outbox.flush(|op| V4::send(&client, op).is_ok(), |_, op| sent.push(op));
        assert!(matches!(sent.as_slice(), [Op::Publish { topic, .. }] if topic == "kept"));
    }

    #[test]
    fn requests_taken_back_go_before_newer_ones() {
        let mut outbox = Outbox::default();
        outbox.push(Op::Disconnect);
        outbox.push_front(vec![(0, Op::Ack { pkid: 1 }), (1, Op::Ack { pkid: 2 })]);
        outbox.push_first(Op::Subscribe {
            filters: vec!["$share/a/a".into()],
            transient: false,
            reply: None,
        });
        let order: Vec<_> = outbox.ops.iter().map(|(_, op)| format!("{op:?}")).collect();
        assert_eq!(
            order,
            [
                "Subscribe { filters: [\"$share/a/a\"], transient: false, reply: None }",
                "Ack { pkid: 1 }",
                "Ack { pkid: 2 }",
                "Disconnect"
            ]
        );
    }
}
