//! The commands `msgflo --broker embedded --graph G` prints for trying the
//! graph from another terminal: one that watches the graph's last outport
//! (`msgflo-dump-message --outport Q --follow`) and one that feeds its first
//! inport (`msgflo-send-message --queue Q --json DATA`), both with the URL of
//! the broker actually in use, and the tools' path the way the coordinator
//! was started (`target/release/msgflo` -> `target/release/msgflo-send-message`).
//! The coordinator prints them once the participants it started are there
//! (when the network's IIPs go out), with the queues they announced.
//! The README's quick start shows these lines (`tests/tests/quickstart.rs`
//! runs them).
//!
//! - Fed: the first exported inport, else the target of the first IIP; the
//!   data is that port's IIP, else `"hello"`.
//! - Watched: the first exported outport, else the source of the last edge
//!   between participants that ends at a node with no edges out (the last
//!   step of the flow).
//!
//! The queue of a port comes from the caller (the coordinator asks its
//! registry; `ROLE.PORT` for a participant it has not heard of).

use crate::library::shell_word;
use crate::routes::is_participant_node;
use msgflo_protocol::graph::{Endpoint, Graph};
use msgflo_protocol::ids::QueueName;
use serde_json::Value;
use std::path::Path;

/// What the commands need besides the graph: the broker and the tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryIt {
    /// The broker URL.
    pub broker: String,
    /// Where the tools are.
    pub tools: ToolPath,
}

/// The queue of a node's port (`true`: an inport), if it has one.
pub type QueueOf<'a> = &'a dyn Fn(&Endpoint, bool) -> Option<QueueName>;

/// The lines to print, as `[watch, feed]` where the graph has them; empty
/// when it has neither.
pub fn commands(graph: &Graph, try_it: &TryIt, queue_of: QueueOf<'_>) -> Vec<String> {
    let (broker, tools) = (shell_word(&try_it.broker), &try_it.tools);
    let mut lines = Vec::new();
    if let Some(queue) = watched(graph).and_then(|end| queue_of(&end, false)) {
        lines.push(format!(
            "{} --broker {broker} --outport {} --follow &",
            tools.of("msgflo-dump-message"),
            shell_word(queue.as_str())
        ));
    }
    if let Some((end, data)) = fed(graph) {
        if let Some(queue) = queue_of(&end, true) {
            lines.push(format!(
                "{} --broker {broker} --queue {} --json {}",
                tools.of("msgflo-send-message"),
                shell_word(queue.as_str()),
                shell_word(&data.to_string())
            ));
        }
    }
    lines
}

/// Where the msgflo tools are, as the user would type it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPath {
    dir: Option<String>,
}

impl ToolPath {
    /// Next to the program started as `argv0`: `target/release/msgflo` ->
    /// `target/release/`; a bare `msgflo` was found on the `PATH`, and so
    /// are the tools.
    pub fn beside(argv0: &str) -> Self {
        let dir = Path::new(argv0)
            .parent()
            .filter(|_| argv0.contains('/'))
            .map(|dir| match dir.to_string_lossy().as_ref() {
                "" => ".".to_owned(),
                dir => dir.to_owned(),
            });
        ToolPath { dir }
    }

    /// The command that runs `tool`.
    pub fn of(&self, tool: &str) -> String {
        match &self.dir {
            Some(dir) => shell_word(&format!("{dir}/{tool}")),
            None => tool.to_owned(),
        }
    }
}

/// The inport to feed and the data to send it.
fn fed(graph: &Graph) -> Option<(Endpoint, Value)> {
    let iip_for = |end: &Endpoint| {
        graph
            .initials()
            .find(|iip| iip.tgt.process == end.process && iip.tgt.port == end.port)
            .map(|iip| iip.data.clone())
    };
    let end = match graph.inports.values().next() {
        Some(port) => Endpoint::new(&port.process, &port.port),
        None => graph
            .initials()
            .map(|iip| iip.tgt.clone())
            .find(|end| is_participant_node(graph, &end.process))?,
    };
    let data = iip_for(&end).unwrap_or_else(|| Value::String("hello".into()));
    Some((end, data))
}

/// The outport to watch.
fn watched(graph: &Graph) -> Option<Endpoint> {
    if let Some(port) = graph.outports.values().next() {
        return Some(Endpoint::new(&port.process, &port.port));
    }
    let has_edges_out = |node: &str| graph.edges().any(|e| e.src.process == node);
    graph
        .edges()
        .filter(|e| {
            is_participant_node(graph, &e.src.process)
                && is_participant_node(graph, &e.tgt.process)
                && !has_edges_out(&e.tgt.process)
        })
        .last()
        .map(|e| e.src.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(fbp: &str) -> Graph {
        msgflo_protocol::dsl::parse(fbp).expect("a graph")
    }

    fn commands(graph: &Graph, broker: &str, tools: ToolPath) -> Vec<String> {
        let default = |end: &Endpoint, inport| crate::bindings::default_queue(end, inport).ok();
        let try_it = TryIt {
            broker: broker.into(),
            tools,
        };
        super::commands(graph, &try_it, &default)
    }

    #[test]
    fn hello_is_fed_its_iip_and_its_last_greeter_watched() {
        let hello = graph(
            "'World' -> NAME helloA(Hello) OUT -> NAME helloB(Hello) OUT -> NAME helloC(Hello)\n\
             helloC OUT -> IN show(core/Output)\n",
        );
        let tools = ToolPath::beside("target/release/msgflo");
        assert_eq!(
            commands(&hello, "mqtt://127.0.0.1:1884", tools),
            [
                "target/release/msgflo-dump-message --broker mqtt://127.0.0.1:1884 \
                 --outport helloC.OUT --follow &",
                "target/release/msgflo-send-message --broker mqtt://127.0.0.1:1884 \
                 --queue helloA.NAME --json '\"World\"'",
            ]
        );
    }

    #[test]
    fn exported_ports_come_first_and_data_defaults_to_hello() {
        let g = graph(
            "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\n\
             a(core/Repeat) OUT -> IN b(core/Repeat) OUT -> IN c(core/Drop)\n",
        );
        let lines = commands(&g, "mqtt://h:1", ToolPath::beside("msgflo"));
        assert_eq!(
            lines,
            [
                "msgflo-dump-message --broker mqtt://h:1 --outport b.OUT --follow &",
                "msgflo-send-message --broker mqtt://h:1 --queue a.IN --json '\"hello\"'",
            ]
        );
    }

    #[test]
    fn a_graph_with_nothing_to_feed_or_watch_prints_nothing() {
        let lonely = graph("a(core/Repeat)\n");
        assert!(commands(&lonely, "mqtt://h:1", ToolPath::beside("m")).is_empty());
    }

    #[test]
    fn tools_are_found_where_the_coordinator_was() {
        assert_eq!(ToolPath::beside("./msgflo").of("t"), "./t");
        assert_eq!(
            ToolPath::beside("/opt/my bin/msgflo").of("t"),
            "'/opt/my bin/t'"
        );
        assert_eq!(ToolPath::beside("msgflo").of("t"), "t");
    }
}
