//! Built-in components, by the names msgflo graphs use: `core/Repeat`,
//! `core/Drop`, `core/Output`. Short names (`Repeat`) work too.

use crate::component::Component;
use std::io::Write;

/// Names of the built-in components.
pub const BUILTINS: [&str; 3] = ["core/Repeat", "core/Drop", "core/Output"];

/// The built-in component called `name` (`core/Repeat` or `Repeat`).
pub fn builtin(name: &str) -> Option<Component> {
    let short = name.strip_prefix("core/").unwrap_or(name);
    Some(match short {
        "Repeat" => repeat(),
        "Drop" => drop(),
        "Output" => output(),
        _ => return None,
    })
}

/// `in` -> `out`, unchanged.
pub fn repeat() -> Component {
    Component::new("core/Repeat")
        .label("Repeats in data without changes")
        .icon("forward")
        .inport("in", "any", "Packet to forward")
        .outport("out", "any", "Forwarded packet")
        .process(|input, out| async move { out.send("out", input.payload).await })
}

/// Takes everything on `in` and does nothing with it.
pub fn drop() -> Component {
    Component::new("core/Drop")
        .label("Drops every packet it receives")
        .icon("trash-o")
        .inport("in", "any", "Packet to drop")
        .process(|_, _| async { Ok(()) })
}

/// Prints each packet on stdout, one line each, and forwards it.
pub fn output() -> Component {
    Component::new("core/Output")
        .label("Prints packets on standard output and forwards them")
        .icon("bug")
        .inport("in", "any", "Packet to print")
        .outport("out", "any", "Forwarded packet")
        .process(|input, out| async move {
            {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&input.payload)?;
                stdout.write_all(b"\n")?;
                stdout.flush()?;
            }
            out.send("out", input.payload).await
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_is_found_by_full_and_short_name() {
        for name in BUILTINS {
            let component = builtin(name).expect(name);
            assert_eq!(component.spec().name, name);
            assert!(component.check().is_ok());
            let short = name.trim_start_matches("core/");
            assert_eq!(builtin(short).expect(short).spec().name, name);
        }
        assert!(builtin("core/Nope").is_none());
    }

    #[test]
    fn ports_are_declared_with_descriptions() {
        let repeat = repeat();
        let spec = repeat.spec();
        assert_eq!(spec.inports[0].id.as_str(), "in");
        assert_eq!(spec.outports[0].id.as_str(), "out");
        assert!(spec.inports[0].description.is_some());
        assert!(drop().spec().outports.is_empty());
    }
}
