//! Components: what a participant does. A [`Component`] has a name, a label
//! and an icon, declares its inports and outports, and has a process function
//! that gets each input message and may send to outports.
//!
//! ```
//! use msgflo_participant::component::Component;
//!
//! let repeat = Component::new("Repeat")
//!     .label("Repeats in data without changes")
//!     .icon("file-word-o")
//!     .inport("in", "any", "data to repeat")
//!     .outport("out", "any", "the same data")
//!     .process(|input, out| async move { out.send("out", input.payload).await });
//! assert_eq!(repeat.spec().inports[0].id.as_str(), "in");
//! ```
//!
//! Returning `Ok(())` acks the input once everything sent was confirmed by the
//! broker; returning an error nacks it (it is dead-lettered) and logs the error.

pub use crate::errors::ProcessError;
use crate::outputs::Outputs;
use bytes::Bytes;
use msgflo_protocol::ids::PortName;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The future a process function returns.
pub type ProcessFuture = Pin<Box<dyn Future<Output = Result<(), ProcessError>> + Send>>;

type ProcessFn = dyn Fn(Message, Outputs) -> ProcessFuture + Send + Sync;

/// One input message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The inport it arrived on.
    pub port: PortName,
    /// The payload, byte for byte (JSON text for msgflo participants).
    pub payload: Bytes,
}

impl Message {
    /// The payload parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.payload)
    }
}

/// A port declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// Port name, lower-case by convention (`in`).
    pub id: PortName,
    /// Data type (`any`, `string`, `object`, ...).
    pub datatype: String,
    /// What the port is for.
    pub description: Option<String>,
}

/// What a component says about itself (used for discovery).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ComponentSpec {
    /// Component name, e.g. `core/Repeat`.
    pub name: String,
    /// One-line description.
    pub label: String,
    /// Font Awesome icon name.
    pub icon: String,
    /// Input ports.
    pub inports: Vec<PortSpec>,
    /// Output ports.
    pub outports: Vec<PortSpec>,
}

/// A component: its description and its process function.
#[derive(Clone)]
pub struct Component {
    spec: ComponentSpec,
    invalid: Vec<String>,
    process: Arc<ProcessFn>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// Builds a port; an invalid name is kept in `invalid` and reported by
/// [`Component::check`] instead of panicking in a builder.
fn port(
    id: &str,
    datatype: &str,
    description: &str,
    invalid: &mut Vec<String>,
) -> Option<PortSpec> {
    match PortName::new(id) {
        Ok(id) => Some(PortSpec {
            id,
            datatype: datatype.to_owned(),
            description: (!description.is_empty()).then(|| description.to_owned()),
        }),
        Err(e) => {
            invalid.push(e.to_string());
            None
        }
    }
}

impl Component {
    /// A component called `name` with no ports that acks every message.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            spec: ComponentSpec {
                name: name.into(),
                icon: "cog".into(),
                ..ComponentSpec::default()
            },
            invalid: Vec::new(),
            process: Arc::new(|_, _| Box::pin(async { Ok(()) })),
        }
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.spec.label = label.into();
        self
    }

    /// Sets the icon.
    pub fn icon(mut self, icon: impl Into<String>) -> Self {
        self.spec.icon = icon.into();
        self
    }

    /// Adds an inport (`description` may be empty).
    pub fn inport(mut self, id: &str, datatype: &str, description: &str) -> Self {
        let spec = port(id, datatype, description, &mut self.invalid);
        self.spec.inports.extend(spec);
        self
    }

    /// Adds an outport (`description` may be empty).
    pub fn outport(mut self, id: &str, datatype: &str, description: &str) -> Self {
        let spec = port(id, datatype, description, &mut self.invalid);
        self.spec.outports.extend(spec);
        self
    }

    /// Sets the process function.
    pub fn process<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Message, Outputs) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ProcessError>> + Send + 'static,
    {
        self.process = Arc::new(move |message, outputs| Box::pin(f(message, outputs)));
        self
    }

    /// Problems with the declaration (invalid port names), one line each.
    pub fn check(&self) -> Result<(), String> {
        match self.invalid.first() {
            None => Ok(()),
            Some(first) => Err(format!("component {}: {first}", self.spec.name)),
        }
    }

    /// The description.
    pub fn spec(&self) -> &ComponentSpec {
        &self.spec
    }

    /// Runs the process function on one message.
    pub fn run(&self, message: Message, outputs: Outputs) -> ProcessFuture {
        (self.process)(message, outputs)
    }
}
