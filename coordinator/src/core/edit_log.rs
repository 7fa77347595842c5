//! The live edits a role's graph has had, in order: the FBP messages
//! (`{protocol, command, payload}`) that every participant of the role
//! present then applied. A participant joining the role later gets them
//! again (`replay.rs`). The log is bounded by [`EDIT_LOG_LIMIT`]: past it,
//! the log is dropped and the role's later participants are no longer
//! brought up to date (they are reported instead).

use serde_json::Value;

/// How many edits of one role's graph are kept for replaying.
pub const EDIT_LOG_LIMIT: usize = 4096;

/// One role's applied edits; see the module docs.
#[derive(Debug, Default)]
pub(super) struct EditLog {
    edits: Vec<Value>,
    overflowed: bool,
}

/// The log had [`EDIT_LOG_LIMIT`] edits and got one more: it no longer
/// says how the graph came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {EDIT_LOG_LIMIT} live edits: they are no longer kept for replaying")]
pub(super) struct Overflowed;

impl EditLog {
    /// Appends an applied edit; the first edit past the limit empties the
    /// log for good and says so.
    pub(super) fn push(&mut self, edit: Value) -> Result<(), Overflowed> {
        if self.overflowed {
            return Ok(());
        }
        if self.edits.len() >= EDIT_LOG_LIMIT {
            self.overflowed = true;
            self.edits = Vec::new();
            return Err(Overflowed);
        }
        self.edits.push(edit);
        Ok(())
    }

    /// Whether the graph was edited since the participants started from
    /// their file (also when the log overflowed).
    pub(super) fn edited(&self) -> bool {
        self.overflowed || !self.edits.is_empty()
    }

    /// `Err` when the log overflowed.
    pub(super) fn check(&self) -> Result<(), Overflowed> {
        if self.overflowed {
            Err(Overflowed)
        } else {
            Ok(())
        }
    }

    /// The edit at `step`.
    pub(super) fn get(&self, step: usize) -> Option<&Value> {
        self.edits.get(step)
    }

    /// How many edits are kept.
    pub(super) fn len(&self) -> usize {
        self.edits.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn past_the_limit_the_log_is_dropped_and_stays_so() {
        let mut log = EditLog::default();
        assert!(!log.edited());
        for n in 0..EDIT_LOG_LIMIT {
            assert_eq!(log.push(json!(n)), Ok(()));
        }
        assert_eq!(
            log.get(EDIT_LOG_LIMIT - 1),
            Some(&json!(EDIT_LOG_LIMIT - 1))
        );
        assert_eq!(log.push(json!("one more")), Err(Overflowed));
        assert_eq!((log.len(), log.edited()), (0, true));
        assert_eq!(log.check(), Err(Overflowed));
        assert_eq!(log.push(json!("later")), Ok(()), "said once");
        assert_eq!(log.len(), 0);
    }
}
