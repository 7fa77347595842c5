//! [`Control`]: a handle to a running [`super::Coordinator`] for what
//! reaches it neither from its clients nor from the broker — the tokens
//! file read again on SIGHUP ([`crate::tokens_file`]). What it is given
//! goes to the core as an event, in line with the rest.

use super::Report;
use crate::core::{Event, Tokens};
use tokio::sync::mpsc;

/// A cheap handle to a coordinator; see the module docs.
#[derive(Debug, Clone)]
pub struct Control {
    pub(super) report: mpsc::Sender<Report>,
}

/// The coordinator has stopped: nothing can be handed to it any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the coordinator has stopped")]
pub struct Stopped;

impl Control {
    /// `tokens` replace the tokens in force, for every client from its next
    /// request and for the traffic it gets from now on.
    pub async fn replace_tokens(&self, tokens: Tokens) -> Result<(), Stopped> {
        self.report
            .send(Report::Core(Event::Tokens(tokens)))
            .await
            .map_err(|_| Stopped)
    }
}
