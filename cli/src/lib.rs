//! What every msgflo-rs command-line program shares (the participant's
//! and the coordinator's): logging to stderr ([`logging`]: `RUST_LOG`,
//! `--log-format`), the async runtime, one-line errors with the program's
//! name and exit code 1, SIGTERM/SIGINT, and the settings (flags, the
//! environment, settings files).
//!
//! # Layout
//! - this file — [`main`] (and [`main_with`], more layers in the
//!   subscriber), [`start`], [`shutdown_signal`];
//! - `logging.rs` — [`logging`]: the log format and subscriber;
//! - `settings/` — [`settings`]: every program's settings, from flags, the
//!   environment and settings files (the `config` crate), `--print-config`.

pub mod logging;
pub mod settings;

use logging::LogFormat;
use std::future::Future;
use std::process::ExitCode;

/// Runs `program` on a tokio runtime with logging in `log_format`; an
/// error is printed as `NAME: message` on stderr (a JSON object with
/// `--log-format json`) and exits with code 1.
pub fn main<F>(name: &str, log_format: LogFormat, program: F) -> ExitCode
where
    F: Future<Output = Result<(), String>>,
{
    main_with(name, log_format, Vec::new(), program)
}

/// [`main`], with `layers` in the global subscriber beside the log lines
/// (see [`logging::init_with`]).
pub fn main_with<F>(
    name: &str,
    log_format: LogFormat,
    layers: Vec<logging::BoxedLayer>,
    program: F,
) -> ExitCode
where
    F: Future<Output = Result<(), String>>,
{
    logging::init_with(log_format, layers);
    let result = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(program),
        Err(e) => Err(format!("cannot start the async runtime: {e}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            match log_format {
                LogFormat::Text => eprintln!("{name}: {message}"),
                LogFormat::Json => eprintln!(
                    "{}",
                    serde_json::json!({"level": "ERROR", "target": name, "message": message})
                ),
            }
            ExitCode::FAILURE
        }
    }
}

/// Reads the settings of program `name` (it reads `keys`; `flags` are
/// those given on its command line), then [`main`]s `program` with them.
/// `--print-config` prints them instead; a settings mistake is one line
/// and exit code 1.
pub fn start<P, F>(
    name: &str,
    args: &settings::SettingsArgs,
    keys: &[&'static settings::Key],
    flags: settings::Flags,
    program: P,
) -> ExitCode
where
    P: FnOnce(settings::Settings) -> F,
    F: Future<Output = Result<(), String>>,
{
    match args.load(name, keys, flags) {
        Ok(settings) => main(name, settings.log_format(), program(settings)),
        Err(code) => code,
    }
}

/// SIGTERM or SIGINT. The handlers are installed when this is called, not
/// when the future is first polled: a signal that arrives right after the
/// ready line must stop the program cleanly, not kill it.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        match (term, int) {
            (Some(mut term), Some(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
