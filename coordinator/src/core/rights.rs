//! What a client may do, and what each request needs (pure; `tokens.rs`
//! decides which [`Rights`] a request's token or secret carries).
//!
//! - The shared `--secret`, and no guard at all (neither `--secret` nor
//!   `--tokens`), mean [`Rights::Full`].
//! - A token of the tokens file carries a [`Grant`]: the exported inports
//!   of the graph it may send `runtime:packet` to (`send`), the exported
//!   outports whose `runtime:packet` traffic it gets (`receive`), and
//!   whether it may change anything (`edit`). Without `edit` it may only
//!   read: [`need`] lists the reads; every other command is an edit.
//! - Edge traffic (`network:edges`, and the `network:data` /
//!   `begingroup` / `endgroup` it brings) shows what flows inside the
//!   graph, past any port: only a token that may edit, or that receives
//!   every outport (`"*"`), sees it.

use std::collections::BTreeSet;

/// A set of exported port names, or all of them (`"*"` in the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ports {
    /// Every port.
    All,
    /// These ports (compared without regard to ASCII case).
    Only(BTreeSet<String>),
}

impl Ports {
    /// The set a file's list names: `"*"` anywhere in it means all.
    pub fn from_names(names: impl IntoIterator<Item = String>) -> Self {
        let names: BTreeSet<String> = names.into_iter().collect();
        if names.contains("*") {
            Self::All
        } else {
            Self::Only(names)
        }
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(names) => names.iter().any(|n| n.eq_ignore_ascii_case(port)),
        }
    }
}

/// What one token of the tokens file grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The token's name, for refusals and the log (never the token).
    pub name: String,
    /// Exported inports it may send `runtime:packet` to.
    pub send: Ports,
    /// Exported outports whose `runtime:packet` traffic it gets.
    pub receive: Ports,
    /// Whether it may change graphs and the network.
    pub edit: bool,
}

/// What a client may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Rights {
    /// Everything: the shared secret, or no guard at all.
    Full,
    /// What a token grants.
    Granted(std::sync::Arc<Grant>),
}

/// What a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Need {
    /// Reading: any client that was let in.
    Read,
    /// Changing a graph, the network or a participant.
    Edit,
    /// Sending a `runtime:packet` to this exported inport (`None`: the
    /// payload names none, and is refused as malformed).
    Send(Option<String>),
    /// Watching edges inside the graph (`network:edges`).
    WatchEdges,
}

/// Why a client that was let in may not do what it asked; the text is the
/// error it is answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum Refused {
    /// An edit by a token without the edit right.
    #[error("token {token:?} may not edit graphs ({command} needs the edit right)")]
    Edit {
        /// The token's name.
        token: String,
        /// The command, `protocol:command`.
        command: String,
    },
    /// A packet for an inport the token may not send to.
    #[error("token {token:?} may not send to inport {port:?}")]
    Send {
        /// The token's name.
        token: String,
        /// The inport.
        port: String,
    },
    /// `network:edges` by a token that may not watch edges.
    #[error(
        "token {token:?} may not watch edges (network:edges needs the edit right or receive \"*\")"
    )]
    WatchEdges {
        /// The token's name.
        token: String,
    },
}

/// What `protocol:command` (with its `payload`) needs. Only the commands
/// that change nothing are reads; an unknown command counts as an edit.
pub(super) fn need(protocol: &str, command: &str, payload: &serde_json::Value) -> Need {
    match (protocol, command) {
        ("runtime", "getruntime")
        | ("component", "list")
        | ("component", "getsource")
        | ("network", "getstatus")
        | ("msgflo", "participants") => Need::Read,
        ("runtime", "packet") => Need::Send(
            payload
                .get("port")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        ),
        ("network", "edges") => Need::WatchEdges,
        _ => Need::Edit,
    }
}

impl Rights {
    /// Whether these rights allow `need` (`command` names the request in
    /// the refusal).
    pub(super) fn allow(&self, need: &Need, command: &str) -> Result<(), Refused> {
        let Self::Granted(grant) = self else {
            return Ok(());
        };
        let token = || grant.name.clone();
        match need {
            Need::Read => Ok(()),
            Need::Edit if grant.edit => Ok(()),
            Need::Edit => Err(Refused::Edit {
                token: token(),
                command: command.to_owned(),
            }),
            // No port: the packet is refused as malformed; nothing is sent.
            Need::Send(None) => Ok(()),
            Need::Send(Some(port)) if grant.send.contains(port) => Ok(()),
            Need::Send(Some(port)) => Err(Refused::Send {
                token: token(),
                port: port.clone(),
            }),
            Need::WatchEdges if self.may_watch_edges() => Ok(()),
            Need::WatchEdges => Err(Refused::WatchEdges { token: token() }),
        }
    }

