//! Timing the answers to FBP commands (`msgflo_fbp_reply_seconds`): from
//! the moment the server read a client's frame to the moment the loop
//! queued the core's answer to it on that client's connection, per
//! sub-protocol. Answers the core gives later, on another event (after a
//! broker operation or a participant's answer), are not timed.

use crate::core::extension;
use crate::core::Action;
use crate::latency::Histogram;
use crate::server::ClientId;
use msgflo_protocol::messages::Protocol;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The label of a frame that names no sub-protocol this runtime knows (or
/// is no JSON object): what a client writes never becomes a label.
pub(super) const OTHER: &str = "other";

/// The sub-protocol `text` names, as a label: one of FBP's five, the
/// `msgflo` extension's, or [`OTHER`]. Reads the `protocol` field alone.
pub(super) fn protocol(text: &str) -> &'static str {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(borrow, default)]
        protocol: Option<Cow<'a, str>>,
    }
    let Ok(Head {
        protocol: Some(name),
    }) = serde_json::from_str::<Head>(text)
    else {
        return OTHER;
    };
    match Protocol::from_name(&name) {
        Some(protocol) => protocol.as_str(),
        None if name == extension::PROTOCOL => extension::PROTOCOL,
        None => OTHER,
    }
}

/// A client's command, on its way through the loop.
#[derive(Debug, Clone, Copy)]
pub(super) struct Asked {
    client: ClientId,
    protocol: &'static str,
    arrived: Instant,
}

impl Asked {
    /// The frame `text` of `client`, read by the server at `arrived`.
    pub(super) fn new(client: ClientId, text: &str, arrived: Instant) -> Self {
        Self {
            client,
            protocol: protocol(text),
            arrived,
        }
    }

    /// Whether `actions` answer it (at least one answer to its client).
    pub(super) fn answered_by(&self, actions: &[Action]) -> bool {
        actions
            .iter()
            .any(|a| matches!(a, Action::Answer { client, .. } if *client == self.client))
    }
}

/// The answer times so far, per sub-protocol.
#[derive(Debug)]
pub(super) struct Replies(BTreeMap<&'static str, Histogram>);

impl Default for Replies {
    /// Every label there from the start, so each series exists (at 0)
    /// before the first command of its kind.
    fn default() -> Self {
        let labels = Protocol::ALL
            .into_iter()
            .map(Protocol::as_str)
            .chain([extension::PROTOCOL, OTHER]);
        Self(labels.map(|l| (l, Histogram::default())).collect())
    }
}

impl Replies {
    /// `asked` was answered now.
    pub(super) fn answered(&mut self, asked: Asked) {
        self.observe(asked.protocol, asked.arrived.elapsed());
    }

    fn observe(&mut self, protocol: &'static str, took: Duration) {
        self.0.entry(protocol).or_default().observe(took);
    }

    /// The histograms, for a scrape.
    pub(super) fn snapshot(&self) -> BTreeMap<&'static str, Histogram> {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_is_a_known_sub_protocol_or_other() {
        let cases = [
            (
                r#"{"protocol":"graph","command":"addnode","payload":{}}"#,
                "graph",
            ),
            (
                r#"{"command":"getruntime","protocol":"runtime"}"#,
                "runtime",
            ),
            (r#"{"protocol":"msgflo","command":"call"}"#, "msgflo"),
            (
                r#"{"protocol":"net\u0077ork","command":"start"}"#,
                "network",
            ),
            (r#"{"protocol":"anything a client makes up"}"#, OTHER),
            (r#"{"command":"getruntime"}"#, OTHER),
            (r#"{"protocol":7}"#, OTHER),
            ("not json", OTHER),
        ];
        for (text, label) in cases {
            assert_eq!(protocol(text), label, "{text}");
        }
    }

    #[test]
    fn only_an_answer_to_the_asking_client_counts() {
        let asked = Asked::new(3, r#"{"protocol":"graph"}"#, Instant::now());
        let answer = |client| Action::Answer {
            client,
            text: String::new(),
        };
        let tell = Action::Tell {
            client: 3,
            text: String::new(),
        };
        assert!(asked.answered_by(&[tell.clone(), answer(3)]));
        assert!(!asked.answered_by(&[tell, answer(4)]));
        assert!(!asked.answered_by(&[]));
    }

    #[test]
    fn every_label_is_there_from_the_start_and_counts_its_own() {
        let mut replies = Replies::default();
        replies.observe("graph", Duration::from_millis(2));
        replies.answered(Asked::new(1, r#"{"protocol":"graph"}"#, Instant::now()));
        let snapshot = replies.snapshot();
        let labels: Vec<&str> = snapshot.keys().copied().collect();
        assert_eq!(
            labels,
            [
                "component",
                "graph",
                "msgflo",
                "network",
                "other",
                "runtime",
                "trace"
            ]
        );
        assert_eq!(snapshot["graph"].count(), 2);
        assert_eq!(snapshot["runtime"].count(), 0);
    }
}
