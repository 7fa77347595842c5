//! Which topics an inport subscribes to, and which inport an incoming message
//! goes to. Pure: the driver asks, then does the subscribing.
//!
//! A consumed inport `q` subscribes `$share/<q>/<q>` (its own topic) and
//! `$share/<q>%7C<o>/<o>` for every outport `o` bound to it. The share group
//! names the inport, so several processes consuming one inport share its
//! messages, while each bound inport gets its own copy of an outport's
//! messages. A bound outport's group names the outport too: MQTT 5 tells
//! shared subscriptions apart by group *and* filter, but some brokers
//! (rumqttd 0.20, the coordinator's embedded broker) by group alone, and mix
//! up the topics of one group.
//!
//! A binding may be transient (`Transport::set_binding_delivery`): its
//! filter is subscribed QoS 0, so the broker sends its messages without
//! waiting for acks and keeps none while this process is away.
//!
//! MQTT publishes carry the topic, not the subscription that matched. When
//! one process consumes several inports that take the same topic, the broker
//! sends one copy per share group and [`Routes::route`] hands the copies to
//! those inports in turn.

use crate::DeliveryMode;
use msgflo_protocol::ids::QueueName;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Why `queue` cannot be an MQTT topic, if it cannot.
pub(super) fn topic_problem(queue: &QueueName) -> Option<&'static str> {
    let topic = queue.as_str();
    if topic.contains(['+', '#']) {
        Some("an MQTT topic cannot contain the wildcards + or #")
    } else if topic.starts_with('$') {
        Some("MQTT topics starting with $ belong to the broker")
    } else if topic.len() > usize::from(u16::MAX) {
        Some("an MQTT topic is at most 65535 bytes")
    } else {
        None
    }
}

/// The shared-subscription filter through which `inport` takes `topic`.
pub(super) fn filter(inport: &QueueName, topic: &QueueName) -> String {
    let group = share_group(inport);
    if inport == topic {
        format!("$share/{group}/{topic}")
    } else {
        // `%7C` never comes out of `share_group`, so the pair stays unique.
        format!("$share/{group}%7C{}/{topic}", share_group(topic))
    }
}

/// `name` as (part of) a share group name: `/`, `+` and `#` are not allowed
/// there, so they (and `%`) are percent-encoded; distinct names stay distinct.
fn share_group(name: &QueueName) -> String {
    let mut group = String::with_capacity(name.as_str().len());
    for c in name.as_str().chars() {
        match c {
            '%' => group.push_str("%25"),
            '/' => group.push_str("%2F"),
            '+' => group.push_str("%2B"),
            '#' => group.push_str("%23"),
            c => group.push(c),
        }
    }
    group
}

/// The record of inports and bindings: what to subscribe, also again after a
/// reconnect, and where incoming messages go.
#[derive(Debug, Default)]
pub(super) struct Routes {
    inports: BTreeMap<QueueName, Inport>,
    /// Per topic taken by several inports: whose turn it is.
    turns: HashMap<String, usize>,
    /// Bindings subscribed QoS 0: (inport, outport).
    transient: BTreeSet<(QueueName, QueueName)>,
}

#[derive(Debug, Default)]
struct Inport {
    /// This process consumes it (so it subscribes).
    consumed: bool,
    /// Outports bound to it.
    bound: BTreeSet<QueueName>,
    /// Being given up ([`Routes::retire`]).
    retired: bool,
}

impl Inport {
    /// The topics inport `own` takes: its own, then those of the outports
    /// bound to it.
    fn topics<'a>(&'a self, own: &'a QueueName) -> impl Iterator<Item = &'a QueueName> {
        std::iter::once(own).chain(self.bound.iter().filter(move |o| *o != own))
    }

    fn takes(&self, own: &QueueName, topic: &str) -> bool {
        self.consumed && (own.as_str() == topic || self.bound.iter().any(|o| o.as_str() == topic))
    }
}

impl Routes {
    /// The inport is consumed here from now on; returns the filters to
    /// subscribe (none if it already was).
    pub fn consume(&mut self, inport: &QueueName) -> Vec<String> {
        let entry = self.inports.entry(inport.clone()).or_default();
        if entry.consumed {
            return Vec::new();
        }
        entry.consumed = true;
        self.filters_of(inport)
    }

