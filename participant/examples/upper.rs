//! A participant of your own in a few lines: upper-cases text.
//!
//! ```text
//! cargo run -p msgflo-participant --example upper -- amqp://localhost
//! ```

use msgflo_participant::component::Component;
use msgflo_participant::runner::{self, Options};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let broker = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "amqp://localhost".into());
    let upper = Component::new("text/Upper")
        .label("Upper-cases text")
        .inport("in", "string", "text")
        .outport("out", "string", "the text in upper case")
        .process(|input, out| async move {
            let text: String = serde_json::from_slice(&input.payload)?;
            out.send_json("out", &text.to_uppercase().into()).await
        });
    let running = runner::start(upper, Options::new("upper".try_into()?, broker)).await?;
    println!("upper connected to {}", running.broker());
    running.run_until(tokio::signal::ctrl_c()).await?;
    Ok(())
}
