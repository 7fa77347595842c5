//! Turning lapin errors into one-line [`TransportError`]s, and telling
//! "the broker refused this" apart from "the connection is gone".

use super::super::TransportError;
use super::topology::QUEUE_TYPE_ARGUMENT;
use lapin::{protocol::AMQPErrorKind, ErrorKind};

/// What the broker or the OS said, without lapin's wrapping ("IO error: ",
/// "protocol error: "): `Connection refused (os error 111)`,
/// `PRECONDITION_FAILED - inequivalent arg ...`.
pub(super) fn reason(error: &lapin::Error) -> String {
    match error.kind() {
        ErrorKind::IOError(e) => e.to_string(),
        ErrorKind::ProtocolError(e) => e.get_message().as_str().to_owned(),
        _ => error.to_string(),
    }
}

/// The broker refused one operation and closed its channel (a soft error:
/// PRECONDITION_FAILED, NOT_FOUND, ACCESS_REFUSED, ...); the connection lives.
pub(super) fn is_refusal(error: &lapin::Error) -> bool {
    matches!(error.kind(), ErrorKind::ProtocolError(e) if matches!(e.kind(), AMQPErrorKind::Soft(_)))
}

/// `operation queue failed: reason`; when the queue exists with another
/// type, also what to do.
pub(super) fn broker(operation: &'static str, queue: &str, error: &lapin::Error) -> TransportError {
    let mut reason = reason(error);
    if reason.contains(&format!("inequivalent arg '{QUEUE_TYPE_ARGUMENT}'")) {
        reason.push_str(TYPE_HINT);
    }
    TransportError::Broker {
        operation,
        queue: queue.to_owned(),
        reason,
    }
}

/// Said after the broker's refusal to declare a queue as another type.
const TYPE_HINT: &str = " (a queue's type cannot change: every participant of a role must \
     declare its inports with the same queue type, msgflo-participant --queue-type or \
     MSGFLO_QUEUE_TYPE; or delete the queue)";

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::protocol::{AMQPError, AMQPHardError, AMQPSoftError};
    use std::io;

    fn protocol(kind: AMQPErrorKind, text: &str) -> lapin::Error {
        ErrorKind::ProtocolError(AMQPError::new(kind, text.into())).into()
    }

    #[test]
    fn reasons_are_the_bare_cause() {
        let refused: lapin::Error = io::Error::from(io::ErrorKind::ConnectionRefused).into();
        assert_eq!(reason(&refused), "connection refused");
        let pre = protocol(
            AMQPSoftError::PRECONDITIONFAILED.into(),
            "PRECONDITION_FAILED - inequivalent arg",
        );
        assert_eq!(reason(&pre), "PRECONDITION_FAILED - inequivalent arg");
        let err = broker("declare inport", "a.IN", &pre).to_string();
        assert_eq!(
            err,
            "declare inport a.IN failed: PRECONDITION_FAILED - inequivalent arg"
        );
    }

    #[test]
    fn a_queue_of_another_type_says_what_to_do() {
        let pre = protocol(
            AMQPSoftError::PRECONDITIONFAILED.into(),
            "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'a.IN' in vhost '/': received none but current is the value 'quorum' of type 'longstr'",
        );
        let err = broker("declare inport", "a.IN", &pre).to_string();
        assert!(err.ends_with(TYPE_HINT), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn only_soft_errors_are_refusals() {
        let soft = protocol(AMQPSoftError::NOTFOUND.into(), "NOT_FOUND - no queue");
        let hard = protocol(AMQPHardError::CONNECTIONFORCED.into(), "CONNECTION_FORCED");
        let io: lapin::Error = io::Error::from(io::ErrorKind::ConnectionReset).into();
        assert!(is_refusal(&soft));
        assert!(!is_refusal(&hard));
        assert!(!is_refusal(&io));
    }
}
