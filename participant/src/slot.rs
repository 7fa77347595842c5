//! A stable participant id for an MQTT participant started without `--id`:
//! `<role>-<host>-<n>`, where `n` is the lowest *process slot* of the role
//! on this machine and broker that no running process holds.
//!
//! Why: on MQTT a participant's inport is a shared subscription held by a
//! persistent session (`transport/src/mqtt/mod.rs`). A participant killed
//! (SIGKILL, OOM, a crash) leaves its session behind, still a member of the
//! share group: the broker keeps giving it its turn, and those messages wait
//! in a session nobody resumes — with a fresh random id per start, forever
//! (issue 15: half of a role's messages swallowed). With a slot, the
//! process started in its place (by the coordinator's supervisor, systemd,
//! a shell loop) takes the same slot, so the same client id: it resumes the
//! session and gets what waited there, and what the dead one held unacked
//! comes again. A clean stop ends the session as before.
//!
//! A slot is an exclusive lock (`flock`) on the file
//! `<temp dir>/msgflo-slots/<broker>-<role>.<n>.lock`: the kernel releases
//! it when the process dies, however it dies, so a slot is free exactly when
//! no living process holds it. Two processes of one role on one machine get
//! slots 0 and 1; on another machine the host name tells them apart.
//!
//! Limits: slots are per machine. A participant restarted on another
//! machine, or in a new container whose host name is new, resumes nothing:
//! give such participants an `--id` that outlives them (e.g. the
//! orchestrator's stable pod or service name). Messages the broker queues
//! for a dead session are bounded by its limits (Mosquitto's
//! `max_queued_messages`, 1,000 by default).

use crate::transport::BrokerUrl;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Slots tried per role before giving up.
pub const MAX_SLOTS: usize = 1024;

/// The slots this process holds, kept open (so locked) until it exits.
static HELD: Mutex<Vec<File>> = Mutex::new(Vec::new());

/// A slot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    /// The slot folder or a lock file could not be made or opened.
    #[error("cannot take a process slot in {dir}: {source}")]
    Io {
        /// The slot folder.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Every slot is held.
    #[error("all {MAX_SLOTS} process slots of role {role} are taken on this machine")]
    Full {
        /// The role.
        role: String,
    },
}

/// Takes the lowest free slot of `role` on `broker` and returns the
/// participant id it gives: `<role>-<host>-<n>`. The slot is held until the
/// process exits.
pub fn claim(role: &str, broker: &BrokerUrl) -> Result<String, SlotError> {
    claim_in(&default_dir(), role, broker)
}

/// [`claim`] with slot files in `dir`.
pub fn claim_in(dir: &Path, role: &str, broker: &BrokerUrl) -> Result<String, SlotError> {
    let io = |source| SlotError::Io {
        dir: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    // The broker by host and port, without credentials or path.
    let broker = format!("{}:{}", broker.host, broker.port);
    let prefix = format!("{}-{}", file_safe(broker), file_safe(role));
    for n in 0..MAX_SLOTS {
        let path = dir.join(format!("{prefix}.{n}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {
                HELD.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(file);
                return Ok(format!("{role}-{}-{n}", host()));
            }
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    Err(SlotError::Full {
        role: role.to_owned(),
    })
}

/// `<temp dir>/msgflo-slots`.
fn default_dir() -> PathBuf {
    std::env::temp_dir().join("msgflo-slots")
}

/// `text` with every character that is not ASCII alphanumeric, `.` or `_`
/// replaced by `_`.
fn file_safe(text: impl AsRef<str>) -> String {
    text.as_ref()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// This machine's name, as a part of an id: characters other than ASCII
/// letters, digits, `-` and `_` become `_`.
fn host() -> String {
    let name = gethostname::gethostname();
    let name = name.to_string_lossy();
    let name = if name.is_empty() { "host" } else { &name };
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> BrokerUrl {
        BrokerUrl::parse(text).expect("a broker URL")
    }

    fn dir() -> PathBuf {
        std::env::temp_dir().join(format!("msgflo-slot-test-{}", uuid::Uuid::new_v4()))
    }

    #[test]
    fn the_lowest_free_slot_is_taken_and_held() {
        let dir = dir();
        let first = claim_in(&dir, "r", &url("mqtt://127.0.0.1:1883")).expect("a slot");
        let second = claim_in(&dir, "r", &url("mqtt://127.0.0.1:1883")).expect("a slot");
        assert!(first.starts_with("r-") && first.ends_with("-0"), "{first}");
        assert!(second.ends_with("-1"), "{second}");
        // Another role, or another broker, has slots of its own.
        let other = claim_in(&dir, "s", &url("mqtt://127.0.0.1:1883")).expect("a slot");
        assert!(other.ends_with("-0"), "{other}");
        let elsewhere = claim_in(&dir, "r", &url("mqtt://user:pw@10.0.0.1:1883/")).expect("a slot");
        assert!(elsewhere.ends_with("-0"), "{elsewhere}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_slot_whose_holder_is_gone_is_taken_again() {
        let dir = dir();
        std::fs::create_dir_all(&dir).expect("dir");
        // A lock file left by a process that died: present, not locked.
        let key = format!("{}-r.0.lock", file_safe("b:1883"));
        std::fs::write(dir.join(key), b"").expect("file");
        let id = claim_in(&dir, "r", &url("mqtt://b:1883")).expect("a slot");
        assert!(id.ends_with("-0"), "{id}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_slot_folder_that_cannot_be_made_is_one_clear_error() {
        let file = std::env::temp_dir().join(format!("msgflo-slot-file-{}", uuid::Uuid::new_v4()));
        std::fs::write(&file, b"").expect("file");
        let error = claim_in(&file.join("slots"), "r", &url("mqtt://b")).expect_err("not a folder");
        assert!(
            error
                .to_string()
                .starts_with("cannot take a process slot in"),
            "{error}"
        );
        let _ = std::fs::remove_file(&file);
    }
}
