//! `core/Counter`: counts the data packets on `in` and sends the running
//! count (a JSON number) on `count` after each one; brackets are not counted.

use crate::runtime::component::{ComponentDecl, Input};
use crate::runtime::outputs::Outputs;
use crate::runtime::packet::Packet;

/// The `core/Counter` component.
pub fn counter() -> ComponentDecl {
    ComponentDecl::from_fn("core/Counter", || {
        let mut count: u64 = 0;
        move |input: Input, out: &mut Outputs| {
            if input.packet.payload().is_some() {
                count += 1;
                let text = count.to_string();
                out.send(0, input.packet.derive(Packet::data(text).body));
            }
            Ok(())
        }
    })
    .description("Counts the packets it receives and sends the count")
    .icon("sort-numeric-asc")
    .inport("in", "all", "Packets to count")
    .outport("count", "int", "Packets counted so far, after each packet")
}
