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
    let prefix = prefix(role, broker);
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
                mark(&file, SESSION_HELD).map_err(io)?;
                HELD.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(file);
                return Ok(slot_id(role, n));
            }
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    Err(SlotError::Full {
        role: role.to_owned(),
    })
}

/// What a slot file says while its holder may have a session on the
/// broker; empty once the session was ended (a clean stop) or adopted.
const SESSION_HELD: &[u8] = b"session\n";

/// Writes `content` as the whole of the slot file `file` (held locked).
fn mark(file: &File, content: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek, Write};
    let mut file = file;
    file.set_len(0)?;
    file.seek(std::io::SeekFrom::Start(0))?;
    file.write_all(content)
}

/// The slots this process holds ended their sessions (a clean stop): no
/// one is to adopt them.
pub fn mark_ended() {
    let held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for file in held.iter() {
        if let Err(error) = mark(file, b"") {
            tracing::debug!(%error, "could not mark a slot file as ended");
        }
    }
}

/// A slot of this role whose holder died with its session on the broker:
/// locked by this process until [`Orphan::adopted`] or dropped.
#[derive(Debug)]
pub struct Orphan {
    /// The participant id (MQTT client id) the dead holder had.
    pub id: String,
    file: File,
}

impl Orphan {
    /// Its session was adopted: nobody needs to again.
    pub fn adopted(self) {
        if let Err(error) = mark(&self.file, b"") {
            tracing::debug!(%error, id = %self.id, "could not mark an adopted slot file");
        }
    }
}

/// The slots of `role` on `broker` on this machine that no process holds
/// while their holder's session may still be on the broker: the holder was
/// killed. Each is locked for the caller (so nobody starts in it, and no
/// other process adopts it) until the [`Orphan`] is dropped.
pub fn orphans(role: &str, broker: &BrokerUrl) -> Vec<Orphan> {
    orphans_in(&default_dir(), role, broker)
}

/// [`orphans`] with slot files in `dir`.
pub fn orphans_in(dir: &Path, role: &str, broker: &BrokerUrl) -> Vec<Orphan> {
    let prefix = format!("{}.", prefix(role, broker));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|name| name.strip_prefix(&prefix))
            .and_then(|rest| rest.strip_suffix(".lock"))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let Ok(file) = OpenOptions::new().read(true).write(true).open(entry.path()) else {
            continue;
        };
        if file.try_lock().is_err() {
            continue; // held: its process lives (maybe this one)
        }
        let mut content = Vec::new();
        let held = std::io::Read::read_to_end(&mut &file, &mut content).is_ok_and(|len| len > 0);
        if held {
            found.push(Orphan {
                id: slot_id(role, n),
                file,
            });
        }
    }
    found
}

/// The participant id slot `n` of `role` gives: `<role>-<host>-<n>`.
fn slot_id(role: &str, n: usize) -> String {
    format!("{role}-{}-{n}", host())
}

/// The start of the slot file names of `role` on `broker` (by host and
/// port, without credentials or path).
fn prefix(role: &str, broker: &BrokerUrl) -> String {
    let broker = format!("{}:{}", broker.host, broker.port);
    format!("{}-{}", file_safe(broker), file_safe(role))
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
    fn orphans_are_unheld_slots_whose_session_was_not_ended() {
        let dir = dir();
        let broker = url("mqtt://b:1883");
        let held = claim_in(&dir, "r", &broker).expect("a slot");
        assert!(held.ends_with("-0"), "{held}");
        let own = prefix("r", &broker);
        // Slot 1: its holder was killed; slot 2: it stopped cleanly.
        std::fs::write(dir.join(format!("{own}.1.lock")), SESSION_HELD).expect("file");
        std::fs::write(dir.join(format!("{own}.2.lock")), b"").expect("file");
        std::fs::write(
            dir.join(format!("{}.1.lock", prefix("s", &broker))),
            SESSION_HELD,
        )
        .expect("another role's");
        let found = orphans_in(&dir, "r", &broker);
        let ids: Vec<&str> = found.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert!(
            ids[0].starts_with("r-") && ids[0].ends_with("-1"),
            "{ids:?}"
        );
        // While it is being adopted, nobody starts in it or adopts it too.
        assert!(orphans_in(&dir, "r", &broker).is_empty());
        let next = claim_in(&dir, "r", &broker).expect("a slot");
        assert!(next.ends_with("-2"), "{next}");
        found.into_iter().for_each(Orphan::adopted);
        assert!(orphans_in(&dir, "r", &broker).is_empty(), "adopted once");
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
