//! What to declare on the broker, and the record of what was declared so it
//! can be declared again after a reconnection. Pure: no IO.
//!
//! The shapes are msgflo-nodejs' (`src/amqp.coffee`, amqplib defaults:
//! durable, not auto-delete), so Node.js and Rust participants can declare the
//! same names without PRECONDITION_FAILED:
//! - outport `q`: durable fanout exchange `q`.
//! - inport `q`: durable queue `q` with `x-dead-letter-exchange: dead-q`, a
//!   durable fanout exchange `q` bound to it; plus its dead-letter inport
//!   `dead-q` (durable fanout exchange `dead-q` bound to a durable queue
//!   `dead-q`, no dead-letter argument), so nacked messages are kept.
//! - a queue named `dead-…` is a dead-letter queue: declared with the plain
//!   shape, never given a `dead-dead-…` of its own.
//! - the discovery queue `fbp` is a plain durable queue (msgflo-nodejs
//!   `assertQueue 'fbp'`): no arguments, no exchange.
//! - a participant's control queue `.fbp.<id>.receive` lives only as long as
//!   the participant: not durable, auto-delete, no dead-letter queue (ids are
//!   new on every start; durable control queues would pile up on the broker).
//!   So does a tap (`.tap.<uuid>`, [`Transport::tap`](super::super::Transport::tap)),
//!   which is also bounded: at most [`TAP_MAX_LENGTH`] ready messages, the
//!   oldest dropped first.
//!
//! # Ours and theirs
//! A participant's own ports are declared whatever is there ([`Step::Always`]):
//! a name squatted with another shape is a PRECONDITION_FAILED to report.
//! The ends of a binding ([`bind`]) may belong to a peer — msgflo-python
//! declares its inport `role/in` not durable and auto-delete, its outport
//! exchange not durable — so each end is first looked for (a passive
//! declare) and declared, with the shapes above, only if it is missing
//! ([`Step::IfAbsent`]); an existing one is left exactly as its owner
//! declared it. The record keeps what was done: a step that declared
//! nothing is not recorded, and a recorded [`Step::IfAbsent`] looks again
//! before declaring on replay, so a peer's queue is never declared by us,
//! neither now nor after a reconnection.
//!
//! Looking and declaring are two steps: a peer that declares its queue in
//! between finds ours and gets the PRECONDITION_FAILED. The coordinator
//! binds an edge only once discovery named its queues, and msgflo-python
//! 0.4.1 (like our participants) declares its queues before it announces
//! itself, so there the queue is always found.

use super::super::{dead_letter_queue, is_discovery, QueueType};
use lapin::types::{AMQPValue, FieldTable};
use msgflo_protocol::ids::QueueName;

/// The queue argument naming where rejected messages go.
pub(super) const DEAD_LETTER_ARGUMENT: &str = "x-dead-letter-exchange";

/// The queue argument naming a queue's type (absent: classic).
pub(super) const QUEUE_TYPE_ARGUMENT: &str = "x-queue-type";

/// Prefix of dead-letter exchanges and queues.
const DEAD_PREFIX: &str = msgflo_protocol::queues::DEAD_LETTER_PREFIX;

/// Prefix of participants' control queues (`.fbp.<id>.receive`).
const CONTROL_PREFIX: &str = msgflo_protocol::queues::CONTROL_PREFIX;

/// Prefix of taps (`.tap.<uuid>`): private copies of an outport.
const TAP_PREFIX: &str = super::super::TAP_PREFIX;

/// Most messages a tap's queue keeps ready (`x-max-length`); past that the
/// oldest go (`x-overflow: drop-head`). A tap is a copy for a watcher: one
/// that falls behind loses old copies, and can never grow the broker's
/// memory toward an alarm that would block every publisher.
pub(super) const TAP_MAX_LENGTH: i64 = 10_000;

