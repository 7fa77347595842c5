//! The core's error types: [`OpError`], why an operation the executor
//! performed for the core failed.

use crate::links::LinkError;
use msgflo_transport::TransportError;
use std::time::Duration;

/// Why an operation failed: a link, unlink, tap or untap the executor
/// ([`crate::live`]) performed for an [`super::Action`], reported back in
/// [`super::Event::Done`]. The core logs it and tries again later.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Making or undoing a link failed ([`crate::links`]).
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The broker refused a tap, its ending or a forward, or could not be
    /// reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The operation took longer than it may (the executor's deadline).
    #[error("no answer within {within:?}")]
    NoAnswer {
        /// How long it was given.
        within: Duration,
    },
}
