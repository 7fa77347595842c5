//! rumqttd 0.20's router panics are expected (see the parent module): the
//! broker starts afresh. Instead of Rust's panic message and backtrace on
//! stderr — which reads like the coordinator crashed — each is one log line;
//! panics of other threads keep the previous hook.

use std::sync::Once;

/// rumqttd names its router threads `router-<id>`.
const ROUTER_THREAD: &str = "router-";

/// Installs the hook (once per process).
pub(super) fn quiet_router_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if thread.name().is_some_and(|n| n.starts_with(ROUTER_THREAD)) {
                let location = info.location().map(ToString::to_string).unwrap_or_default();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::debug!(%location, message, "embedded MQTT broker: rumqttd's router panicked");
            } else {
                previous(info);
            }
        }));
    });
}