    /// Records `outport -> inport`; returns the filter to subscribe if the
    /// inport is consumed here and did not take that topic yet.
    pub fn bind(&mut self, outport: &QueueName, inport: &QueueName) -> Option<String> {
        let entry = self.inports.entry(inport.clone()).or_default();
        let new = outport != inport && entry.bound.insert(outport.clone());
        (new && entry.consumed).then(|| filter(inport, outport))
    }

    /// Forgets `outport -> inport`; returns the filter to unsubscribe if it
    /// was subscribed.
    pub fn unbind(&mut self, outport: &QueueName, inport: &QueueName) -> Option<String> {
        let entry = self.inports.get_mut(inport)?;
        let removed = outport != inport && entry.bound.remove(outport);
        let consumed = entry.consumed;
        if !consumed && entry.bound.is_empty() {
            self.inports.remove(inport);
        }
        self.turns.remove(outport.as_str());
        (removed && consumed).then(|| filter(inport, outport))
    }

    /// `outport -> inport` is delivered in `mode` from now on (`set`), or no
    /// longer in `mode` if it was (`!set`: a persistent binding is the
    /// default, so only a transient one is undone). The mode is the pair's,
    /// bound or not (a set may come before its bind, and outlives an
    /// unbind); an inport's own topic is always QoS 1. Returns the filter to
    /// subscribe again, at the binding's QoS, if that changed for a
    /// subscribed binding.
    pub fn set_delivery(
        &mut self,
        outport: &QueueName,
        inport: &QueueName,
        mode: DeliveryMode,
        set: bool,
    ) -> Option<String> {
        if outport == inport {
            // Its own topic is always QoS 1 (IIPs, messages sent to it).
            return None;
        }
        let key = (inport.clone(), outport.clone());
        let changed = match (set, mode) {
            (true, DeliveryMode::Transient) => self.transient.insert(key),
            (true, DeliveryMode::Persistent) | (false, DeliveryMode::Transient) => {
                self.transient.remove(&key)
            }
            (false, DeliveryMode::Persistent) => false,
        };
        let entry = self.inports.get(inport)?;
        let subscribed = entry.consumed && !entry.retired && entry.bound.contains(outport);
        (changed && subscribed).then(|| filter(inport, outport))
    }

    /// `filters` as (QoS 1, QoS 0): the transient bindings' apart.
    pub fn by_qos(&self, filters: Vec<String>) -> (Vec<String>, Vec<String>) {
        let transient: BTreeSet<String> = self
            .transient
            .iter()
            .map(|(inport, outport)| filter(inport, outport))
            .collect();
        filters
            .into_iter()
            .partition(|wanted| !transient.contains(wanted))
    }

    /// The inport is being given up: it is not subscribed again after a
    /// reconnect, but keeps taking its topics (its turn for copies) until
    /// [`Routes::forget`]. Returns the filters to unsubscribe.
    pub fn retire(&mut self, inport: &QueueName) -> Vec<String> {
        let filters = match self.inports.get(inport) {
            Some(entry) if entry.consumed && !entry.retired => self.filters_of(inport),
            _ => Vec::new(),
        };
        if let Some(entry) = self.inports.get_mut(inport) {
            entry.retired = true;
        }
        filters
    }

    /// Forgets the inport and everything bound to it; returns the topics it
    /// took.
    pub fn forget(&mut self, inport: &QueueName) -> Vec<String> {
        self.transient.retain(|(taker, _)| taker != inport);
        let Some(entry) = self.inports.remove(inport) else {
            return Vec::new();
        };
        for outport in &entry.bound {
            self.turns.remove(outport.as_str());
        }
        std::iter::once(inport)
            .chain(&entry.bound)
            .map(|topic| topic.to_string())
            .collect()
    }

    /// Every filter of every consumed inport: what to subscribe again after a
    /// reconnect.
    pub fn filters(&self) -> Vec<String> {
        self.inports
            .iter()
            .filter(|(_, i)| i.consumed && !i.retired)
            .flat_map(|(q, _)| self.filters_of(q))
            .collect()
    }

