//! The runtime registry (placeholder: being written).