/// One thing on the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Declaration {
    /// A durable fanout exchange.
    Exchange(String),
    /// A queue; rejected messages go to `dead_letter_exchange`.
    Queue {
        /// Queue name.
        name: String,
        /// Value of `x-dead-letter-exchange`, if any.
        dead_letter_exchange: Option<String>,
        /// Not durable and deleted with its last consumer (control queues);
        /// otherwise durable.
        transient: bool,
        /// A quorum queue (`x-queue-type: quorum`); else classic.
        quorum: bool,
    },
    /// `queue` gets the messages of `exchange` (routing key `""`).
    Binding {
        /// The bound queue.
        queue: String,
        /// The exchange it is bound to.
        exchange: String,
    },
}

impl Declaration {
    /// The `arguments` table of the declaration (empty but for queues with a
    /// dead-letter exchange, and taps: bounded, see [`TAP_MAX_LENGTH`]).
    pub(super) fn arguments(&self) -> FieldTable {
        let mut table = FieldTable::default();
        let Declaration::Queue {
            name,
            dead_letter_exchange,
            quorum,
            ..
        } = self
        else {
            return table;
        };
        if *quorum {
            table.insert(
                QUEUE_TYPE_ARGUMENT.into(),
                AMQPValue::LongString("quorum".into()),
            );
        }
        if let Some(exchange) = dead_letter_exchange {
            table.insert(
                DEAD_LETTER_ARGUMENT.into(),
                AMQPValue::LongString(exchange.as_str().into()),
            );
        }
        if name.starts_with(TAP_PREFIX) {
            table.insert(
                "x-max-length".into(),
                AMQPValue::LongLongInt(TAP_MAX_LENGTH),
            );
            table.insert(
                "x-overflow".into(),
                AMQPValue::LongString("drop-head".into()),
            );
        }
        table
    }
}

/// Something on the broker whose existence decides a [`Step::IfAbsent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Probe {
    /// The queue of this name.
    Queue(String),
    /// The exchange of this name.
    Exchange(String),
}

impl Probe {
    /// The name looked for.
    pub(super) fn name(&self) -> &str {
        match self {
            Probe::Queue(name) | Probe::Exchange(name) => name,
        }
    }
}

/// One step of a topology operation, and of the record replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// Declare it, whatever is there (our own ports; bindings).
    Always(Declaration),
    /// Declare `declarations` only if `absent` is not on the broker (the
    /// ends of a binding, which may be a peer's).
    IfAbsent {
        /// What is looked for first.
        absent: Probe,
        /// What is declared if it is missing, in order.
        declarations: Vec<Declaration>,
    },
}

/// `declarations`, each made whatever is there.
pub(super) fn always(declarations: Vec<Declaration>) -> Vec<Step> {
    declarations.into_iter().map(Step::Always).collect()
}

/// What `bind(outport, inport)` does: the outport's exchange and the
/// inport (with its exchange and dead-letter queue, of `queue_type`) each
/// declared only if missing, then the binding.
pub(super) fn bind(
    outport_queue: &QueueName,
    inport_queue: &QueueName,
    queue_type: QueueType,
) -> Vec<Step> {
    vec![
        Step::IfAbsent {
            absent: Probe::Exchange(outport_queue.as_str().to_owned()),
            declarations: outport(outport_queue),
        },
        Step::IfAbsent {
            absent: Probe::Queue(inport_queue.as_str().to_owned()),
            declarations: inport(inport_queue, queue_type),
        },
        Step::Always(binding(outport_queue, inport_queue)),
    ]
}

/// Everything an inport needs, in the order to declare it. `queue_type`
/// applies to a participant's inport and its dead-letter queue; the
/// discovery queue, control queues and taps are always classic.
pub(super) fn inport(queue: &QueueName, queue_type: QueueType) -> Vec<Declaration> {
    let quorum = queue_type == QueueType::Quorum;
    let name = queue.as_str();
    if is_discovery(name) {
        return plain_queue(queue);
    }
    if !is_durable(name) {
        return vec![Declaration::Queue {
            name: name.to_owned(),
            dead_letter_exchange: None,
            transient: true,
            quorum: false,
        }];
    }
    if name.starts_with(DEAD_PREFIX) {
        return dead_letter_inport(name, quorum);
    }
    let dead = dead_letter_queue(queue).as_str().to_owned();
    let mut out = vec![
        Declaration::Queue {
            name: name.to_owned(),
            dead_letter_exchange: Some(dead.clone()),
            transient: false,
            quorum,
        },
        Declaration::Exchange(name.to_owned()),
        Declaration::Binding {
            queue: name.to_owned(),
            exchange: name.to_owned(),
        },
    ];
    out.extend(dead_letter_inport(&dead, quorum));
    out
}

