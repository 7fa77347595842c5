//! `msgflo-send-message`'s progress bar (on stderr, when it is a terminal
//! and many messages go out). Its rate and time left are the average since
//! the start, shown once there is a second of it to go by: indicatif's own
//! estimate, taken from the first few confirms, said `9m left` at its first
//! tick.

use indicatif::{HumanDuration, ProgressBar, ProgressState, ProgressStyle};
use std::fmt::Write;
use std::io::IsTerminal;
use std::time::Duration;

/// From how many messages on a progress bar is shown.
const FROM: u64 = 1000;
/// How much sending the rate and time left wait for.
const SETTLED: Duration = Duration::from_secs(1);

/// A progress bar for `total` confirms, if stderr is a terminal and `total`
/// is large.
pub fn bar(total: u64) -> Option<ProgressBar> {
    if total < FROM || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    let template = "{bar:40} {pos}/{len} confirmed, {rate}, {left}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.with_key("rate", rate_key).with_key("left", left_key));
    }
    Some(bar)
}

fn rate_key(state: &ProgressState, out: &mut dyn Write) {
    let _ = match rate(state.pos(), state.elapsed()) {
        Some(per_s) => write!(out, "{per_s:.0}/s"),
        None => write!(out, "-/s"),
    };
}

fn left_key(state: &ProgressState, out: &mut dyn Write) {
    let total = state.len().unwrap_or(0);
    let _ = match left(state.pos(), total, state.elapsed()) {
        Some(left) => write!(out, "{} left", HumanDuration(left)),
        None => write!(out, "estimating time left"),
    };
}

/// Messages per second so far, once a second has passed and some were
/// confirmed.
pub fn rate(done: u64, elapsed: Duration) -> Option<f64> {
    (elapsed >= SETTLED && done > 0).then(|| done as f64 / elapsed.as_secs_f64())
}

/// The time left at the average rate so far.
pub fn left(done: u64, total: u64, elapsed: Duration) -> Option<Duration> {
    let per_s = rate(done, elapsed)?;
    Duration::try_from_secs_f64(total.saturating_sub(done) as f64 / per_s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_estimate_before_a_second_of_sending() {
        assert_eq!(left(3, 10_000, Duration::from_millis(20)), None);
        assert_eq!(left(0, 10_000, Duration::from_secs(5)), None);
        assert_eq!(rate(3, Duration::from_millis(999)), None);
    }

    #[test]
    fn the_estimate_is_the_average_rate_so_far() {
        assert_eq!(rate(2_000, Duration::from_secs(2)), Some(1_000.0));
        assert_eq!(
            left(2_000, 10_000, Duration::from_secs(2)),
            Some(Duration::from_secs(8))
        );
        assert_eq!(
            left(10_000, 10_000, Duration::from_secs(2)),
            Some(Duration::ZERO)
        );
    }
}
