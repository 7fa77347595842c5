//! Your own in-process component, in a graph participant next to the
//! built-ins: `text/Upper` upper-cases JSON strings and refuses anything else
//! (that message alone is nacked, i.e. dead-lettered; the others go on).
//!
//! ```text
//! cargo run -p msgflo-participant --example own_graph -- amqp://localhost [ROLE]
//! # then send "hello" to shout.IN; "HELLO" comes out of shout.OUT (ROLE: shout)
//! ```

use msgflo_participant::protocol::dsl;
use msgflo_participant::runner::{self, Options};
use msgflo_participant::runtime::{builtins, Body, ComponentDecl, Input, Outputs};

/// A graph: IN -> upper -> out(core/Output, printing) -> OUT.
const GRAPH: &str = "\
INPORT=upper.IN:IN
OUTPORT=out.OUT:OUT
upper(text/Upper) OUT -> IN out(core/Output)
";

/// `text/Upper`: JSON string in, the same string upper-cased out.
fn upper() -> ComponentDecl {
    ComponentDecl::from_fn("text/Upper", || {
        |input: Input, out: &mut Outputs| {
            let Some(payload) = input.packet.payload() else {
                // Brackets pass through unchanged.
                out.send(0, input.packet);
                return Ok(());
            };
            let text: String = serde_json::from_slice(payload)
                .map_err(|e| format!("text/Upper takes a JSON string: {e}"))?;
            let upper = serde_json::to_vec(&text.to_uppercase())?;
            out.send(0, input.packet.derive(Body::Data(upper.into())));
            Ok(())
        }
    })
    .description("Upper-cases text")
    .inport("in", "string", "text")
    .outport("out", "string", "the text in upper case")
}

/// Our components first, then the built-ins.
fn lookup(name: &str) -> Option<ComponentDecl> {
    match name {
        "text/Upper" => Some(upper()),
        _ => builtins::builtin(name),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let broker = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "amqp://localhost".into());
    let role = std::env::args().nth(2).unwrap_or_else(|| "shout".into());
    let graph = dsl::parse(GRAPH)?;
    let options = Options::new(role.as_str().try_into()?, broker);
    let running = runner::start_graph(&graph, "shout", lookup, options).await?;
    println!("{role} connected to {}", running.broker());
    running.run_until(tokio::signal::ctrl_c()).await?;
    Ok(())
}