/// A dead-letter queue with its same-named exchange (the one named by
/// `x-dead-letter-exchange`).
fn dead_letter_inport(name: &str, quorum: bool) -> Vec<Declaration> {
    vec![
        Declaration::Exchange(name.to_owned()),
        Declaration::Queue {
            name: name.to_owned(),
            dead_letter_exchange: None,
            transient: false,
            quorum,
        },
        Declaration::Binding {
            queue: name.to_owned(),
            exchange: name.to_owned(),
        },
    ]
}

/// An outport: its fanout exchange.
pub(super) fn outport(queue: &QueueName) -> Vec<Declaration> {
    vec![Declaration::Exchange(queue.as_str().to_owned())]
}

/// Whether [`inport`] declares `queue` durable: control and tap queues are
/// not (they go with their consumer's connection, and what was in them).
pub(super) fn is_durable(queue: &str) -> bool {
    !(queue.starts_with(CONTROL_PREFIX) || queue.starts_with(TAP_PREFIX))
}

/// A plain durable queue without arguments (the discovery queue).
pub(super) fn plain_queue(queue: &QueueName) -> Vec<Declaration> {
    vec![Declaration::Queue {
        name: queue.as_str().to_owned(),
        dead_letter_exchange: None,
        transient: false,
        quorum: false,
    }]
}

/// The binding that makes `outport`'s messages reach `inport`.
pub(super) fn binding(outport: &QueueName, inport: &QueueName) -> Declaration {
    Declaration::Binding {
        queue: inport.as_str().to_owned(),
        exchange: outport.as_str().to_owned(),
    }
}

/// Queues that sending to or consuming from declares first (plainly, as
/// msgflo-nodejs does): only the discovery queue.
pub(super) fn implicit(queue: &QueueName) -> Option<Vec<Declaration>> {
    is_discovery(queue.as_str()).then(|| plain_queue(queue))
}

/// What this connection did, in order, each step once: replayed after a
/// reconnection. Only steps that declared something are recorded (an end
/// of a binding that a peer had declared is not).
#[derive(Debug, Default)]
pub(super) struct Topology {
    done: Vec<Step>,
}

impl Topology {
    /// Remembers `step` (no-op if it is already known).
    pub(super) fn record(&mut self, step: Step) {
        if !self.done.contains(&step) {
            self.done.push(step);
        }
    }

    /// Forgets `declaration` (an unbound binding).
    pub(super) fn forget(&mut self, declaration: &Declaration) {
        self.done
            .retain(|step| !matches!(step, Step::Always(d) if d == declaration));
    }

    /// Forgets queue `name`: what declared it and every binding into it (a
    /// deleted queue).
    pub(super) fn forget_queue(&mut self, name: &str) {
        self.done.retain(|step| match step {
            Step::Always(Declaration::Queue { name: queue, .. })
            | Step::Always(Declaration::Binding { queue, .. }) => queue != name,
            Step::Always(Declaration::Exchange(_)) => true,
            Step::IfAbsent { absent, .. } => *absent != Probe::Queue(name.to_owned()),
        });
    }

    /// Everything to do again, in the order it was first done.
    pub(super) fn replay(&self) -> &[Step] {
        &self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str) -> QueueName {
        QueueName::new(name).unwrap()
    }

    fn queue(name: &str, dlx: Option<&str>) -> Declaration {
        Declaration::Queue {
            name: name.into(),
            dead_letter_exchange: dlx.map(Into::into),
            transient: false,
            quorum: false,
        }
    }

