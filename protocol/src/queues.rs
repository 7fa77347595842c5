//! The queue names that are wire contracts with msgflo's participants
//! (Node.js, Python) and tools, in one place: where nacked messages go,
//! where a participant takes and answers control messages, and where
//! discovery goes ([`crate::discovery::discovery_queue_name`]). Transports
//! shape their queues by these names (a dead-letter or control queue gets
//! no dead-letter queue of its own).

use crate::ids::QueueName;

/// What msgflo puts before an inport's name to name its dead-letter queue.
pub const DEAD_LETTER_PREFIX: &str = "dead-";

/// What a participant's control queues start with (`.fbp.ID.receive`,
/// `.fbp.ID.send`), as noflo-runtime-msgflo names them.
pub const CONTROL_PREFIX: &str = ".fbp.";

/// The dead-letter queue of an inport: where its nacked messages go.
pub fn dead_letter_queue(inport: &QueueName) -> QueueName {
    // A valid queue name prefixed with plain text stays valid.
    QueueName::new(format!("{DEAD_LETTER_PREFIX}{inport}")).unwrap_or_else(|_| inport.clone())
}

/// Whether `queue` is a dead-letter queue.
pub fn is_dead_letter(queue: &str) -> bool {
    queue.starts_with(DEAD_LETTER_PREFIX)
}

/// Whether `queue` is a participant's control queue.
pub fn is_control(queue: &str) -> bool {
    queue.starts_with(CONTROL_PREFIX)
}

/// The queue a participant takes control messages from.
pub fn control_receive_queue(participant_id: &str) -> String {
    format!("{CONTROL_PREFIX}{participant_id}.receive")
}

/// The queue a participant answers control messages on.
pub fn control_send_queue(participant_id: &str) -> String {
    format!("{CONTROL_PREFIX}{participant_id}.send")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgflo_names() {
        let inport = QueueName::new("repeat.IN").expect("valid");
        assert_eq!(dead_letter_queue(&inport).as_str(), "dead-repeat.IN");
        assert!(is_dead_letter("dead-repeat.IN") && !is_dead_letter("repeat.IN"));
        assert_eq!(control_receive_queue("r-1"), ".fbp.r-1.receive");
        assert_eq!(control_send_queue("r-1"), ".fbp.r-1.send");
        assert!(is_control(".fbp.r-1.send") && !is_control("fbp"));
    }
}
