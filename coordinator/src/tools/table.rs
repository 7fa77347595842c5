//! Printing participants as a table: role, id, component, ports with their
//! queues, last seen; and the graph nodes no participant serves.

use super::listed::Listed;
use crate::core::PendingNode;
use msgflo_protocol::discovery::Port;

/// The table, one line per participant, columns padded; a line saying so
/// when there is none.
pub fn render(listed: &[Listed]) -> String {
    if listed.is_empty() {
        return "no participants\n".into();
    }
    let mut rows = vec![vec![
        "ROLE".to_owned(),
        "ID".to_owned(),
        "COMPONENT".to_owned(),
        "INPORTS".to_owned(),
        "OUTPORTS".to_owned(),
        "LAST SEEN".to_owned(),
    ]];
    for entry in listed {
        let p = &entry.participant;
        rows.push(vec![
            p.role.to_string(),
            p.id.to_string(),
            p.component.clone(),
            ports(&p.inports),
            ports(&p.outports),
            ago(entry.last_seen_ms_ago),
        ]);
    }
    aligned(&rows)
}

/// The graph nodes without a participant, under a heading; nothing when
/// there are none.
pub fn render_pending(pending: &[PendingNode]) -> String {
    if pending.is_empty() {
        return String::new();
    }
    let mut rows = vec![vec![
        "PENDING NODE".to_owned(),
        "COMPONENT".to_owned(),
        "WHY".to_owned(),
    ]];
    for node in pending {
        rows.push(vec![
            node.role.clone(),
            node.component.clone(),
            node.reason.clone(),
        ]);
    }
    aligned(&rows)
}

/// The roles the coordinator started again (or gave up on), under a heading.
pub fn render_restarted(restarted: &[crate::core::Restarted]) -> String {
    let mut rows = vec![vec![
        "RESTARTED ROLE".to_owned(),
        "RESTARTS".to_owned(),
        "STATE".to_owned(),
    ]];
    for role in restarted {
        rows.push(vec![
            role.role.clone(),
            role.restarts.to_string(),
            role.state.clone(),
        ]);
    }
    aligned(&rows)
}

/// The edges the coordinator passes on itself, under a heading.
pub fn render_forwarded(forwarded: &[(String, String)]) -> String {
    let mut rows = vec![vec![
        "FORWARDED BY THE COORDINATOR".to_owned(),
        "TO".to_owned(),
    ]];
    for (outport, inport) in forwarded {
        rows.push(vec![outport.clone(), inport.clone()]);
    }
    aligned(&rows)
}

/// `rows` with each column padded to its widest cell.
pub(super) fn aligned(rows: &[Vec<String>]) -> String {
    let mut widths = Vec::new();
    for row in rows {
        widths.resize(widths.len().max(row.len()), 0);
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| format!("{cell:width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `in=repeater.IN, b=x` (ports without a queue are hidden; `-` for none).
fn ports(ports: &[Port]) -> String {
    let listed: Vec<String> = ports
        .iter()
        .filter_map(|p| p.queue.as_ref().map(|q| format!("{}={q}", p.id)))
        .collect();
    if listed.is_empty() {
        "-".into()
    } else {
        listed.join(", ")
    }
}

/// `3 s ago`, `2 min ago`.
pub(super) fn ago(ms: u64) -> String {
    match ms / 1000 {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s => format!("{} h ago", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflo_protocol::discovery::Participant;
    use msgflo_protocol::ids::{ParticipantId, PortName, QueueName, Role};

    #[test]
    fn one_line_per_participant_with_its_queues() {
        let mut p = Participant::new(
            ParticipantId::new("rep-1").unwrap(),
            Role::new("rep").unwrap(),
            "core/Repeat",
        );
        p.inports = vec![Port::new(
            PortName::new("in").unwrap(),
            Some(QueueName::new("rep.IN").unwrap()),
        )];
        let listed = Listed {
            participant: p,
            first_seen_ms_ago: 9000,
            last_seen_ms_ago: 1500,
        };
        let text = render(&[listed]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("ROLE  ID"), "{text}");
        assert!(
            lines[1].contains("rep.IN") && lines[1].ends_with("1 s ago"),
            "{text}"
        );
        assert_eq!(render(&[]), "no participants\n");
    }

    #[test]
    fn forwarded_edges_are_listed_under_their_heading() {
        let rendered = render_forwarded(&[("a.OUT".into(), "shout/in".into())]);
        assert_eq!(
            rendered,
            "FORWARDED BY THE COORDINATOR  TO\na.OUT                         shout/in\n"
        );
    }

    #[test]
    fn pending_nodes_say_why() {
        let node = PendingNode {
            role: "helloA".into(),
            component: "Hello".into(),
            reason: "no library".into(),
        };
        assert_eq!(
            render_pending(&[node]),
            "PENDING NODE  COMPONENT  WHY\nhelloA        Hello      no library\n"
        );
        assert_eq!(render_pending(&[]), "");
    }
}
