//! Points in time as the registry stores them (milliseconds since the Unix
//! epoch, a `BIGINT` in both databases) and shows them (ISO 8601 UTC with
//! milliseconds, `2026-12-07T10:00:00.123Z`, what Flowhub's API answers and
//! JavaScript's `new Date()` reads).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The system clock's now.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// How long after `earlier` this is (zero if it is not after it).
    pub fn since(self, earlier: Timestamp) -> Duration {
        let millis = self.0.saturating_sub(earlier.0).max(0);
        Duration::from_millis(u64::try_from(millis).unwrap_or(0))
    }

    /// `2026-12-07T10:00:00.123Z`. Times before 1970 show as 1970.
    pub fn to_iso8601(self) -> String {
        let millis = u64::try_from(self.0).unwrap_or(0);
        let time = UNIX_EPOCH + Duration::from_millis(millis);
        humantime::format_rfc3339_millis(time).to_string()
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        let millis = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
        };
        Self(millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_iso8601_utc_with_milliseconds() {
        assert_eq!(Timestamp(0).to_iso8601(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_796_637_600_123).to_iso8601(),
            "2026-12-07T10:00:00.123Z"
        );
    }

    #[test]
    fn since_is_never_negative() {
        assert_eq!(
            Timestamp(5_000).since(Timestamp(1_500)),
            Duration::from_millis(3_500)
        );
        assert_eq!(Timestamp(1_000).since(Timestamp(2_000)), Duration::ZERO);
    }

    #[test]
    fn from_system_time_keeps_milliseconds() {
        let time = UNIX_EPOCH + Duration::from_millis(1_234_567);
        assert_eq!(Timestamp::from(time), Timestamp(1_234_567));
    }
}
