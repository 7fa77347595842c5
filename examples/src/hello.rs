//! `example/Hello`: greets. The component of msgflo's hello graph
//! (`'World' -> NAME helloA(Hello) OUT -> NAME helloB(Hello) ...`).

use msgflo_participant::component::Component;
use serde_json::Value;

/// `name` (any JSON; a string is used as it is) -> `out`: `"Hello NAME"`.
pub fn hello() -> Component {
    Component::new("example/Hello")
        .label("Greets whoever it is given")
        .icon("hand-o-right")
        .inport("name", "string", "who to greet")
        .outport("out", "string", "the greeting")
        .process(|input, out| async move {
            let name = match input.json()? {
                Value::String(text) => text,
                other => other.to_string(),
            };
            out.send_json("out", &Value::String(format!("Hello {name}")))
                .await
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn declares_msgflo_hello_ports() {
        let spec = super::hello().spec().clone();
        assert_eq!(spec.inports[0].id.as_str(), "name");
        assert_eq!(spec.outports[0].id.as_str(), "out");
    }
}
