//! `msgflo-registry`: the runtime registry server and its user admin; see
//! the `msgflo_registry` crate. Flags are read into plain
//! `msgflo_registry::Options` here and nowhere else.

use clap::{Parser, Subcommand};
use msgflo_cli as cli;
use msgflo_cli::settings::{keys, Flags, Key, Settings, SettingsArgs};
use msgflo_registry::ids::UserName;
use msgflo_registry::options::{self, Options};
use msgflo_registry::{api, Store};
use std::net::SocketAddr;
use std::process::ExitCode;

/// A runtime registry you can host: Flowhub's registry API on SQLite or PostgreSQL.
#[derive(Parser, Debug)]
#[command(name = "msgflo-registry", version)]
struct Args {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default:
    /// $MSGFLO_REGISTRY_DATABASE, `registry_database` in a settings file,
    /// sqlite://$XDG_DATA_HOME/msgflo/registry.sqlite, else under ~/.local/share].
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
    /// `--config`, `--print-config`, `--log-format`.
    #[command(flatten)]
    settings: SettingsArgs,
}

/// The settings it reads.
const KEYS: &[&Key] = &[
    &keys::REGISTRY_LISTEN,
    &keys::REGISTRY_DATABASE,
    &keys::OFFLINE_AFTER,
];

impl Args {
    /// The settings given as flags.
    fn flags(&self) -> Flags {
        let (listen, offline_after) = match &self.command {
            Command::Serve {
                listen,
                offline_after,
            } => (listen.as_ref(), offline_after.as_ref()),
            Command::User(_) => (None, None),
        };
        Flags::new()
            .with_flag(
                &keys::REGISTRY_DATABASE,
                "--database",
                self.database.as_ref(),
            )
            .with_flag(&keys::REGISTRY_LISTEN, "--listen", listen)
            .with_flag(&keys::OFFLINE_AFTER, "--offline-after", offline_after)
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the registry's HTTP API.
    Serve {
        /// Address to listen on (port 0: any free port) [default:
        /// $MSGFLO_REGISTRY_LISTEN, `registry_listen` in a settings file,
        /// 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Runtimes not seen for this many seconds are listed offline
        /// [default: $MSGFLO_OFFLINE_AFTER, `offline_after` in a settings
        /// file, 900].
        #[arg(long, value_name = "SECONDS")]
        offline_after: Option<f64>,
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
    /// Revoke a token: requests with it get 401 from now on.
    Revoke { token: String },
    /// Remove a user with their tokens and runtimes.
    Remove { name: String },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (settings, flags) = (args.settings.clone(), args.flags());
    cli::start(
        "msgflo-registry",
        &settings,
        KEYS,
        flags,
        |settings| async move {
            let database = match settings.string(&keys::REGISTRY_DATABASE) {
                Some(url) => url,
                None => default_database()?,
            };
            match args.command {
                Command::Serve { .. } => serve(server_options(&settings, database)?).await,
                Command::User(command) => user(&database, command).await,
            }
        },
    )
}

/// What `serve` is told: `database`, and the listening address and expiry
/// the settings say.
fn server_options(settings: &Settings, database: String) -> Result<Options, String> {
    let listen: String = settings
        .require(&keys::REGISTRY_LISTEN)
        .map_err(|e| e.to_string())?;
    let origin = |key: &Key| {
        settings
            .get(key)
            .map(|s| s.origin.clone())
            .unwrap_or_default()
    };
    let listen: SocketAddr = listen.parse().map_err(|_| {
        format!(
            "{}: registry_listen: expected an address:port such as 127.0.0.1:8080, got {listen:?}",
            origin(&keys::REGISTRY_LISTEN)
        )
    })?;
    let offline_after: String = settings
        .require(&keys::OFFLINE_AFTER)
        .map_err(|e| e.to_string())?;
    let offline_after = options::parse_seconds(&offline_after)
        .map_err(|e| format!("{}: offline_after: {e}", origin(&keys::OFFLINE_AFTER)))?;
    Ok(Options {
        listen,
        database,
        offline_after,
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
        UserCommand::Revoke { token } => {
            let user = store
                .revoke_token(&token)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            let user = user.ok_or("no user has this token (revoked already?)")?;
            println!("revoked a token of {} ({})", user.name, user.id);
            return Ok(());
        }
        UserCommand::Remove { name: given } => {
            let user = store
                .remove_user(&name(&given)?)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            println!(
                "removed {} ({}) with their tokens and runtimes",
                user.name, user.id
            );
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
    fn the_settings_table_says_the_servers_defaults() {
        let offline_after = keys::OFFLINE_AFTER.default.expect("a default");
        assert_eq!(
            options::parse_seconds(offline_after),
            Ok(msgflo_registry::expiry::DEFAULT_OFFLINE_AFTER)
        );
        assert_eq!(keys::REGISTRY_LISTEN.default, Some(options::DEFAULT_LISTEN));
    }

    #[test]
    fn the_flags_parse() {
        Args::command().debug_assert();
    }
}
