//! [`Brokers`]: one broker URL, or several separated by commas — the nodes of
//! one RabbitMQ cluster, or MQTT brokers that stand in for each other — to
//! fail over between.
//!
//! `amqp://guest:guest@node1:5672/app,amqp://guest:guest@node2:5672/app`: the
//! first is where a transport connects first and the name it goes by
//! ([`Transport::broker`](super::Transport::broker)); when a connection is lost
//! the transport tries the next node at once, each in turn, and pauses with
//! back-off only after every node failed once. All URLs must be of one kind
//! (AMQP or MQTT, TLS or not per URL) and, for AMQP, name one virtual host:
//! failing over to another vhost would be another system. A comma in a
//! password is written `%2C`.

use super::url::redact;
use super::{BrokerUrl, Scheme, TransportError};

/// The broker URLs a transport may connect to, in the order to try them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brokers {
    urls: Vec<BrokerUrl>,
}

impl Brokers {
    /// Parses one URL or a comma-separated list; the error names the URL at
    /// fault (password hidden) and what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        let urls = text
            .split(',')
            .map(|one| match one.trim() {
                "" => Err(TransportError::BadUrl {
                    url: redact(text.trim()),
                    reason: "an empty URL in the list (two commas, or one at an end)".into(),
                }),
                one => BrokerUrl::parse(one),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let first = &urls[0];
        for other in &urls[1..] {
            let bad = |reason: String| TransportError::BadUrl {
                url: other.to_string(),
                reason,
            };
            if family(first.scheme) != family(other.scheme) {
                return Err(bad(format!(
                    "a list of brokers is of one kind, and {first} is {}",
                    family(first.scheme)
                )));
            }
            if first.scheme == Scheme::Memory {
                return Err(bad("memory:// takes one broker, not a list".into()));
            }
            if family(first.scheme) == "AMQP" && other.vhost != first.vhost {
                return Err(bad(format!(
                    "names vhost {:?}, the first broker {:?}: nodes of one cluster share a vhost",
                    other.vhost, first.vhost
                )));
            }
        }
        Ok(Self { urls })
    }

    /// The first URL: where a transport connects first, and its name.
    pub fn primary(&self) -> &BrokerUrl {
        &self.urls[0]
    }

    /// Every URL, in the order to try them.
    pub fn urls(&self) -> &[BrokerUrl] {
        &self.urls
    }
}

impl From<BrokerUrl> for Brokers {
    fn from(url: BrokerUrl) -> Self {
        Self { urls: vec![url] }
    }
}

impl std::fmt::Display for Brokers {
    /// The URLs without passwords, comma-separated.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, url) in self.urls.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{url}")?;
        }
        Ok(())
    }
}

/// The error when no broker of a list took the first connection, from each
/// broker (password hidden) and why: as for one broker when there was one.
pub(crate) fn unreachable(failures: Vec<(String, String)>) -> TransportError {
    if let [(broker, reason)] = failures.as_slice() {
        return TransportError::Connect {
            broker: broker.clone(),
            reason: reason.clone(),
        };
    }
    let names: Vec<&str> = failures.iter().map(|(broker, _)| broker.as_str()).collect();
    let each: Vec<String> = failures
        .iter()
        .map(|(broker, reason)| format!("{broker}: {reason}"))
        .collect();
    TransportError::Connect {
        broker: format!("any of {}", names.join(", ")),
        reason: each.join("; "),
    }
}

fn family(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Amqp | Scheme::Amqps => "AMQP",
        Scheme::Mqtt | Scheme::Mqtts => "MQTT",
        Scheme::Memory => "in memory",
    }
}

/// Which of `count` brokers the `attempt`th reconnection attempt (1, 2, ...)
/// after losing broker `lost` tries: the next one first, each in turn.
pub(crate) fn nth_after(lost: usize, attempt: u32, count: usize) -> usize {
    let step = usize::try_from(attempt).unwrap_or(usize::MAX) % count;
    (lost + step) % count
}

/// Whether the `attempt`th attempt ended a round in which every one of
/// `count` brokers was tried once: the moment to pause with back-off.
pub(crate) fn round_done(attempt: u32, count: usize) -> bool {
    usize::try_from(attempt).map_or(true, |a| a % count == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_is_a_list_of_one() {
        let brokers = Brokers::parse("amqp://guest:guest@127.0.0.1:5672/%2f").unwrap();
        assert_eq!(brokers.urls().len(), 1);
        assert_eq!(brokers.primary().port, 5672);
        assert_eq!(brokers.to_string(), "amqp://guest@127.0.0.1:5672");
    }

    #[test]
    fn a_list_keeps_its_order_and_hides_passwords() {
        let brokers = Brokers::parse(
            "amqp://u:secret@a:5671/app, amqps://u:secret@b:5672/app,amqp://u:s%2Cx@c/app",
        )
        .unwrap();
        let hosts: Vec<&str> = brokers.urls().iter().map(|u| u.host.as_str()).collect();
        assert_eq!(hosts, ["a", "b", "c"]);
        assert_eq!(brokers.urls()[2].password.as_deref(), Some("s,x"));
        assert_eq!(
            brokers.to_string(),
            "amqp://u@a:5671/app,amqps://u@b:5672/app,amqp://u@c:5672/app"
        );
    }

    #[test]
    fn bad_lists_say_which_url_and_why() {
        let cases = [
            ("amqp://a,,amqp://b", "an empty URL in the list"),
            ("amqp://a,", "an empty URL in the list"),
            ("amqp://a,mqtt://b", "a list of brokers is of one kind"),
            ("memory://x,memory://y", "memory:// takes one broker"),
            (
                "amqp://a/one,amqp://b/two",
                "nodes of one cluster share a vhost",
            ),
            ("amqp://a,ftp://b", "unknown scheme"),
        ];
        for (text, expected) in cases {
            let error = Brokers::parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
        let error = Brokers::parse("amqp://u:secret@a,mqtt://u:secret@b")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("bad broker URL mqtt://u@b:1883: "),
            "{error}"
        );
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn failover_tries_the_next_broker_first_and_pauses_after_a_round() {
        let order: Vec<usize> = (1..=6).map(|attempt| nth_after(1, attempt, 3)).collect();
        assert_eq!(order, [2, 0, 1, 2, 0, 1]);
        let pauses: Vec<bool> = (1..=6).map(|attempt| round_done(attempt, 3)).collect();
        assert_eq!(pauses, [false, false, true, false, false, true]);
        // One broker: always it, a pause after every attempt.
        assert_eq!(nth_after(0, 1, 1), 0);
        assert!(round_done(1, 1));
    }
}
