//! Spawning and reaping participant processes (to come).
