//! The options every program takes about its settings: `--config FILE`,
//! `--print-config` and `--log-format`; flatten [`SettingsArgs`] into a
//! program's clap arguments.

use super::{keys, Flags, Inputs, Key, Settings};
use crate::logging::LogFormat;
use std::path::PathBuf;
use std::process::ExitCode;

/// `--config`, `--print-config`, `--log-format` (global: a program with
/// subcommands takes them after its subcommand too).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SettingsArgs {
    /// Settings file read instead of the user's
    /// ($XDG_CONFIG_HOME/msgflo/config.toml), by this program and those it
    /// starts [default: $MSGFLO_CONFIG].
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Print the effective settings, where each came from (flag,
    /// environment, file, default), and exit.
    #[arg(long, global = true)]
    pub print_config: bool,
    /// Log format on stderr: text (coloured only on a terminal) or json (one
    /// object per line) [default: $MSGFLO_LOG_FORMAT, text].
    #[arg(long, value_enum, global = true)]
    pub log_format: Option<LogFormat>,
}

impl SettingsArgs {
    /// The settings of `program` (which reads `keys`, plus `log_format`)
    /// under `flags`. With `--print-config` prints them and ends the
    /// program (`Err(SUCCESS)`); a mistake is one line on stderr and
    /// `Err(FAILURE)`.
    pub fn load(
        &self,
        program: &str,
        keys: &[&'static Key],
        flags: Flags,
    ) -> Result<Settings, ExitCode> {
        let mut all = vec![&keys::LOG_FORMAT];
        all.extend(
            keys.iter()
                .copied()
                .filter(|k| k.name != keys::LOG_FORMAT.name),
        );
        let flags = flags.with(&keys::LOG_FORMAT, self.log_format.map(LogFormat::as_str));
        let inputs = Inputs::from_process(self.config.as_deref());
        if let Some(file) = &self.config {
            // The programs this one starts (a coordinator's participants)
            // read the same file.
            let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
            // `set_var` is safe to call in edition 2021, and sound here: this
            // runs in `main` before any other thread (the async runtime)
            // exists to read the environment meanwhile.
            std::env::set_var(super::CONFIG_FILE_ENV, file);
        }
        match Settings::load(program, &all, flags, &inputs) {
            Ok(settings) if self.print_config => {
                print!("{}", settings.print());
                Err(ExitCode::SUCCESS)
            }
            Ok(settings) => Ok(settings),
            Err(e) => {
                eprintln!("{program}: {e}");
                Err(ExitCode::FAILURE)
            }
        }
    }
}
