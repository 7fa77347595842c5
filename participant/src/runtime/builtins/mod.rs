//! Built-in in-process components, by the names msgflo and noflo graphs use
//! (`core/Repeat`; the short name `Repeat` works too).
//!
//! # Layout
//! - this file — [`builtin`], [`BUILTINS`] and the stateless forwarders:
//!   `core/Repeat`, `core/Drop`, `core/Output`, `core/Split`, `core/Merge`.
//! - `counter.rs` — `core/Counter`.
//! - `delay.rs` — `core/Delay`, the timing component.
//! - `core/Remote`, the bridge to another FBP runtime, lives in `../remote/`.
//! - `tests.rs` — each built-in run in a small graph.

mod counter;
mod delay;
#[cfg(test)]
mod tests;

pub use counter::counter;
pub use delay::delay;

use super::component::{ComponentDecl, Input};
use super::outputs::Outputs;
use std::io::Write;

/// Names of the built-in in-process components.
pub const BUILTINS: [&str; 8] = [
    "core/Repeat",
    "core/Drop",
    "core/Output",
    "core/Split",
    "core/Merge",
    "core/Counter",
    "core/Delay",
    "core/Remote",
];

/// The built-in component called `name` (`core/Repeat` or `Repeat`).
pub fn builtin(name: &str) -> Option<ComponentDecl> {
    let short = name.strip_prefix("core/").unwrap_or(name);
    Some(match short {
        "Repeat" => repeat(),
        "Drop" => drop(),
        "Output" => output(),
        "Split" => split(),
        "Merge" => merge(),
        "Counter" => counter(),
        "Delay" => delay(),
        "Remote" => super::remote::remote(),
        _ => return None,
    })
}

/// `in` -> `out`, unchanged (brackets included).
pub fn repeat() -> ComponentDecl {
    ComponentDecl::from_fn("core/Repeat", || {
        |input: Input, out: &mut Outputs| {
            out.send(0, input.packet);
            Ok(())
        }
    })
    .description("Repeats in data without changes")
    .icon("forward")
    .inport("in", "all", "Packet to forward")
    .outport("out", "all", "Forwarded packet")
}

/// Takes everything on `in` and does nothing with it.
pub fn drop() -> ComponentDecl {
    ComponentDecl::from_fn("core/Drop", || |_: Input, _: &mut Outputs| Ok(()))
        .description("Drops every packet it receives")
        .icon("trash-o")
        .inport("in", "all", "Packet to drop")
}

/// Prints each data packet on stdout, one line each, and forwards every packet.
pub fn output() -> ComponentDecl {
    ComponentDecl::from_fn("core/Output", || {
        |input: Input, out: &mut Outputs| {
            if let Some(payload) = input.packet.payload() {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(payload)?;
                stdout.write_all(b"\n")?;
                stdout.flush()?;
            }
            out.send(0, input.packet);
            Ok(())
        }
    })
    .description("Prints packets on standard output and forwards them")
    .icon("bug")
    .inport("in", "all", "Packet to print")
    .outport("out", "all", "Forwarded packet")
}

/// Copies each packet on `in` to every connection of the array port `out`.
pub fn split() -> ComponentDecl {
    ComponentDecl::from_fn("core/Split", || {
        |input: Input, out: &mut Outputs| {
            out.send(0, input.packet);
            Ok(())
        }
    })
    .description("Sends each packet to every connection of its outport")
    .icon("expand")
    .inport("in", "all", "Packet to copy")
    .array_outport("out", "all", "A copy for each connection")
}

/// Forwards packets from every connection of the array port `in` to `out`.
pub fn merge() -> ComponentDecl {
    ComponentDecl::from_fn("core/Merge", || {
        |input: Input, out: &mut Outputs| {
            out.send(0, input.packet);
            Ok(())
        }
    })
    .description("Forwards packets from all its connections to one outport")
    .icon("compress")
    .array_inport("in", "all", "Packets to merge")
    .outport("out", "all", "Every packet, as it arrives")
}
