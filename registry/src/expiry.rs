//! Online or offline: a runtime not seen (registered or pinged) for
//! `offline_after` is offline. Pure: the caller gives `now`. Offline
//! runtimes stay listed; nothing is dropped.

use crate::time::Timestamp;
use serde::Serialize;
use std::time::Duration;

/// Flowhub's runtimes ping every 5 minutes: three missed pings.
pub const DEFAULT_OFFLINE_AFTER: Duration = Duration::from_secs(900);

/// A runtime's state as listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Seen less than `offline_after` ago.
    Online,
    /// Not seen for `offline_after` or longer.
    Offline,
}

impl State {
    /// Whether it counts as online.
    pub fn is_online(self) -> bool {
        self == State::Online
    }
}

/// The state at `now` of a runtime last seen at `seen`.
pub fn state(seen: Timestamp, now: Timestamp, offline_after: Duration) -> State {
    if now.since(seen) < offline_after {
        State::Online
    } else {
        State::Offline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AFTER: Duration = Duration::from_secs(900);

    #[test]
    fn online_until_offline_after_has_passed() {
        let seen = Timestamp(1_000_000);
        assert_eq!(state(seen, seen, AFTER), State::Online);
        assert_eq!(state(seen, Timestamp(1_899_999), AFTER), State::Online);
        assert_eq!(state(seen, Timestamp(1_900_000), AFTER), State::Offline);
        assert_eq!(state(seen, Timestamp(99_000_000), AFTER), State::Offline);
    }

    #[test]
    fn seen_in_the_future_is_online() {
        // Another server's clock, or ours stepped back.
        assert_eq!(
            state(Timestamp(2_000), Timestamp(1_000), AFTER),
            State::Online
        );
    }

    #[test]
    fn serialised_as_flowhub_writes_it() {
        assert_eq!(
            serde_json::to_string(&[State::Online, State::Offline]).ok(),
            Some(r#"["online","offline"]"#.into())
        );
    }
}
