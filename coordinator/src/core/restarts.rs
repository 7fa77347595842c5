//! A participant process started here exited: started again after a
//! back-off, or given up on ([`super::supervise`] decides which).
//!
//! - Each exit on its own is a warning in the log (role, exit status, the
//!   next delay) and a `network:output` to FBP clients; each restart is a
//!   warning too, with its number (both show at the default level).
//! - A role given up on is an error in the log and a `network:processerror`
//!   (the node's id, why) to FBP clients; `msgflo:participants` names it
//!   among the pending nodes ([`Core::supervision_reason`]).
//! - The exit of a participant the coordinator was stopping says nothing.
//! - `msgflo:participants` lists each role started again or given up on,
//!   with its restarts and state ([`Restarted`]); `msgflo-participants`
//!   shows them after its table.

use super::supervise::{State, Verdict, FAIL_WINDOW};
use super::{Action, Core};
use msgflo_protocol::messages::{NetworkOutput, Output, OutputMessage, ProcessError};
use serde::{Deserialize, Serialize};
use std::process::ExitStatus;
use std::time::Instant;

/// A role whose participant the coordinator started again, or gave up on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restarted {
    /// The node, which is the role.
    pub role: String,
    /// How often its participant was started again.
    pub restarts: u32,
    /// `running`, `waiting` (to be started again) or `failed` (given up on).
    pub state: String,
}

impl Core {
    /// The participant started for `role` exited (`status`; `None`: it could
    /// not be started); `stopped`: because the coordinator stopped it.
    pub(super) fn child_exited(
        &mut self,
        role: &str,
        status: Option<ExitStatus>,
        stopped: bool,
        now: Instant,
    ) {
        if stopped || !self.running.remove(role) {
            return;
        }
        let status = status.map_or_else(|| "could not be started".to_owned(), |s| s.to_string());
        match self.supervisor.exited(role, now) {
            Verdict::Restart { delay, restart, .. } => {
                tracing::warn!(
                    role,
                    %status,
                    next_delay = ?delay,
                    restart,
                    "participant exited; starting it again after {delay:?}"
                );
                let message =
                    format!("participant {role} exited ({status}); starting it again in {delay:?}");
                self.broadcast(&Output::Network(NetworkOutput::Output(OutputMessage {
                    message,
                    kind: None,
                    url: None,
                })));
            }
            Verdict::Failed { exits } => {
                let error = format!(
                    "participant {role} exited {exits} times within {FAIL_WINDOW:?} \
                     (last: {status}); not started again"
                );
                tracing::error!(role, %status, exits, "{error}");
                let graph = self.network_or_main_graph();
                self.broadcast(&Output::Network(NetworkOutput::ProcessError(
                    ProcessError {
                        id: role.to_owned(),
                        error,
                        graph,
                    },
                )));
            }
            Verdict::Unknown => {}
        }
    }

    /// Starts again the participants whose back-off is over.
    pub(super) fn restarts_due(&mut self, now: Instant) {
        for (role, command, restart) in self.supervisor.due(now) {
            if !self.spawned.contains(&role) || self.running.contains(&role) {
                continue;
            }
            tracing::warn!(role, restart, "starting the participant again");
            self.running.insert(role.clone());
            self.out.push(Action::Spawn { role, command });
        }
    }

    /// Why a supervised role has no participant, if supervision is why.
    pub(super) fn supervision_reason(&self, role: &str) -> Option<String> {
        let status = self.supervisor.status(role)?;
        match status.state {
            State::Running => None,
            State::Waiting(_) => Some(format!(
                "its participant exited; starting it again (restart {})",
                status.restarts + 1
            )),
            State::Failed => Some(format!(
                "its participant failed: it exited too often ({} restarts); not started \
                 again (see the coordinator's log)",
                status.restarts
            )),
        }
    }

    /// The roles started again or given up on, by role.
    pub(super) fn restarted(&self) -> Vec<Restarted> {
        self.supervisor
            .troubled()
            .map(|(role, status)| Restarted {
                role: role.to_owned(),
                restarts: status.restarts,
                state: match status.state {
                    State::Running => "running",
                    State::Waiting(_) => "waiting",
                    State::Failed => "failed",
                }
                .to_owned(),
            })
            .collect()
    }

    /// The graph the network runs, else the main graph.
    fn network_or_main_graph(&self) -> String {
        if self.network.started() {
            self.network.graph().to_owned()
        } else {
            self.main_graph_id()
        }
    }
}
