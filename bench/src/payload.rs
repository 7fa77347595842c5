//! Benchmark messages: JSON of a chosen size that carries its sequence number
//! and the time it was (meant to be) sent, so the sink can measure latency
//! through any number of `core/Repeat` hops, which pass payloads on unchanged.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The smallest payload [`make`] builds (the fields without padding).
pub const MIN_SIZE: usize = 56;

/// The process's time origin: timestamps are nanoseconds since this (the
/// first call; [`start_clock`] makes that early).
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Sets the time origin now, before any message is stamped.
pub fn start_clock() {
    epoch();
}

/// Nanoseconds from the epoch to `at`.
pub fn stamp(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX)
}

/// `{"seq":N,"sent_ns":T,"pad":"xx…"}`, `size` bytes long (at least
/// [`MIN_SIZE`]).
pub fn make(seq: u64, sent: Instant, size: usize) -> Vec<u8> {
    let head = format!(
        "{{\"seq\":{seq:>12},\"sent_ns\":{:>16},\"pad\":\"",
        stamp(sent)
    );
    let mut out = Vec::with_capacity(size.max(MIN_SIZE));
    out.extend_from_slice(head.as_bytes());
    let pad = size.max(MIN_SIZE).saturating_sub(head.len() + 2);
    out.resize(out.len() + pad, b'x');
    out.extend_from_slice(b"\"}");
    out
}

/// How long ago the message was sent, read from its `sent_ns`; `None` if the
/// payload is not one of [`make`]'s.
pub fn age(payload: &[u8], now: Instant) -> Option<Duration> {
    const KEY: &[u8] = b"\"sent_ns\":";
    let start = payload.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits = payload[start..]
        .iter()
        .skip_while(|b| **b == b' ')
        .take_while(|b| b.is_ascii_digit());
    let mut sent = 0u64;
    for digit in digits {
        sent = sent.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
    }
    Some(Duration::from_nanos(stamp(now).saturating_sub(sent)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_size_asked_and_are_json() {
        for size in [0, MIN_SIZE, 100, 1024] {
            let p = make(7, Instant::now(), size);
            assert_eq!(
                p.len(),
                size.max(MIN_SIZE),
                "{}",
                String::from_utf8_lossy(&p)
            );
            let v: serde_json::Value = serde_json::from_slice(&p).unwrap();
            assert_eq!(v["seq"], 7);
        }
    }

    #[test]
    fn age_reads_the_send_time_back() {
        start_clock();
        let sent = Instant::now();
        let p = make(1, sent, 64);
        let later = sent + Duration::from_millis(3);
        let age = age(&p, later).unwrap();
        assert!(
            age >= Duration::from_millis(3) && age < Duration::from_millis(4),
            "{age:?}"
        );
        assert!(super::age(b"{\"other\":1}", later).is_none());
    }
}
