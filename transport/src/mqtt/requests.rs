//! Requests to the broker from queued to answered: the [`Outbox`] in front of
//! rumqttc's request channel, then per kind of request the [`Confirms`] that
//! match the broker's acks to them. After a lost connection every request not
//! answered yet is taken back, to go out again, in order, on the next one.

use super::confirms::{Confirms, Untracked};
use super::outbox::{Op, Outbox, Reply};
use super::wire::{Kind, Wire};
use crate::TransportError;
use msgflo_protocol::ids::QueueName;

/// Filters per SUBSCRIBE when re-subscribing after a reconnect.
const FILTERS_PER_SUBSCRIBE: usize = 64;

/// Something that should not happen when rumqttc reports a packet going out.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Mismatch {
    /// A pkid was reused before its ack; that request goes out again.
    Reused(Kind),
    /// A packet went out that no request waits for.
    Untracked(Kind, u16),
}

/// Every request between "asked for" and "answered".
#[derive(Debug, Default)]
pub(super) struct Requests {
    outbox: Outbox,
    publishes: Confirms<Op>,
    subscribes: Confirms<Op>,
    unsubscribes: Confirms<Op>,
}

impl Requests {
    /// Queues `op` behind everything else.
    pub fn push(&mut self, op: Op) {
        self.outbox.push(op);
    }

    /// Hands queued requests to rumqttc while its channel has room.
    pub fn flush<W: Wire>(&mut self, client: &W::Client) {
        let (publishes, subscribes, unsubscribes) = (
            &mut self.publishes,
            &mut self.subscribes,
            &mut self.unsubscribes,
        );
        self.outbox.flush(
            |op| W::send(client, op).is_ok(),
            |seq, op| match op {
                Op::Publish { .. } => publishes.sent(seq, op),
                Op::Subscribe { .. } => subscribes.sent(seq, op),
                Op::Unsubscribe { .. } => unsubscribes.sent(seq, op),
                Op::Ack { .. } | Op::Disconnect => {}
            },
        );
    }

    /// rumqttc sent the oldest handed-over request of `kind` as `pkid`.
    pub fn went_out(&mut self, kind: Kind, pkid: u16) -> Result<(), Mismatch> {
        let confirms = match kind {
            Kind::Publish => &mut self.publishes,
            Kind::Subscribe => &mut self.subscribes,
            Kind::Unsubscribe => &mut self.unsubscribes,
        };
        match confirms.went_out(pkid) {
            Ok(None) => Ok(()),
            Ok(Some(unacked)) => {
                self.outbox.push_front(vec![unacked]);
                Err(Mismatch::Reused(kind))
            }
            Err(Untracked(pkid)) => Err(Mismatch::Untracked(kind, pkid)),
        }
    }

    /// The PUBACK for `pkid` came.
    pub fn puback(&mut self, pkid: u16) {
        if let Some(Op::Publish { reply, .. }) = self.publishes.acked(pkid) {
            answer(reply, Ok(()));
        }
    }

    /// The UNSUBACK for `pkid` came; returns the inport it retired, if
    /// any.
    pub fn unsuback(&mut self, pkid: u16) -> Option<QueueName> {
        let Some(Op::Unsubscribe { reply, retired, .. }) = self.unsubscribes.acked(pkid) else {
            return None;
        };
        if let Some(reply) = reply {
            answer(reply, Ok(()));
        }
        retired
    }

    /// The SUBACK for `pkid` came, saying per filter whether the broker
    /// `refused` it; returns the refusal of a subscription nobody waits for
    /// (a re-subscription), to be logged.
    pub fn suback(&mut self, pkid: u16, refused: &[bool]) -> Option<TransportError> {
        let Some(Op::Subscribe { filters, reply, .. }) = self.subscribes.acked(pkid) else {
            return None;
        };
        let refused: Vec<&str> = filters
            .iter()
            .zip(refused)
            .filter(|(_, refused)| **refused)
            .map(|(filter, _)| filter.as_str())
            .collect();
        let result = match refused.as_slice() {
            [] => Ok(()),
            refused => Err(TransportError::Broker {
                operation: "subscribe",
                queue: refused.join(", "),
                reason: "the broker refused the subscription".into(),
            }),
        };
        match reply {
            Some(reply) => {
                answer(reply, result);
                None
            }
            None => result.err(),
        }
    }