    #[test]
    fn control_queues_are_transient_without_dead_letters() {
        assert_eq!(
            inport(&q(".fbp.repeat-1.receive"), QueueType::Classic),
            [Declaration::Queue {
                name: ".fbp.repeat-1.receive".into(),
                dead_letter_exchange: None,
                transient: true,
                quorum: false,
            }]
        );
    }

    #[test]
    fn only_control_and_tap_queues_are_not_durable() {
        let tap = format!("{TAP_PREFIX}x.OUT-1");
        for (name, durable) in [
            ("repeat.IN", true),
            ("dead-repeat.IN", true),
            ("fbp", true),
            (".fbp.repeat-1.receive", false),
            (tap.as_str(), false),
        ] {
            assert_eq!(is_durable(name), durable, "{name}");
            let declared_durable = inport(&q(name), QueueType::Classic).iter().any(
                |d| matches!(d, Declaration::Queue { name: n, transient: false, .. } if n == name),
            );
            assert_eq!(declared_durable, durable, "{name} as declared");
        }
    }

    fn bind_decl(queue: &str, exchange: &str) -> Declaration {
        Declaration::Binding {
            queue: queue.into(),
            exchange: exchange.into(),
        }
    }

    #[test]
    fn inport_is_msgflo_shaped_with_a_kept_dead_letter_queue() {
        assert_eq!(
            inport(&q("repeater.IN"), QueueType::Classic),
            vec![
                queue("repeater.IN", Some("dead-repeater.IN")),
                Declaration::Exchange("repeater.IN".into()),
                bind_decl("repeater.IN", "repeater.IN"),
                Declaration::Exchange("dead-repeater.IN".into()),
                queue("dead-repeater.IN", None),
                bind_decl("dead-repeater.IN", "dead-repeater.IN"),
            ]
        );
    }

    #[test]
    fn dead_letter_argument_is_a_long_string() {
        let args = inport(&q("a.IN"), QueueType::Classic)[0].arguments();
        let value = args.inner().get(DEAD_LETTER_ARGUMENT);
        assert_eq!(value, Some(&AMQPValue::LongString("dead-a.IN".into())));
        assert_eq!(args.inner().len(), 1);
    }

    #[test]
    fn a_tap_queue_is_bounded_dropping_its_oldest() {
        let args = inport(&q(".tap.0123"), QueueType::Classic)[0].arguments();
        assert_eq!(
            args.inner().get("x-max-length"),
            Some(&AMQPValue::LongLongInt(TAP_MAX_LENGTH))
        );
        assert_eq!(
            args.inner().get("x-overflow"),
            Some(&AMQPValue::LongString("drop-head".into()))
        );
        assert!(inport(&q(".fbp.x.receive"), QueueType::Classic)[0]
            .arguments()
            .inner()
            .is_empty());
    }

    #[test]
    fn declaring_a_dead_letter_queue_does_not_recurse() {
        let decls = inport(&q("dead-a.IN"), QueueType::Classic);
        assert!(decls.iter().all(|d| d.arguments().inner().is_empty()));
        assert!(!format!("{decls:?}").contains("dead-dead-"));
        assert_eq!(decls, dead_letter_inport("dead-a.IN", false));
    }

