//! The precedence, one test per layer over the next, and the mistakes.

use super::keys::{BROKER, PORT, REGISTRY, SECRET};
use super::*;
use std::collections::HashMap;
use std::path::Path;

const KEYS: &[&Key] = &[&BROKER, &PORT, &SECRET, &REGISTRY];

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Self(tempfile::tempdir().expect("temp dir"))
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

fn inputs(env: &[(&str, &str)], system: Option<&Path>, user: Option<&Path>) -> Inputs {
    Inputs {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        system_file: system.map(Path::to_path_buf),
        user_file: user.map(Path::to_path_buf),
        user_file_required: false,
    }
}

fn port(flags: Flags, inputs: &Inputs) -> (u16, String) {
    let settings = Settings::load("test", KEYS, flags, inputs).expect("settings");
    let origin = settings.get(&PORT).expect("port").origin.clone();
    (settings.require::<u16>(&PORT).expect("a port"), origin)
}

#[test]
fn the_default_is_used_when_nothing_else_sets_a_key() {
    assert_eq!(
        port(Flags::new(), &inputs(&[], None, None)),
        (3569, "default".into())
    );
}

#[test]
fn the_system_file_wins_over_the_default() {
    let dir = Dir::new();
    let system = dir.file("system.toml", "port = 1001\n");
    let got = port(Flags::new(), &inputs(&[], Some(&system), None));
    assert_eq!(got, (1001, system.display().to_string()));
}

#[test]
fn the_user_file_wins_over_the_system_file() {
    let dir = Dir::new();
    let system = dir.file("system.toml", "port = 1001\n");
    let user = dir.file("user.toml", "port = 1002\n");
    let got = port(Flags::new(), &inputs(&[], Some(&system), Some(&user)));
    assert_eq!(got, (1002, user.display().to_string()));
}

#[test]
fn the_environment_wins_over_the_user_file() {
    let dir = Dir::new();
    let user = dir.file("user.toml", "port = 1002\n");
    let got = port(
        Flags::new(),
        &inputs(&[("MSGFLO_LISTEN_PORT", "1003")], None, Some(&user)),
    );
    assert_eq!(got, (1003, "$MSGFLO_LISTEN_PORT".into()));
}

#[test]
fn a_flag_wins_over_the_environment() {
    let flags = Flags::new().with(&PORT, Some(1004));
    let got = port(
        flags,
        &inputs(&[("MSGFLO_LISTEN_PORT", "1003")], None, None),
    );
    assert_eq!(got, (1004, "--port".into()));
}

#[test]
fn the_first_set_variable_of_a_key_wins_and_blank_ones_do_not_count() {
    let env = inputs(
        &[("MSGFLO_BROKER", " "), ("CLOUDAMQP_URL", "amqp://cloud")],
        None,
        None,
    );
    let settings = Settings::load("test", KEYS, Flags::new(), &env).expect("settings");
    assert_eq!(settings.text(&BROKER), Some("amqp://cloud"));
    assert_eq!(
        settings.get(&BROKER).map(|s| s.origin.as_str()),
        Some("$CLOUDAMQP_URL")
    );
}

#[test]
fn an_unknown_key_in_a_file_names_the_file_and_a_likely_key() {
    let dir = Dir::new();
    let user = dir.file("user.toml", "prot = 1\n");
    let err = Settings::load("test", KEYS, Flags::new(), &inputs(&[], None, Some(&user)))
        .expect_err("unknown key");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: unknown key `prot` (did you mean `port`?)",
            user.display()
        )
    );
}

#[test]
fn a_wrong_type_in_a_file_names_the_file_the_key_and_what_was_expected() {
    let dir = Dir::new();
    // A key this program does not read is checked all the same.
    let system = dir.file(
        "system.toml",
        "broker = \"amqp://x\"\nprefetch = \"many\"\n",
    );
    let err = Settings::load(
        "test",
        KEYS,
        Flags::new(),
        &inputs(&[], Some(&system), None),
    )
    .expect_err("wrong type");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: prefetch: expected a whole number, 0 or more, got \"many\"",
            system.display()
        )
    );
    let table = dir.file("table.toml", "[port]\nx = 1\n");
    let err = Settings::load("test", KEYS, Flags::new(), &inputs(&[], Some(&table), None))
        .expect_err("a table");
    assert!(err
        .to_string()
        .ends_with("port: expected a port number (0-65535), got a table"));
}

