//! What every msgflo-rs command-line program shares: logging to stderr
//! (`RUST_LOG`, default `warn`; lapin's and the embedded broker's rumqttd
//! logs off), the async runtime, one-line errors with the
//! program's name and exit code 1, SIGTERM/SIGINT, and reading the
//! environment.

use std::future::Future;
use std::process::ExitCode;

/// Runs `program` on a tokio runtime with logging set up; an error is
/// printed as `NAME: message` on stderr and exits with code 1.
pub fn main<F>(name: &str, program: F) -> ExitCode
where
    F: Future<Output = Result<(), String>>,
{
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,lapin=off,rumqttd=off")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{name}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(program) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{name}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The value of environment variable `name`, unless unset or blank.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The broker URL: `given`, else `MSGFLO_BROKER`, else `CLOUDAMQP_URL`, else
/// `amqp://localhost` (msgflo's order).
pub fn broker(given: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| env("MSGFLO_BROKER"))
        .or_else(|| env("CLOUDAMQP_URL"))
        .unwrap_or_else(|| "amqp://localhost".into())
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
