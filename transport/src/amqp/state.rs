//! [`State`]: the connection as publishers and consumers see it (a `watch`
//! the driver writes), and [`live_session`], waiting for it to be up.

use super::super::{Result, TransportError};
use super::connection::Session;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::Instant;

/// The connection as publishers and consumers see it.
pub(super) enum State {
    /// Down; the driver is reconnecting.
    Connecting,
    /// Up, with the topology declared.
    Up(Arc<Session>),
    /// Closed for good.
    Closed,
}

/// Why no live session could be had.
pub(super) enum Unavailable {
    /// Still down at the deadline.
    TimedOut,
    /// The transport was closed.
    Closed,
}

impl Unavailable {
    /// The error to report; `gave_up` builds the timeout one.
    pub(super) fn into_error(self, gave_up: impl FnOnce() -> TransportError) -> TransportError {
        match self {
            Unavailable::TimedOut => gave_up(),
            Unavailable::Closed => TransportError::Closed,
        }
    }
}

/// Waits (until `deadline`, if any) for a session whose connection is up.
pub(super) async fn live_session(
    state: &mut watch::Receiver<State>,
    deadline: Option<Instant>,
) -> Result<Arc<Session>, Unavailable> {
    // Up: no await at all, so no yield forced by tokio's budget either
    // (concurrent publishes then reach lapin in the order they started).
    if let State::Up(session) = &*state.borrow() {
        if session.alive() {
            return Ok(session.clone());
        }
    }
    let wait = async {
        let current = state
            .wait_for(|s| match s {
                State::Up(session) => session.alive(),
                State::Closed => true,
                State::Connecting => false,
            })
            .await;
        match current.as_deref() {
            Ok(State::Up(session)) => Ok(session.clone()),
            _ => Err(Unavailable::Closed),
        }
    };
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, wait)
            .await
            .unwrap_or(Err(Unavailable::TimedOut)),
        None => wait.await,
    }
}

/// Completes once `session` is no longer the live one: the driver noticed
/// its connection was lost (or the transport closed). What waits on that
/// connection (a confirm, say) may never resolve by itself: lapin can leave
/// such a future pending when the connection's IO loop is gone.
pub(super) async fn replaced(state: &mut watch::Receiver<State>, session: &Arc<Session>) {
    let _ = state.wait_for(|s| !is_live(s, session)).await;
}

/// Whether `session` is the live one in `state`.
pub(super) fn is_live(state: &State, session: &Arc<Session>) -> bool {
    matches!(state, State::Up(current) if Arc::ptr_eq(current, session))
}

/// Milliseconds since `started`, for errors.
pub(super) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