    /// Whether `runtime:packet`s of exported outport `port` go to it.
    pub(super) fn may_receive(&self, port: &str) -> bool {
        match self {
            Self::Full => true,
            Self::Granted(grant) => grant.receive.contains(port),
        }
    }

    /// Whether it may receive at least one exported outport.
    pub(super) fn may_receive_somewhere(&self) -> bool {
        match self {
            Self::Full => true,
            Self::Granted(grant) => grant.receive != Ports::Only(BTreeSet::new()),
        }
    }

    /// Whether it may send to at least one exported inport.
    pub(super) fn may_send_somewhere(&self) -> bool {
        match self {
            Self::Full => true,
            Self::Granted(grant) => grant.send != Ports::Only(BTreeSet::new()),
        }
    }

    /// Whether it sees edge traffic: `network:data`, `begingroup`,
    /// `endgroup` on the graph's edges.
    pub(super) fn may_watch_edges(&self) -> bool {
        match self {
            Self::Full => true,
            Self::Granted(grant) => grant.edit || grant.receive == Ports::All,
        }
    }

    /// Whether it may edit.
    pub(super) fn may_edit(&self) -> bool {
        match self {
            Self::Full => true,
            Self::Granted(grant) => grant.edit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn granted(send: &[&str], receive: &[&str], edit: bool) -> Rights {
        let ports = |names: &[&str]| Ports::from_names(names.iter().map(|n| (*n).to_owned()));
        Rights::Granted(Arc::new(Grant {
            name: "t".into(),
            send: ports(send),
            receive: ports(receive),
            edit,
        }))
    }

    #[test]
    fn only_the_commands_that_change_nothing_are_reads() {
        let empty = json!({});
        for (protocol, command) in [
            ("runtime", "getruntime"),
            ("component", "list"),
            ("component", "getsource"),
            ("network", "getstatus"),
            ("msgflo", "participants"),
        ] {
            assert_eq!(need(protocol, command, &empty), Need::Read, "{command}");
        }
        for (protocol, command) in [
            ("graph", "addnode"),
            ("graph", "clear"),
            ("network", "start"),
            ("network", "stop"),
            ("network", "persist"),
            ("network", "debug"),
            ("component", "source"),
            ("msgflo", "call"),
            ("trace", "start"),
            ("runtime", "whatever"),
        ] {
            assert_eq!(need(protocol, command, &empty), Need::Edit, "{command}");
        }
        assert_eq!(
            need("runtime", "packet", &json!({"port": "in"})),
            Need::Send(Some("in".into()))
        );
        assert_eq!(need("network", "edges", &empty), Need::WatchEdges);
    }

    #[test]
    fn a_token_without_the_edit_right_reads_and_is_refused_edits_by_name() {
        let reader = granted(&[], &[], false);
        assert_eq!(reader.allow(&Need::Read, "network:getstatus"), Ok(()));
        let refused = reader.allow(&Need::Edit, "graph:addnode").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "token \"t\" may not edit graphs (graph:addnode needs the edit right)"
        );
        assert_eq!(
            granted(&[], &[], true).allow(&Need::Edit, "graph:addnode"),
            Ok(())
        );
        assert_eq!(Rights::Full.allow(&Need::Edit, "graph:addnode"), Ok(()));
    }

    #[test]
    fn sending_is_per_inport_and_star_is_every_inport() {
        let sender = granted(&["in"], &[], false);
        let to = |port: &str| Need::Send(Some(port.into()));
        assert_eq!(sender.allow(&to("in"), "runtime:packet"), Ok(()));
        assert_eq!(sender.allow(&to("IN"), "runtime:packet"), Ok(()), "case");
        assert_eq!(
            sender
                .allow(&to("other"), "runtime:packet")
                .unwrap_err()
                .to_string(),
            "token \"t\" may not send to inport \"other\""
        );
        assert!(sender.may_send_somewhere());
        assert!(!granted(&[], &["*"], true).may_send_somewhere());
        let everywhere = granted(&["*"], &[], false);
        assert_eq!(everywhere.allow(&to("other"), "runtime:packet"), Ok(()));
    }

    #[test]
    fn receiving_is_per_outport_and_edges_need_edit_or_every_outport() {
        let dashboard = granted(&[], &["out"], false);
        assert!(dashboard.may_receive("out") && !dashboard.may_receive("other"));
        assert!(!dashboard.may_watch_edges());
        assert!(dashboard.allow(&Need::WatchEdges, "network:edges").is_err());
        assert!(granted(&[], &["out", "*"], false).may_watch_edges());
        assert!(granted(&[], &[], true).may_watch_edges());
        assert!(Rights::Full.may_receive("anything") && Rights::Full.may_watch_edges());
    }
}
