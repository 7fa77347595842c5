//! [`Backoff`]: pauses between reconnection (and re-subscription) attempts of
//! the AMQP and MQTT drivers and of a bridge's link (`core/Remote`),
//! doubling from 100 ms up to a ceiling, forever.

use std::time::Duration;

/// The first pause.
pub const INITIAL: Duration = Duration::from_millis(100);

/// Exponential back-off without an end.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Starts at 100 ms (or `max`, if that is shorter).
    pub fn new(max: Duration) -> Self {
        Self {
            next: INITIAL.min(max),
            max,
        }
    }

    /// The pause before the next attempt; each call doubles the following one,
    /// up to the ceiling.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// An attempt succeeded: the next failure starts over at 100 ms.
    pub fn reset(&mut self) {
        self.next = INITIAL.min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_up_to_the_ceiling_and_stays_there() {
        let mut b = Backoff::new(ms(1000));
        let delays: Vec<_> = (0..7).map(|_| b.next_delay()).collect();
        assert_eq!(
            delays,
            [
                ms(100),
                ms(200),
                ms(400),
                ms(800),
                ms(1000),
                ms(1000),
                ms(1000)
            ]
        );
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(ms(5000));
        b.next_delay();
        b.next_delay();
        b.reset();
        assert_eq!(b.next_delay(), ms(100));
    }

    #[test]
    fn a_ceiling_below_the_start_wins() {
        let mut b = Backoff::new(ms(30));
        assert_eq!(b.next_delay(), ms(30));
        assert_eq!(b.next_delay(), ms(30));
    }
}