    /// Each inport consumed here, with the topics it takes (its own first,
    /// then those of the outports bound to it).
    pub fn takers(&self) -> Vec<(QueueName, Vec<QueueName>)> {
        self.inports
            .iter()
            .filter(|(_, i)| i.consumed && !i.retired)
            .map(|(q, i)| (q.clone(), i.topics(q).cloned().collect()))
            .collect()
    }

    /// The inport a message on `topic` goes to, or `None` if no inport
    /// consumed here takes that topic.
    pub fn route(&mut self, topic: &str) -> Option<&QueueName> {
        let mut takers = self.inports.iter().filter(|(q, i)| i.takes(q, topic));
        let first = takers.next()?;
        let more = takers.count();
        if more == 0 {
            return Some(first.0);
        }
        let turn = self.turns.entry(topic.to_owned()).or_default();
        let pick = *turn % (more + 1);
        *turn = turn.wrapping_add(1);
        self.inports
            .iter()
            .filter(|(q, i)| i.takes(q, topic))
            .nth(pick)
            .map(|(q, _)| q)
    }

    fn filters_of(&self, inport: &QueueName) -> Vec<String> {
        let Some(entry) = self.inports.get(inport) else {
            return Vec::new();
        };
        entry
            .topics(inport)
            .map(|topic| filter(inport, topic))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str) -> QueueName {
        QueueName::new(name).unwrap()
    }

    #[test]
    fn consuming_subscribes_the_own_topic_and_bound_outports_once() {
        let mut routes = Routes::default();
        assert_eq!(
            routes.bind(&q("a.OUT"), &q("b.IN")),
            None,
            "not consumed yet"
        );
        assert_eq!(
            routes.consume(&q("b.IN")),
            ["$share/b.IN/b.IN", "$share/b.IN%7Ca.OUT/a.OUT"]
        );
        assert!(routes.consume(&q("b.IN")).is_empty(), "second consumer");
        assert_eq!(
            routes.bind(&q("c.OUT"), &q("b.IN")).as_deref(),
            Some("$share/b.IN%7Cc.OUT/c.OUT")
        );
        assert_eq!(routes.bind(&q("c.OUT"), &q("b.IN")), None, "already bound");
        assert_eq!(
            routes.filters(),
            [
                "$share/b.IN/b.IN",
                "$share/b.IN%7Ca.OUT/a.OUT",
                "$share/b.IN%7Cc.OUT/c.OUT"
            ]
        );
    }

    fn is_transient(routes: &Routes, filter: &str) -> bool {
        let (durable, transient) = routes.by_qos(vec![filter.to_owned()]);
        assert_eq!(durable.len() + transient.len(), 1);
        transient == [filter]
    }

    #[test]
    fn a_transient_binding_is_subscribed_again_at_its_qos_and_unset_only_if_still_transient() {
        use DeliveryMode::{Persistent, Transient};
        let mut routes = Routes::default();
        let (a, b) = (q("a.OUT"), q("b.IN"));
        let edge = "$share/b.IN%7Ca.OUT/a.OUT";
        // Recorded before the binding exists: nothing to subscribe yet.
        assert_eq!(routes.set_delivery(&a, &b, Transient, true), None);
        assert!(is_transient(&routes, edge));
        routes.consume(&b);
        assert_eq!(routes.bind(&a, &b).as_deref(), Some(edge));
        assert!(!is_transient(&routes, "$share/b.IN/b.IN"), "its own topic");
        assert_eq!(routes.set_delivery(&b, &b, Transient, true), None);
        assert!(
            !is_transient(&routes, "$share/b.IN/b.IN"),
            "never transient"
        );
        assert_eq!(
            routes.set_delivery(&a, &b, Transient, true),
            None,
            "no change"
        );
        // An unset of persistent (the default) changes nothing.
        assert_eq!(routes.set_delivery(&a, &b, Persistent, false), None);
        assert!(is_transient(&routes, edge));
        assert_eq!(
            routes.set_delivery(&a, &b, Transient, false).as_deref(),
            Some(edge)
        );
        assert!(!is_transient(&routes, edge));
        assert_eq!(
            routes.set_delivery(&a, &b, Transient, true).as_deref(),
            Some(edge)
        );
        assert_eq!(
            routes.set_delivery(&a, &b, Persistent, true).as_deref(),
            Some(edge)
        );
        assert!(!is_transient(&routes, edge));
        routes.set_delivery(&a, &b, Transient, true);
        routes.forget(&b);
        assert!(!is_transient(&routes, edge), "forgotten with its inport");
    }

