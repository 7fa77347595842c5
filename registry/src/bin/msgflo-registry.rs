//! `msgflo-registry`: the runtime registry server and its user admin; see
//! the `msgflo_registry` crate. Flags are read into plain
//! `msgflo_registry::Options` here and nowhere else.

use clap::{Parser, Subcommand};
use msgflo_cli as cli;
use msgflo_cli::logging::LogFormat;
use msgflo_registry::ids::UserName;
use msgflo_registry::options::{self, Options};
use msgflo_registry::{api, Store};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// A runtime registry you can host: Flowhub's registry API on SQLite or PostgreSQL.
#[derive(Parser, Debug)]
#[command(name = "msgflo-registry", version)]
struct Args {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default:
    /// sqlite://$XDG_DATA_HOME/msgflo/registry.sqlite, else under ~/.local/share].
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
    /// Log format on stderr: text or json (one object per line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text,
          env = "MSGFLO_LOG_FORMAT")]
    log_format: LogFormat,
}

/// `--offline-after`'s default: `msgflo_registry::expiry::DEFAULT_OFFLINE_AFTER`.
const DEFAULT_OFFLINE_AFTER: &str = "900";

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the registry's HTTP API.
    Serve {
        /// Address to listen on (port 0: any free port).
        #[arg(long, value_name = "ADDR", default_value = options::DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Runtimes not seen for this many seconds are listed offline.
        #[arg(long, value_name = "SECONDS", value_parser = options::parse_seconds,
              default_value = DEFAULT_OFFLINE_AFTER)]
        offline_after: Duration,
    },
    /// Manage users and their tokens.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Add a user; prints its id and a first token.
    Add { name: String },
    /// Make another token for a user; prints it.
    Token { name: String },
    /// List the users with how many tokens and runtimes each has.
    List,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main("msgflo-registry", args.log_format, async move {
        let database = match args.database {
            Some(url) => url,
            None => default_database()?,
        };
        match args.command {
            Command::Serve {
                listen,
                offline_after,
            } => {
                let options = Options {
                    listen,
                    database,
                    offline_after,
                };
                serve(options).await
            }
            Command::User(command) => user(&database, command).await,
        }
    })
}

async fn serve(options: Options) -> Result<(), String> {
    let shutdown = cli::shutdown_signal();
    let store = Store::open(&options.database)
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    println!("msgflo-registry listening on http://{address}");
    let settings = api::Settings {
        offline_after: options.offline_after,
    };
    api::serve(listener, store, settings, shutdown)
        .await
        .map_err(|e| format!("serving on {address}: {e}"))
}

async fn user(database: &str, command: UserCommand) -> Result<(), String> {
    let name = |name: &str| UserName::parse(name).map_err(|e| e.to_string());
    let store = Store::open(database).await.map_err(|e| e.to_string())?;
    let done = match command {
        UserCommand::Add { name: given } => store.add_user(&name(&given)?).await,
        UserCommand::Token { name: given } => store.add_token(&name(&given)?).await,
        UserCommand::List => {
            let users = store.users().await.map_err(|e| e.to_string())?;
            for s in users {
                println!(
                    "{}\t{}\ttokens {}\truntimes {}",
                    s.user.id, s.user.name, s.tokens, s.runtimes
                );
            }
            store.close().await;
            return Ok(());
        }
    };
    let (user, token) = done.map_err(|e| e.to_string())?;
    println!("user {}", user.id);
    println!("token {}", token.as_str());
    store.close().await;
    Ok(())
}

/// The default SQLite file, its folder created (for its owner only: the
/// file holds the runtimes' secrets).
fn default_database() -> Result<String, String> {
    use std::os::unix::fs::DirBuilderExt as _;
    let file = options::default_database_file()
        .ok_or("no --database given, and neither $XDG_DATA_HOME nor $HOME is set")?;
    if let Some(dir) = file.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    Ok(options::sqlite_url(&file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn offline_after_defaults_to_the_librarys_default() {
        assert_eq!(
            options::parse_seconds(DEFAULT_OFFLINE_AFTER),
            Ok(msgflo_registry::expiry::DEFAULT_OFFLINE_AFTER)
        );
    }

    #[test]
    fn the_flags_parse() {
        Args::command().debug_assert();
    }
}
