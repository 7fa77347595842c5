//! The component library (`--library`, `--componentdir`) (to come).
