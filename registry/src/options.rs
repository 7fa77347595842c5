//! What `msgflo-registry serve` is given, as a plain struct with named
//! defaults; the binary reads the values from the settings (flags, the
//! environment, settings files: `msgflo_cli::settings`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where the server listens unless told: this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The SQLite file under the data folder: `msgflo/registry.sqlite`.
pub const DEFAULT_DATABASE_FILE: &str = "msgflo/registry.sqlite";

/// The server's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where to listen (port 0: any free port, named in the ready line).
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://...`.
    pub database: String,
    /// A runtime not seen for this long is listed offline.
    pub offline_after: Duration,
}

/// The default database file: `$XDG_DATA_HOME/msgflo/registry.sqlite`, else
/// `~/.local/share/msgflo/registry.sqlite`; `None` without either variable.
pub fn default_database_file() -> Option<PathBuf> {
    database_file(
        std::env::var("XDG_DATA_HOME").ok(),
        std::env::var("HOME").ok(),
    )
}

/// The default database file given `$XDG_DATA_HOME` and `$HOME` (an
/// empty or relative `XDG_DATA_HOME` is ignored, as the XDG spec says).
pub fn database_file(xdg_data_home: Option<String>, home: Option<String>) -> Option<PathBuf> {
    let data = xdg_data_home
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            home.filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".local/share"))
        })?;
    Some(data.join(DEFAULT_DATABASE_FILE))
}

/// The SQLite URL of `file`.
pub fn sqlite_url(file: &std::path::Path) -> String {
    format!("sqlite://{}", file.display())
}

/// A positive number of seconds (`900`, `0.5`).
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_lives_under_xdg_data_home_else_home() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            database_file(some("/data"), some("/home/a")),
            Some(PathBuf::from("/data/msgflo/registry.sqlite"))
        );
        for xdg in [None, some(""), some("relative")] {
            assert_eq!(
                database_file(xdg, some("/home/a")),
                Some(PathBuf::from("/home/a/.local/share/msgflo/registry.sqlite"))
            );
        }
        assert_eq!(database_file(None, None), None);
    }

    #[test]
    fn sqlite_urls_of_absolute_paths_have_three_slashes() {
        assert_eq!(
            sqlite_url(std::path::Path::new("/d/r.sqlite")),
            "sqlite:///d/r.sqlite"
        );
    }

    #[test]
    fn seconds_are_positive_numbers() {
        assert_eq!(parse_seconds("900"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "x", "", "NaN", "inf"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