#[test]
fn a_file_that_is_not_toml_is_one_line_naming_it() {
    let dir = Dir::new();
    let user = dir.file("user.toml", "port = = 3\n[\n");
    let err = Settings::load("test", KEYS, Flags::new(), &inputs(&[], None, Some(&user)))
        .expect_err("not TOML");
    let text = err.to_string();
    assert!(text.starts_with(&user.display().to_string()), "{text}");
    assert!(!text.contains('\n'), "{text}");
}

#[test]
fn a_wrong_value_in_the_environment_names_the_variable() {
    let env = inputs(&[("MSGFLO_LISTEN_PORT", "http")], None, None);
    let err = Settings::load("test", KEYS, Flags::new(), &env).expect_err("wrong port");
    assert_eq!(
        err.to_string(),
        "$MSGFLO_LISTEN_PORT: port: expected a port number (0-65535), got \"http\""
    );
}

#[test]
fn a_file_named_explicitly_must_exist() {
    let mut given = inputs(&[], None, Some(Path::new("/nonexistent/msgflo.toml")));
    assert!(Settings::load("test", KEYS, Flags::new(), &given).is_ok());
    given.user_file_required = true;
    let err = Settings::load("test", KEYS, Flags::new(), &given).expect_err("missing");
    assert_eq!(err.to_string(), "/nonexistent/msgflo.toml: no such file");
}

#[test]
fn print_config_shows_values_origins_and_masks_secrets() {
    let dir = Dir::new();
    let user = dir.file("user.toml", "secret = \"hunter2\"\nport = 1002\n");
    let env = inputs(
        &[],
        Some(Path::new("/nonexistent/system.toml")),
        Some(&user),
    );
    let settings = Settings::load("msgflo", KEYS, Flags::new(), &env).expect("settings");
    let text = settings.print();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.contains(&format!("secret = \"********\"  # {}", user.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("port = 1002  # {}", user.display())),
        "{text}"
    );
    assert!(
        text.contains("broker = \"amqp://localhost\"  # default"),
        "{text}"
    );
    assert!(text.contains("# registry = (not set)"), "{text}");
    assert!(
        text.contains("# /nonexistent/system.toml: not found"),
        "{text}"
    );
    // What it prints is a settings file that reads back the same.
    let again = dir.file("again.toml", &text);
    let reread = Settings::load(
        "msgflo",
        KEYS,
        Flags::new(),
        &inputs(&[], None, Some(&again)),
    )
    .expect("printed settings read back");
    assert_eq!(reread.require::<u16>(&PORT).ok(), Some(1002));
}

#[test]
fn a_key_nothing_sets_is_missing_with_a_hint() {
    let settings = Settings::load("test", KEYS, Flags::new(), &Inputs::default()).expect("ok");
    assert_eq!(settings.parse::<String>(&REGISTRY).ok(), Some(None));
    assert_eq!(
        settings
            .require::<String>(&REGISTRY)
            .expect_err("missing")
            .to_string(),
        "registry is not set (give --registry, $MSGFLO_REGISTRY or `registry` in a settings file)"
    );
}

#[test]
fn an_empty_value_unsets_a_key_without_a_default() {
    let dir = Dir::new();
    let system = dir.file("system.toml", "registry = \"http://registry:8080\"\n");
    let user = dir.file("user.toml", "registry = \"\"\n");
    let both = inputs(&[], Some(&system), Some(&user));
    let settings = Settings::load("test", KEYS, Flags::new(), &both).expect("settings");
    assert_eq!(settings.get(&REGISTRY), None);
    let flag = Flags::new().with(&REGISTRY, Some(""));
    let settings =
        Settings::load("test", KEYS, flag, &inputs(&[], Some(&system), None)).expect("settings");
    assert_eq!(settings.get(&REGISTRY), None);
    // A key with a default is not unset: an empty port is a mistake.
    let empty_port = dir.file("port.toml", "port = \"\"\n");
    let err = Settings::load(
        "test",
        KEYS,
        Flags::new(),
        &inputs(&[], Some(&empty_port), None),
    );
    assert!(err.is_err());
}
