//! Graph nodes that no participant serves, and why.
//!
//! - A node the coordinator cannot start a participant for (its component is
//!   not in the library) is a warning at the default log level, and a
//!   `network:output` to FBP clients: nothing happens until a participant of
//!   that role is started elsewhere.
//! - [`Core::pending_nodes`] lists every participant node of the
//!   network graph (the main graph before a start) without a live
//!   participant, with the reason: `msgflo:participants` answers with it and
//!   `msgflo-participants` shows it.

use super::Core;
use crate::routes::is_participant;
use msgflo_protocol::messages::{NetworkOutput, Output, OutputMessage};
use serde::{Deserialize, Serialize};

/// A graph node without a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingNode {
    /// The node, which is the role its participants take.
    pub role: String,
    /// Its component.
    pub component: String,
    /// Why nothing serves it yet.
    pub reason: String,
}

impl Core {
    /// The library has no `component` for the node `role`: warns, in the
    /// log and to FBP clients.
    pub(super) fn unserved(&mut self, role: &str, component: &str) {
        let message = format!(
            "graph node {role} ({component}) waits for a participant of role {role} started \
             elsewhere: {}",
            self.not_in_library(component)
        );
        tracing::warn!(role, component, "{message}");
        let output = Output::Network(NetworkOutput::Output(OutputMessage {
            message,
            kind: None,
            url: None,
        }));
        self.broadcast(&output);
    }

    /// The participant nodes without a live participant, in graph order.
    pub(super) fn pending_nodes(&self) -> Vec<PendingNode> {
        let graph_id = if self.network.started() {
            self.network.graph().to_owned()
        } else {
            self.main_graph_id()
        };
        let Some(graph) = self.graphs.get(&graph_id) else {
            return Vec::new();
        };
        let running = &self.running;
        graph
            .processes
            .iter()
            .filter(|(role, node)| {
                is_participant(&node.component) && self.registry.any_of_role(role).is_none()
            })
            .map(|(role, node)| {
                let component = node.component.clone();
                let reason = if let Some(reason) = self.supervision_reason(role) {
                    reason
                } else if running.contains(role) {
                    "started; waiting for its discovery message".to_owned()
                } else if self.config.ignore.contains(role) {
                    "not started here (--ignore); waiting for a participant started elsewhere"
                        .to_owned()
                } else if self.library.find(&component).is_none() {
                    format!(
                        "waiting for a participant started elsewhere: {}",
                        self.not_in_library(&component)
                    )
                } else {
                    "its participant exited or could not start (see the coordinator's log)"
                        .to_owned()
                };
                PendingNode {
                    role: role.clone(),
                    component,
                    reason,
                }
            })
            .collect()
    }

    /// Why the library cannot start `component`.
    fn not_in_library(&self, component: &str) -> String {
        if self.library.names().is_empty() {
            format!("no library to start {component} from (msgflo --library FILE)")
        } else {
            format!("component {component} is not in the library")
        }
    }
}
