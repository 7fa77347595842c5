//! The graphs the runtime holds, changed by `graph:*` commands (to come).