    /// The connection is gone: takes back every request not answered yet,
    /// to go out again in order; acks are dropped (they name packet ids of
    /// the old connection) and so are re-subscriptions (a fresh one follows
    /// the next CONNACK).
    pub fn take_back(&mut self) {
        let mut again = self.publishes.drain();
        again.extend(self.subscribes.drain());
        again.extend(self.unsubscribes.drain());
        again.retain(|(_, op)| !matches!(op, Op::Subscribe { reply: None, .. }));
        again.sort_by_key(|(seq, _)| *seq);
        self.outbox.drop_acks();
        self.outbox.push_front(again);
    }

    /// Subscribes to `filters` (QoS 0 if `transient`) before anything else
    /// goes out.
    pub fn resubscribe_first(&mut self, filters: &[String], transient: bool) {
        for chunk in filters.chunks(FILTERS_PER_SUBSCRIBE).rev() {
            self.outbox.push_first(Op::Subscribe {
                filters: chunk.to_vec(),
                transient,
                reply: None,
            });
        }
    }

    /// Requests not handed to rumqttc yet.
    pub fn queued(&self) -> usize {
        self.outbox.len()
    }

    /// Publishes not confirmed yet (queued or sent).
    pub fn unconfirmed_publishes(&self) -> usize {
        self.publishes.len() + self.outbox.count(|op| matches!(op, Op::Publish { .. }))
    }
}

/// Sends `result` to whoever asked; they may have stopped waiting.
pub(super) fn answer(reply: Reply, result: Result<(), TransportError>) {
    let _ = reply.send(result);
}

#[cfg(test)]
mod tests {
    use super::super::wire4::V4;
    use super::*;
    use bytes::Bytes;
    use rumqttc::{AsyncClient, EventLoop, MqttOptions};
    use tokio::sync::oneshot;

    /// A client whose event loop (the channel's receiver) stays alive.
    fn client() -> (AsyncClient, EventLoop) {
        AsyncClient::new(MqttOptions::new("t", "localhost", 1), 100)
    }

    fn publish(
        requests: &mut Requests,
        topic: &str,
    ) -> oneshot::Receiver<Result<(), TransportError>> {
        let (reply, rx) = oneshot::channel();
        requests.push(Op::Publish {
            topic: topic.into(),
            payload: Bytes::from_static(b"x"),
            reply,
        });
        rx
    }

    #[test]
    fn a_publish_is_answered_by_the_puback_of_its_pkid() {
        let (mut r, (client, _events)) = (Requests::default(), client());
        let mut a = publish(&mut r, "a");
        let mut b = publish(&mut r, "b");
        r.flush::<V4>(&client);
        assert_eq!(r.went_out(Kind::Publish, 4), Ok(()));
        assert_eq!(r.went_out(Kind::Publish, 5), Ok(()));
        r.puback(5);
        assert!(matches!(b.try_recv(), Ok(Ok(()))));
        assert!(a.try_recv().is_err(), "a is not confirmed yet");
        assert_eq!(r.unconfirmed_publishes(), 1);
    }

    #[test]
    fn after_a_lost_connection_unanswered_requests_go_first_in_order() {
        let (mut r, (client, _events)) = (Requests::default(), client());
        let _a = publish(&mut r, "a");
        let (reply, _s) = oneshot::channel();
        r.push(Op::Subscribe {
            filters: vec!["$share/q/q".into()],
            transient: false,
            reply: Some(reply),
        });
        r.flush::<V4>(&client);
        r.went_out(Kind::Publish, 1).unwrap();
        let _c = publish(&mut r, "c"); // not handed over yet
        r.push(Op::Ack { pkid: 9 });
        r.take_back();
        r.resubscribe_first(&["$share/q/q".to_owned(), "$share/q/o".to_owned()], false);
        assert_eq!(
            r.queued(),
            4,
            "resubscribe, a, subscribe, c; the ack is gone"
        );
        assert_eq!(r.unconfirmed_publishes(), 2);
        assert_eq!(
            r.went_out(Kind::Subscribe, 3),
            Err(Mismatch::Untracked(Kind::Subscribe, 3)),
            "nothing was handed over since"
        );
    }

    #[test]
    fn a_refused_resubscription_is_reported_not_answered() {
        let (mut r, (client, _events)) = (Requests::default(), client());
        r.resubscribe_first(&["$share/q/q".to_owned()], false);
        r.flush::<V4>(&client);
        r.went_out(Kind::Subscribe, 2).unwrap();
        let refused = r.suback(2, &[true]);
        assert!(
            matches!(refused, Some(TransportError::Broker { queue, .. }) if queue == "$share/q/q")
        );
        assert!(r.suback(3, &[false]).is_none(), "unknown pkid");
    }
}
