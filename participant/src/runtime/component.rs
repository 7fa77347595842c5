//! In-process components: a [`ComponentDecl`] names a component, declares its
//! ports and makes a fresh [`Process`] state for every node of a graph that
//! uses it.
//!
//! ```
//! use msgflo_participant::runtime::component::ComponentDecl;
//!
//! let upper = ComponentDecl::from_fn("example/Upper", || {
//!     |input: msgflo_participant::runtime::Input, out: &mut msgflo_participant::runtime::Outputs| {
//!         let packet = match input.packet.payload() {
//!             Some(data) => msgflo_participant::runtime::Packet::data(data.to_ascii_uppercase()),
//!             None => input.packet,
//!         };
//!         out.send(0, packet);
//!         Ok(())
//!     }
//! })
//! .inport("in", "string", "text")
//! .outport("out", "string", "the text in upper case");
//! assert!(upper.check().is_ok());
//! ```
//!
//! Ports are addressed by their position in the declaration (`0` is the first
//! inport or outport) so the hot path never compares strings.

use super::outputs::Outputs;
use super::outside::{Statuses, Wake};
use super::packet::Packet;
pub use crate::component::ProcessError;
use crate::component::{ComponentSpec, PortSpec};
use msgflo_protocol::ids::PortName;
use msgflo_protocol::messages::{ComponentInfo, PortDef};
use std::sync::Arc;
use std::time::Instant;

/// One packet arriving at a node.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The inport, by position in the declaration.
    pub port: usize,
    /// The slot of an addressable inport the edge is connected to.
    pub index: Option<u32>,
    /// The packet.
    pub packet: Packet,
}

/// What a node learns when it is placed in a running network.
#[derive(Debug, Clone)]
pub struct Attached {
    /// The node's name in the graph.
    pub node: Arc<str>,
    /// Its inports, in order ([`Input::port`] indexes them).
    pub inports: Vec<PortDecl>,
    /// Its outports, in order ([`Outputs::send`] indexes them).
    pub outports: Vec<PortDecl>,
    /// Wakes the scheduler.
    pub wake: Wake,
    /// Where the node reports its link's state.
    pub statuses: Statuses,
}

/// The state and behaviour of one node.
pub trait Process: Send + 'static {
    /// Handles one packet. An error is reported with the node's name and the
    /// node goes on with the next packet; a panic stops the node.
    fn process(&mut self, input: Input, out: &mut Outputs) -> Result<(), ProcessError>;

    /// How many more packets the node takes now (back-pressure for
    /// components that hold packets, like `core/Delay`).
    fn accepts(&self) -> usize {
        usize::MAX
    }

    /// When [`Process::tick`] should next run, if ever.
    fn next_tick(&self) -> Option<Instant> {
        None
    }

    /// Runs once `next_tick` has passed (timing components).
    fn tick(&mut self, _now: Instant, _out: &mut Outputs) -> Result<(), ProcessError> {
        Ok(())
    }

    /// The node was placed in a running network (see [`Attached`]):
    /// components fed from outside keep its [`Wake`].
    fn attach(&mut self, _node: Attached) {}

    /// Packets from outside wait for [`Process::poll`].
    fn ready(&self) -> bool {
        false
    }

    /// Sends on at most `budget` of the packets that came from outside;
    /// returns how many it sent.
    fn poll(&mut self, _budget: usize, _out: &mut Outputs) -> usize {
        0
    }

    /// Packets are still on their way to or from outside: the network is
    /// not finished while this holds.
    fn busy(&self) -> bool {
        false
    }
}

/// A closure as a [`Process`].
struct FnProcess<F>(F);

impl<F> Process for FnProcess<F>
where
    F: FnMut(Input, &mut Outputs) -> Result<(), ProcessError> + Send + 'static,
{
    fn process(&mut self, input: Input, out: &mut Outputs) -> Result<(), ProcessError> {
        (self.0)(input, out)
    }
}

/// A port declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortDecl {
    /// Port name (`in`).
    pub id: PortName,
    /// Data type (`any`, `string`, ...).
    pub datatype: String,
    /// What the port is for.
    pub description: Option<String>,
    /// An array port: edges connect to numbered slots.
    pub addressable: bool,
}

type MakeFn = dyn Fn() -> Box<dyn Process> + Send + Sync;

/// A component: name, ports, and how to make a node's state.
#[derive(Clone)]
pub struct ComponentDecl {
    /// Component name (`core/Repeat`).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Font Awesome icon name.
    pub icon: String,
    /// Inports, in order.
    pub inports: Vec<PortDecl>,
    /// Outports, in order.
    pub outports: Vec<PortDecl>,
    invalid: Vec<String>,
    /// Ports are also whatever the graph connects to the node (see
    /// [`ComponentDecl::ports_from_graph`]).
    pub open_ports: bool,
    make: Arc<MakeFn>,
}

impl std::fmt::Debug for ComponentDecl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentDecl")
            .field("name", &self.name)
            .field("inports", &self.inports)
            .field("outports", &self.outports)
            .finish_non_exhaustive()
    }
}

