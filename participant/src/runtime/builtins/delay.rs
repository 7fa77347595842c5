//! `core/Delay`: forwards each packet on `in` to `out` after a delay (in
//! milliseconds, set on `delay`, default [`DEFAULT_DELAY_MS`]), in order.
//! It never blocks: packets wait in the node with their due time and the
//! scheduler runs [`Process::tick`] when the first is due; while
//! [`MAX_PENDING`] packets wait it takes no more input (back-pressure).

use crate::runtime::component::{ComponentDecl, Input, Process, ProcessError};
use crate::runtime::outputs::Outputs;
use crate::runtime::packet::Packet;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The delay until one arrives on `delay`.
pub const DEFAULT_DELAY_MS: u64 = 500;

/// Most packets one Delay node holds.
pub const MAX_PENDING: usize = 1024;

const IN: usize = 0;
const DELAY: usize = 1;

struct Delay {
    delay: Duration,
    pending: VecDeque<(Instant, Packet)>,
}

impl Process for Delay {
    fn process(&mut self, input: Input, _out: &mut Outputs) -> Result<(), ProcessError> {
        match input.port {
            IN => self
                .pending
                .push_back((Instant::now() + self.delay, input.packet)),
            DELAY => {
                let Some(payload) = input.packet.payload() else {
                    return Ok(());
                };
                let ms: f64 = serde_json::from_slice(payload)
                    .map_err(|e| format!("delay must be a number of milliseconds: {e}"))?;
                if !ms.is_finite() || ms < 0.0 {
                    return Err(format!("delay must be a non-negative number, not {ms}").into());
                }
                self.delay = Duration::from_secs_f64(ms / 1000.0);
            }
            _ => {}
        }
        Ok(())
    }

    fn accepts(&self) -> usize {
        MAX_PENDING.saturating_sub(self.pending.len())
    }

    fn next_tick(&self) -> Option<Instant> {
        self.pending.front().map(|(at, _)| *at)
    }

    fn tick(&mut self, now: Instant, out: &mut Outputs) -> Result<(), ProcessError> {
        while self.pending.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, packet)) = self.pending.pop_front() {
                out.send(0, packet);
            }
        }
        Ok(())
    }
}

/// The `core/Delay` component.
pub fn delay() -> ComponentDecl {
    ComponentDecl::new("core/Delay", || Delay {
        delay: Duration::from_millis(DEFAULT_DELAY_MS),
        pending: VecDeque::new(),
    })
    .description("Forwards each packet after a delay")
    .icon("clock-o")
    .inport("in", "all", "Packet to forward later")
    .inport("delay", "number", "Delay in milliseconds")
    .outport("out", "all", "Packet, once its delay has passed")
}