    #[test]
    fn unbind_unsubscribes_only_what_was_subscribed() {
        let mut routes = Routes::default();
        routes.bind(&q("a.OUT"), &q("x.IN"));
        assert_eq!(routes.unbind(&q("a.OUT"), &q("x.IN")), None, "not consumed");
        routes.consume(&q("b.IN"));
        routes.bind(&q("a.OUT"), &q("b.IN"));
        assert_eq!(
            routes.unbind(&q("a.OUT"), &q("b.IN")).as_deref(),
            Some("$share/b.IN%7Ca.OUT/a.OUT")
        );
        assert_eq!(routes.unbind(&q("a.OUT"), &q("b.IN")), None, "twice");
        assert_eq!(routes.route("a.OUT"), None);
        assert_eq!(routes.filters(), ["$share/b.IN/b.IN"]);
    }

    #[test]
    fn binding_an_inport_to_itself_never_touches_its_own_subscription() {
        let mut routes = Routes::default();
        routes.consume(&q("b.IN"));
        assert_eq!(routes.bind(&q("b.IN"), &q("b.IN")), None);
        assert_eq!(routes.unbind(&q("b.IN"), &q("b.IN")), None);
        assert_eq!(routes.filters(), ["$share/b.IN/b.IN"]);
    }

    #[test]
    fn messages_go_only_to_inports_that_take_their_topic() {
        let mut routes = Routes::default();
        routes.consume(&q("b.IN"));
        routes.bind(&q("a.OUT"), &q("b.IN"));
        routes.bind(&q("z.OUT"), &q("y.IN")); // y.IN is consumed elsewhere
        assert_eq!(routes.route("b.IN"), Some(&q("b.IN")));
        assert_eq!(routes.route("a.OUT"), Some(&q("b.IN")));
        assert_eq!(routes.route("z.OUT"), None);
        assert_eq!(routes.route("y.IN"), None);
        assert_eq!(routes.route("b"), None);
    }

    #[test]
    fn copies_of_a_topic_taken_by_two_inports_alternate_between_them() {
        let mut routes = Routes::default();
        for inport in ["b.IN", "c.IN"] {
            routes.consume(&q(inport));
            routes.bind(&q("a.OUT"), &q(inport));
        }
        let got: Vec<_> = (0..4)
            .map(|_| routes.route("a.OUT").cloned().unwrap())
            .collect();
        assert_eq!(got, [q("b.IN"), q("c.IN"), q("b.IN"), q("c.IN")]);
    }

    #[test]
    fn share_groups_escape_what_mqtt_forbids_there() {
        assert_eq!(
            filter(&q("role/in"), &q("role/in")),
            "$share/role%2Fin/role/in"
        );
        assert_eq!(filter(&q("a%2Fb"), &q("a%2Fb")), "$share/a%252Fb/a%2Fb");
        assert_ne!(filter(&q("a/b"), &q("t")), filter(&q("a%2Fb"), &q("t")));
        assert_eq!(
            filter(&q("b.IN"), &q("a/OUT")),
            "$share/b.IN%7Ca%2FOUT/a/OUT"
        );
        // Each (inport, topic) pair has a group of its own.
        assert_ne!(filter(&q("x%7Cy"), &q("z")), filter(&q("x"), &q("y%7Cz")));
    }

    #[test]
    fn wildcards_and_dollar_topics_are_refused() {
        assert!(topic_problem(&q("repeater.IN")).is_none());
        assert!(topic_problem(&q("msgflo/python/port")).is_none());
        assert!(topic_problem(&q("a/+/b")).is_some());
        assert!(topic_problem(&q("a/#")).is_some());
        assert!(topic_problem(&q("$SYS/x")).is_some());
    }
}
