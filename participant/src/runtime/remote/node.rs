//! The `core/Remote` node: takes packets for the remote's inports into the
//! shared outbox (as many as there is room for: back-pressure), sends on
//! what came from the remote's outports, and starts the link once it knows
//! the address.

use super::link;
use super::shared::{Settings, Shared};
use super::wire::Outgoing;
use super::SETTINGS;
use crate::runtime::{Attached, Body, Input, Outputs, Process, ProcessError};
use std::sync::Arc;

pub(super) struct RemoteNode {
    shared: Arc<Shared>,
    attached: Option<Attached>,
    /// The inports' names, by position.
    inports: Vec<Arc<str>>,
    started: bool,
}

impl RemoteNode {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            shared: Arc::new(Shared::new(capacity)),
            attached: None,
            inports: Vec::new(),
            started: false,
        }
    }

    /// A setting arrived (an IIP on `address`, `secret` or `graph`).
    fn set(&mut self, port: usize, input: &Input) -> Result<(), ProcessError> {
        let name = SETTINGS[port];
        let value = input
            .packet
            .payload()
            .map(
                |bytes| match serde_json::from_slice::<serde_json::Value>(bytes) {
                    Ok(serde_json::Value::String(text)) => Some(text),
                    Ok(serde_json::Value::Null) => None,
                    _ => Some(String::from_utf8_lossy(bytes).into_owned()),
                },
            )
            .ok_or_else(|| ProcessError::from(format!("{name}: a bracket is not a setting")))?;
        let settings = {
            let mut queues = self.shared.lock();
            let settings = &mut queues.settings;
            match port {
                0 => settings.address = value,
                1 => settings.secret = value,
                _ => settings.graph = value,
            }
            settings.clone()
        };
        if port == 0 {
            self.start(&settings)?;
        }
        // A running link reads its settings when it (re)connects.
        self.shared.link.notify_one();
        Ok(())
    }

    fn start(&mut self, settings: &Settings) -> Result<(), ProcessError> {
        let Some(address) = &settings.address else {
            return Ok(());
        };
        link::check_address(address).map_err(ProcessError::from)?;
        if self.started {
            return Ok(());
        }
        let Some(attached) = self.attached.clone() else {
            return Err(ProcessError::from("core/Remote runs only inside a network"));
        };
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| ProcessError::from("core/Remote needs a tokio runtime"))?;
        runtime.spawn(link::run(self.shared.clone(), attached));
        self.started = true;
        Ok(())
    }
}

impl Process for RemoteNode {
    fn process(&mut self, input: Input, _out: &mut Outputs) -> Result<(), ProcessError> {
        if input.port < SETTINGS.len() {
            return self.set(input.port, &input);
        }
        let port = self
            .inports
            .get(input.port)
            .cloned()
            .ok_or_else(|| ProcessError::from(format!("no inport #{}", input.port)))?;
        let outgoing = Outgoing::new(port, input.packet).map_err(ProcessError::from)?;
        self.shared.lock().outbox.push_back(outgoing);
        self.shared.link.notify_one();
        Ok(())
    }

    fn accepts(&self) -> usize {
        self.shared
            .capacity
            .saturating_sub(self.shared.lock().outgoing())
    }

    fn attach(&mut self, node: Attached) {
        self.inports = node
            .inports
            .iter()
            .map(|p| Arc::from(p.id.as_str()))
            .collect();
        node.statuses.set(&node.node, "waiting for its address");
        self.attached = Some(node);
    }

    fn ready(&self) -> bool {
        !self.shared.lock().inbox.is_empty()
    }

    fn poll(&mut self, budget: usize, out: &mut Outputs) -> usize {
        let mut queues = self.shared.lock();
        let was_full = queues.inbox.len() >= self.shared.capacity;
        let mut n = budget.min(queues.inbox.len());
        // Never part a data packet from the closes after it (an outport
        // frames them onto it only if they come in the same step).
        while queues
            .inbox
            .get(n)
            .is_some_and(|(_, p)| matches!(p.body, Body::Close(_)))
        {
            n += 1;
        }
        for (port, packet) in queues.inbox.drain(..n) {
            out.send(port, packet);
        }
        drop(queues);
        if was_full && n > 0 {
            self.shared.link.notify_one();
        }
        n
    }

    fn busy(&self) -> bool {
        self.shared.lock().outgoing() > 0
    }
}

impl Drop for RemoteNode {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.link.notify_one();
        if let Some(attached) = &self.attached {
            attached.statuses.remove(&attached.node);
        }
    }
}
