//! What a graph change asks of the coordinator besides editing the graph:
//! a participant process started for an added node, stopped for a removed
//! one (and no longer supervised: never started again), the main graph
//! written back (`--auto-save`). The links follow from
//! the desired state (`desired.rs`) after every event.

use super::{Action, Core};
use crate::routes;
use msgflo_protocol::messages::GraphChange;
use std::time::Instant;

/// What a graph change asks for besides editing the graph.
pub(super) enum Effect {
    None,
    /// A node was added: start its participant from the library.
    Spawn {
        role: String,
        component: String,
    },
    /// A node was removed: stop the participant started for it.
    Stop {
        role: String,
    },
}

/// The effect of `change`.
pub(super) fn effects(change: &GraphChange) -> Effect {
    match change {
        GraphChange::AddNode(node) => Effect::Spawn {
            role: node.id.clone(),
            component: node.component.clone(),
        },
        GraphChange::RemoveNode(node) => Effect::Stop {
            role: node.id.clone(),
        },
        _ => Effect::None,
    }
}

impl Core {
    pub(super) fn after_graph_change(&mut self, effect: Effect, now: Instant) {
        match effect {
            Effect::None => {}
            Effect::Spawn { role, component } => self.spawn(&role, &component, now),
            Effect::Stop { role } => {
                if self.running.remove(&role) {
                    self.out.push(Action::Stop { role: role.clone() });
                }
                self.spawned.remove(&role);
                self.supervisor.forget(&role);
            }
        }
        self.save();
    }

    /// Starts `component` for `role` from the library, unless the role is
    /// ignored, this coordinator already runs one, or the library has no
    /// such component (then the node waits for a participant started
    /// elsewhere). Participants of the role started elsewhere do not stop
    /// it: a role may have several, and an old discovery message waiting on
    /// `fbp` says nothing about whether its sender still runs.
    pub(super) fn spawn(&mut self, role: &str, component: &str, now: Instant) {
        if !routes::is_participant(component)
            || self.config.ignore.iter().any(|r| r == role)
            || self.running.contains(role)
        {
            return;
        }
        let iips = serde_json::Map::new();
        let Some(command) = self.library.command(component, role, &iips) else {
            self.unserved(role, component);
            return;
        };
        self.spawned.insert(role.to_owned());
        self.running.insert(role.to_owned());
        self.supervisor.started(role, &command, now);
        self.out.push(Action::Spawn {
            role: role.to_owned(),
            command,
        });
    }

    /// Writes the main graph back (`--auto-save`), atomically.
    pub(super) fn save(&mut self) {
        let Some(path) = self.config.auto_save.clone() else {
            return;
        };
        let Some(graph) = self.graphs.get(&self.main_graph_id()) else {
            return;
        };
        self.out.push(Action::Save {
            path,
            graph: Box::new(graph.clone()),
        });
    }

    /// At start-up with a graph (`--graph`): start the library participants
    /// of its nodes, then the network.
    pub(super) fn start_main(&mut self, now: Instant) {
        let Some(graph) = self.graphs.get(&self.config.graph_id) else {
            return;
        };
        let nodes: Vec<(String, String)> = graph
            .processes
            .iter()
            .map(|(role, p)| (role.clone(), p.component.clone()))
            .collect();
        for (role, component) in nodes {
            self.spawn(&role, &component, now);
        }
        let id = self.config.graph_id.clone();
        let _ = self.start_network(&id, now);
    }
}