    #[test]
    fn a_quorum_inport_and_its_dead_letters_are_quorum_queues_nothing_else_is() {
        let quorum = |decls: Vec<Declaration>| -> Vec<bool> {
            decls
                .iter()
                .filter_map(|d| match d {
                    Declaration::Queue { .. } => Some(
                        d.arguments().inner().get(QUEUE_TYPE_ARGUMENT)
                            == Some(&AMQPValue::LongString("quorum".into())),
                    ),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(quorum(inport(&q("a.IN"), QueueType::Quorum)), [true, true]);
        assert_eq!(
            quorum(inport(&q("a.IN"), QueueType::Classic)),
            [false, false]
        );
        for always_classic in ["fbp", ".fbp.x.receive", ".tap.1"] {
            assert_eq!(
                quorum(inport(&q(always_classic), QueueType::Quorum)),
                [false],
                "{always_classic}"
            );
        }
        let args = inport(&q("a.IN"), QueueType::Quorum)[0].arguments();
        assert_eq!(
            args.inner().get(DEAD_LETTER_ARGUMENT),
            Some(&AMQPValue::LongString("dead-a.IN".into()))
        );
    }

    #[test]
    fn discovery_queue_is_plain() {
        assert_eq!(
            inport(&q("fbp"), QueueType::Classic),
            vec![queue("fbp", None)]
        );
        assert_eq!(implicit(&q("fbp")), Some(vec![queue("fbp", None)]));
        assert_eq!(implicit(&q("a.IN")), None);
        assert!(queue("fbp", None).arguments().inner().is_empty());
    }

    #[test]
    fn outport_and_binding() {
        assert_eq!(
            outport(&q("a.OUT")),
            vec![Declaration::Exchange("a.OUT".into())]
        );
        assert_eq!(binding(&q("a.OUT"), &q("b.IN")), bind_decl("b.IN", "a.OUT"));
    }

    #[test]
    fn a_deleted_queue_is_never_declared_again_nor_bound() {
        let mut t = Topology::default();
        let tap = q(".tap.1");
        for step in always(outport(&q("a.OUT")))
            .into_iter()
            .chain(always(inport(&tap, QueueType::Classic)))
        {
            t.record(step);
        }
        t.record(Step::Always(binding(&q("a.OUT"), &tap)));
        t.forget_queue(tap.as_str());
        assert_eq!(
            t.replay(),
            &[Step::Always(Declaration::Exchange("a.OUT".into()))]
        );
        // Also when a bind declared it (it was missing then).
        for step in bind(&q("a.OUT"), &tap, QueueType::Classic) {
            t.record(step);
        }
        t.forget_queue(tap.as_str());
        assert_eq!(
            t.replay(),
            &[
                Step::Always(Declaration::Exchange("a.OUT".into())),
                Step::IfAbsent {
                    absent: Probe::Exchange("a.OUT".into()),
                    declarations: outport(&q("a.OUT")),
                },
            ]
        );
    }

    #[test]
    fn record_keeps_first_order_once_and_forgets_unbound() {
        let mut t = Topology::default();
        for step in always(inport(&q("b.IN"), QueueType::Classic))
            .into_iter()
            .chain(always(outport(&q("a.OUT"))))
        {
            t.record(step);
        }
        let before = t.replay().len();
        let bound = Step::Always(binding(&q("a.OUT"), &q("b.IN")));
        t.record(bound.clone());
        t.record(bound.clone());
        t.record(Step::Always(Declaration::Exchange("a.OUT".into())));
        assert_eq!(t.replay().len(), before + 1);
        assert_eq!(
            t.replay()[0],
            Step::Always(queue("b.IN", Some("dead-b.IN")))
        );
        assert!(t.replay().contains(&bound));

        t.forget(&binding(&q("a.OUT"), &q("b.IN")));
        assert_eq!(t.replay().len(), before);
        assert!(!t.replay().contains(&bound));
        assert!(t
            .replay()
            .contains(&Step::Always(Declaration::Exchange("a.OUT".into()))));
    }

    #[test]
    fn bind_declares_each_end_only_if_missing_then_binds() {
        let steps = bind(&q("py/out"), &q("py/in"), QueueType::Classic);
        assert_eq!(
            steps,
            [
                Step::IfAbsent {
                    absent: Probe::Exchange("py/out".into()),
                    declarations: outport(&q("py/out")),
                },
                Step::IfAbsent {
                    absent: Probe::Queue("py/in".into()),
                    declarations: inport(&q("py/in"), QueueType::Classic),
                },
                Step::Always(bind_decl("py/in", "py/out")),
            ]
        );
    }

    #[test]
    fn forgetting_a_binding_keeps_the_ends_declared_for_it() {
        let mut t = Topology::default();
        for step in bind(&q("a.OUT"), &q("b.IN"), QueueType::Classic) {
            t.record(step);
        }
        t.forget(&binding(&q("a.OUT"), &q("b.IN")));
        assert_eq!(t.replay().len(), 2);
        assert!(t
            .replay()
            .iter()
            .all(|s| matches!(s, Step::IfAbsent { .. })));
    }
}
