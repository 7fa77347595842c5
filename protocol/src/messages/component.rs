//! The `component` sub-protocol: the component library and component sources
//! (fbp-protocol `component.yml`).

use serde::{Deserialize, Serialize};

use super::macros::command_enum;
use super::{ErrorPayload, PortDef, Protocol};

command_enum! {
    /// A `component` message from a client.
    pub enum ComponentInput for Protocol::Component {
        /// `list`: ask for every component, answered by `component` messages and
        /// a final `componentsready`.
        "list" => List(ListComponents),
        /// `getsource`: ask for a component's source (or a graph as JSON).
        "getsource" => GetSource(GetSource),
        /// `source`: create or replace a component from source code.
        "source" => Source(ComponentSource),
    }
}

command_enum! {
    /// A `component` message from a runtime.
    pub enum ComponentOutput for Protocol::Component {
        /// `error`: a component command failed.
        "error" => Error(ErrorPayload),
        /// `component`: one component of the library.
        "component" => Component(ComponentInfo),
        /// `componentsready`: the listing is complete; the payload is the number
        /// of components sent (a bare integer, not an object).
        "componentsready" => ComponentsReady(u64),
        /// `source`: a component's source code.
        "source" => Source(ComponentSource),
    }
}

/// Payload of `component:list` (nothing but the legacy `secret`; anything else is
/// ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListComponents {}

/// Payload of `component:getsource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSource {
    /// Component name with its library prefix, or a graph id.
    pub name: String,
}

/// Payload of `component:source`, both directions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentSource {
    /// Component name, without library prefix.
    pub name: String,
    /// Language of `code`, e.g. `"python"`, `"json"` for a graph.
    pub language: String,
    /// Component library identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// The source code.
    pub code: String,
    /// Unit tests for the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<String>,
}

/// Payload of `component:component`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentInfo {
    /// Component name as used in graphs, with library prefix.
    pub name: String,
    /// What the component does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Font Awesome icon name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Whether the component is a subgraph.
    pub subgraph: bool,
    /// Input ports.
    pub in_ports: Vec<PortDef>,
    /// Output ports.
    pub out_ports: Vec<PortDef>,
}
