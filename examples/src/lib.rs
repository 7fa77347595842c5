//! Example participants written with the [`Component`] API: what the
//! examples' graphs (`examples/hello/`, `examples/pipeline/`) run besides the
//! built-in `core/*` components. `msgflo-examples --name ROLE --component
//! example/Hello` runs one as a participant.
//!
//! # Layout
//! - [`hello`] — `example/Hello`: `"World"` -> `"Hello World"`.
//! - [`orders`] — `example/ParseOrder`: a CSV order line -> an order object;
//!   a line it cannot read fails, and is dead-lettered.
//! - [`totals`] — `example/Totals`: running totals of the orders seen.
//! - `src/main.rs` — the `msgflo-examples` program.

pub mod hello;
pub mod orders;
pub mod totals;

use msgflo_participant::component::Component;

/// The example components' names.
pub const COMPONENTS: [&str; 3] = ["example/Hello", "example/ParseOrder", "example/Totals"];

/// The example component called `name` (with or without `example/`), for a
/// participant whose id is `participant` (some components put it in their
/// output, so round-robin between participants can be seen).
pub fn component(name: &str, participant: &str) -> Option<Component> {
    match name.strip_prefix("example/").unwrap_or(name) {
        "Hello" => Some(hello::hello()),
        "ParseOrder" => Some(orders::parse_order(participant)),
        "Totals" => Some(totals::totals()),
        _ => None,
    }
}