impl ComponentDecl {
    /// A component whose nodes each get the state `make()` returns.
    pub fn new<P: Process>(
        name: impl Into<String>,
        make: impl Fn() -> P + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            icon: "cog".into(),
            inports: Vec::new(),
            outports: Vec::new(),
            invalid: Vec::new(),
            open_ports: false,
            make: Arc::new(move || Box::new(make())),
        }
    }

    /// A component whose nodes each run the closure `make()` returns.
    pub fn from_fn<F>(name: impl Into<String>, make: impl Fn() -> F + Send + Sync + 'static) -> Self
    where
        F: FnMut(Input, &mut Outputs) -> Result<(), ProcessError> + Send + 'static,
    {
        Self::new(name, move || FnProcess(make()))
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the icon.
    pub fn icon(mut self, icon: impl Into<String>) -> Self {
        self.icon = icon.into();
        self
    }

    /// Besides the declared ports, a node of this component has every port
    /// its graph connects (edges, IIPs, exported ports), of datatype `all`:
    /// for components whose ports are found elsewhere (`core/Remote`: the
    /// remote graph's exported ports).
    pub fn ports_from_graph(mut self) -> Self {
        self.open_ports = true;
        self
    }

    /// Adds an inport (`description` may be empty).
    pub fn inport(self, id: &str, datatype: &str, description: &str) -> Self {
        self.port(true, false, id, datatype, description)
    }

    /// Adds an addressable (array) inport.
    pub fn array_inport(self, id: &str, datatype: &str, description: &str) -> Self {
        self.port(true, true, id, datatype, description)
    }

    /// Adds an outport.
    pub fn outport(self, id: &str, datatype: &str, description: &str) -> Self {
        self.port(false, false, id, datatype, description)
    }

    /// Adds an addressable (array) outport.
    pub fn array_outport(self, id: &str, datatype: &str, description: &str) -> Self {
        self.port(false, true, id, datatype, description)
    }

    /// Adds port `id` unless there is one by that name (case-insensitive
    /// unless `case_sensitive`).
    pub fn with_port(self, inport: bool, id: &str, case_sensitive: bool) -> Self {
        let ports = if inport {
            &self.inports
        } else {
            &self.outports
        };
        if find(ports, id, case_sensitive).is_some() {
            return self;
        }
        self.port(inport, false, id, "all", "")
    }

    fn port(
        mut self,
        inport: bool,
        addressable: bool,
        id: &str,
        datatype: &str,
        description: &str,
    ) -> Self {
        match PortName::new(id) {
            Ok(id) => {
                let decl = PortDecl {
                    id,
                    datatype: datatype.to_owned(),
                    description: (!description.is_empty()).then(|| description.to_owned()),
                    addressable,
                };
                if inport {
                    &mut self.inports
                } else {
                    &mut self.outports
                }
                .push(decl);
            }
            Err(e) => self.invalid.push(e.to_string()),
        }
        self
    }

    /// Problems with the declaration (invalid port names).
    pub fn check(&self) -> Result<(), String> {
        match self.invalid.first() {
            None => Ok(()),
            Some(first) => Err(format!("component {}: {first}", self.name)),
        }
    }

    /// How discovery describes this component (label = description).
    pub fn spec(&self) -> ComponentSpec {
        ComponentSpec {
            name: self.name.clone(),
            label: self.description.clone(),
            icon: self.icon.clone(),
            inports: self.inports.iter().map(PortDecl::spec).collect(),
            outports: self.outports.iter().map(PortDecl::spec).collect(),
        }
    }

    /// The FBP protocol's `component:component` form of this component.
    pub fn info(&self) -> ComponentInfo {
        ComponentInfo {
            name: self.name.clone(),
            description: (!self.description.is_empty()).then(|| self.description.clone()),
            icon: Some(self.icon.clone()),
            subgraph: false,
            in_ports: self.inports.iter().map(PortDecl::info).collect(),
            out_ports: self.outports.iter().map(PortDecl::info).collect(),
        }
    }

    /// Fresh state for one node.
    pub fn instantiate(&self) -> Box<dyn Process> {
        (self.make)()
    }

    /// The position of inport `name`.
    pub fn inport_index(&self, name: &str, case_sensitive: bool) -> Option<usize> {
        find(&self.inports, name, case_sensitive)
    }

    /// The position of outport `name`.
    pub fn outport_index(&self, name: &str, case_sensitive: bool) -> Option<usize> {
        find(&self.outports, name, case_sensitive)
    }
}

impl PortDecl {
    /// The discovery form of this port.
    pub fn spec(&self) -> PortSpec {
        PortSpec {
            id: self.id.clone(),
            datatype: self.datatype.clone(),
            description: self.description.clone(),
        }
    }

    /// The FBP protocol form of this port.
    pub fn info(&self) -> PortDef {
        let mut def = PortDef::new(self.id.as_str(), &self.datatype);
        def.addressable = Some(self.addressable);
        def.description = self.description.clone();
        def
    }
}

fn find(ports: &[PortDecl], name: &str, case_sensitive: bool) -> Option<usize> {
    ports.iter().position(|p| {
        if case_sensitive {
            p.id.as_str() == name
        } else {
            p.id.as_str().eq_ignore_ascii_case(name)
        }
    })
}
