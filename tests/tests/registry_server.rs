//! Issue 18, `msgflo-registry`: the runtime registry server, run as its
//! binary on real storage — a SQLite file, and PostgreSQL (a database of
//! each test's own, dropped after). npm `flowhub-registry` 0.2.0 registers,
//! pings, gets, lists and deletes; a restart keeps users and runtimes;
//! requests without a valid token, or with another user's, are refused and
//! change nothing (checked by listing); `user revoke` and `user remove` take
//! effect while it serves; bad input gets its status and one line of JSON,
//! on both databases; runtimes not seen for `--offline-after` list offline
//! and stay; a database that cannot be used stops the start in one line.

use anyhow::{ensure, Result};
use msgflo_tests::registry_server::{add_user, command, Account, Flowhub, Http, Registry, Storage};
use serde_json::{json, Value};
use std::time::Duration;

fn runtime(id: &str, user: &str, label: &str) -> Value {
    json!({"id": id, "user": user, "address": "ws://127.0.0.1:3569", "protocol": "websocket",
           "type": "msgflo", "label": label, "description": "a test runtime", "secret": "s3cret"})
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Everything flowhub-registry does, against `storage`.
async fn flowhub_client_round_trip(storage: Storage) -> Result<()> {
    let flowhub = Flowhub::install()?;
    let alice = add_user(storage.url(), "alice").await?;
    let bob = add_user(storage.url(), "bob").await?;
    let registry = Registry::start(storage.url(), &[]).await?;
    let host = registry.url.as_str();
    let id = new_id();
    let mine = runtime(&id, &alice.id, "Main");

    let created = flowhub
        .run(host, "register", Some(&alice.token), &mine)
        .await?;
    assert_eq!(created["ok"]["status"], 201, "{created}");
    assert_eq!(created["ok"]["body"]["state"], "online", "{created}");
    let registered = created["ok"]["body"]["registered"].clone();

    let mut relabelled = mine.clone();
    relabelled["label"] = json!("Main, renamed");
    let updated = flowhub
        .run(host, "register", Some(&alice.token), &relabelled)
        .await?;
    assert_eq!(updated["ok"]["status"], 200, "{updated}");
    assert_eq!(
        updated["ok"]["body"]["registered"], registered,
        "registered is kept"
    );

    tokio::time::sleep(Duration::from_millis(20)).await;
    let pinged = flowhub.run(host, "ping", None, &json!({"id": id})).await?;
    assert_eq!(pinged, json!({"ok": null}));

    let got = flowhub
        .run(host, "get", Some(&alice.token), &json!({"id": id}))
        .await?;
    let got = &got["ok"];
    for (key, value) in [
        ("id", json!(id)),
        ("user", json!(alice.id)),
        ("address", json!("ws://127.0.0.1:3569")),
        ("protocol", json!("websocket")),
        ("type", json!("msgflo")),
        ("label", json!("Main, renamed")),
        ("description", json!("a test runtime")),
        ("secret", json!("s3cret")),
        ("registered", registered.clone()),
        ("online", json!(true)),
        ("state", json!("online")),
    ] {
        assert_eq!(got[key], value, "{key} of {got}");
    }
    // The client made Dates of them; the ping moved seen on.
    let seen = got["seen"].as_str().unwrap_or_default();
    assert!(seen > registered.as_str().unwrap_or_default(), "{got}");

    let listed = flowhub
        .run(host, "list", Some(&alice.token), &json!({}))
        .await?;
    let ids: Vec<&Value> = listed["ok"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&json!(id)], "{listed}");
    let bobs = flowhub
        .run(host, "list", Some(&bob.token), &json!({}))
        .await?;
    assert_eq!(bobs, json!({"ok": []}));

    // Without a token, and for another user: refused.
    let anonymous = flowhub
        .run(host, "register", None, &runtime(&new_id(), &alice.id, "x"))
        .await?;
    assert_eq!(anonymous["status"], 401, "{anonymous}");
    let as_bob = flowhub
        .run(
            host,
            "register",
            Some(&alice.token),
            &runtime(&new_id(), &bob.id, "x"),
        )
        .await?;
    assert_eq!(as_bob["status"], 403, "{as_bob}");

    let deleted = flowhub
        .run(host, "del", Some(&alice.token), &json!({"id": id}))
        .await?;
    assert_eq!(deleted["ok"]["status"], 204, "{deleted}");
    let listed = flowhub
        .run(host, "list", Some(&alice.token), &json!({}))
        .await?;
    assert_eq!(listed, json!({"ok": []}));
    let gone = flowhub
        .run(host, "get", Some(&alice.token), &json!({"id": id}))
        .await?;
    assert_eq!(gone["status"], 404, "{gone}");
    let pinged = flowhub.run(host, "ping", None, &json!({"id": id})).await?;
    assert_eq!(pinged["status"], 404, "{pinged}");
    registry.stop().await
}

/// flowhub-registry 0.2.0 registers, pings, gets, lists and deletes on SQLite.
#[tokio::test]
async fn flowhub_registry_client_on_sqlite() -> Result<()> {
    flowhub_client_round_trip(Storage::sqlite()?).await
}

/// flowhub-registry 0.2.0 registers, pings, gets, lists and deletes on PostgreSQL.
#[tokio::test]
async fn flowhub_registry_client_on_postgres() -> Result<()> {
    flowhub_client_round_trip(Storage::postgres().await?).await
}

/// Users, tokens and runtimes (with their registered times) survive a restart.
async fn restart_keeps_everything(storage: Storage) -> Result<()> {
    let alice = add_user(storage.url(), "alice").await?;
    let registry = Registry::start(storage.url(), &[]).await?;
    let http = Http::new(&registry.url)?;
    for (id, label) in [("rt-b", "B"), ("rt-a", "A")] {
        let answer = http
            .put(id, Some(&alice.token), &runtime(id, &alice.id, label))
            .await?;
        assert_eq!(answer.status, 201, "{}", answer.text);
    }
    let before = http.list(&alice.token).await?;
    registry.stop().await?;

    let (code, users, _) = command(storage.url(), &["user", "token", "alice"]).await?;
    assert_eq!(code, Some(0));
    let second = users
        .lines()
        .find_map(|l| l.strip_prefix("token "))
        .unwrap_or_default()
        .to_owned();
    let registry = Registry::start(storage.url(), &[]).await?;
    let http = Http::new(&registry.url)?;
    let after = http.list(&alice.token).await?;
    assert_eq!(after, before, "the same runtimes, in label order");
    assert_eq!(
        after.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        [json!("rt-a"), json!("rt-b")]
    );
    assert_eq!(
        http.list(&second).await?,
        before,
        "the second token is alice's too"
    );
    let (_, listed, _) = command(storage.url(), &["user", "list"]).await?;
    assert_eq!(
        listed.trim(),
        format!("{}\talice\ttokens 2\truntimes 2", alice.id)
    );
    registry.stop().await
}

/// A restart keeps users, tokens and runtimes on SQLite.
#[tokio::test]
async fn restart_keeps_users_and_runtimes_on_sqlite() -> Result<()> {
    restart_keeps_everything(Storage::sqlite()?).await
}

/// A restart keeps users, tokens and runtimes on PostgreSQL.
#[tokio::test]
async fn restart_keeps_users_and_runtimes_on_postgres() -> Result<()> {
    restart_keeps_everything(Storage::postgres().await?).await
}

/// `msgflo-registry ARGS` must exit 1 with one line on stderr saying `says`.
async fn refused_in_one_line(database: &str, args: &[&str], says: &str) -> Result<()> {
    let (code, stdout, stderr) = command(database, args).await?;
    ensure!(
        code == Some(1),
        "{args:?}: exit {code:?}: {stdout} {stderr}"
    );
    ensure!(
        stderr.lines().count() == 1
            && stderr.starts_with("msgflo-registry: ")
            && stderr.contains(says),
        "{args:?}: stderr {stderr:?} should say {says:?}"
    );
    Ok(())
}

/// While the registry serves: `user revoke` makes that token 401 and keeps
/// the user's others; `user remove` deletes the user's runtimes and makes
/// all their tokens 401, and leaves other users alone.
async fn revoke_and_remove(storage: Storage) -> Result<()> {
    let db = storage.url();
    let alice = add_user(db, "alice").await?;
    let (code, stdout, stderr) = command(db, &["user", "token", "alice"]).await?;
    ensure!(code == Some(0), "user token: {stderr}");
    let second = stdout
        .lines()
        .find_map(|l| l.strip_prefix("token "))
        .unwrap_or_default()
        .to_owned();
    let bob = add_user(db, "bob").await?;
    let registry = Registry::start(db, &[]).await?;
    let http = Http::new(&registry.url)?;
    for (id, account) in [("rt-a", &alice), ("rt-b", &bob)] {
        let answer = http
            .put(id, Some(&account.token), &runtime(id, &account.id, id))
            .await?;
        assert_eq!(answer.status, 201, "{}", answer.text);
    }

    let (code, stdout, stderr) = command(db, &["user", "revoke", &alice.token]).await?;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("revoked a token of alice ({})", alice.id)
    );
    let answer = http
        .send("GET", "/runtimes/", Some(&alice.token), None)
        .await?;
    assert_eq!(answer.status, 401, "revoked: {}", answer.text);
    let listed = http.list(&second).await?;
    assert_eq!(listed.len(), 1, "the other token still works: {listed:?}");
    refused_in_one_line(
        db,
        &["user", "revoke", &alice.token],
        "no user has this token",
    )
    .await?;
    refused_in_one_line(
        db,
        &["user", "revoke", "mfr_0000"],
        "no user has this token",
    )
    .await?;

    let (code, stdout, stderr) = command(db, &["user", "remove", "alice"]).await?;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("removed alice ("), "{stdout}");
    let answer = http.send("GET", "/runtimes/", Some(&second), None).await?;
    assert_eq!(answer.status, 401, "removed: {}", answer.text);
    // Her runtime is gone, not someone else's: 404 to bob and to a ping.
    let got = http
        .send("GET", "/runtimes/rt-a", Some(&bob.token), None)
        .await?;
    assert_eq!(got.status, 404, "{}", got.text);
    let pinged = http.send("POST", "/runtimes/rt-a", None, None).await?;
    assert_eq!(pinged.status, 404, "{}", pinged.text);
    assert_eq!(http.list(&bob.token).await?.len(), 1, "bob's runtime stays");
    let (_, listed, _) = command(db, &["user", "list"]).await?;
    assert_eq!(
        listed.trim(),
        format!("{}\tbob\ttokens 1\truntimes 1", bob.id)
    );
    refused_in_one_line(db, &["user", "remove", "alice"], "no user named \"alice\"").await?;
    // The name and the runtime id are free again.
    let new_alice = add_user(db, "alice").await?;
    let answer = http
        .put(
            "rt-a",
            Some(&new_alice.token),
            &runtime("rt-a", &new_alice.id, "new"),
        )
        .await?;
    assert_eq!(answer.status, 201, "{}", answer.text);
    registry.stop().await
}

/// `user revoke` and `user remove` take effect at once, on SQLite.
#[tokio::test]
async fn revoke_and_remove_take_effect_on_sqlite() -> Result<()> {
    revoke_and_remove(Storage::sqlite()?).await
}

/// `user revoke` and `user remove` take effect at once, on PostgreSQL.
#[tokio::test]
async fn revoke_and_remove_take_effect_on_postgres() -> Result<()> {
    revoke_and_remove(Storage::postgres().await?).await
}

/// A registry on SQLite with alice (one runtime, `rt-1`) and bob.
async fn alice_and_bob(args: &[&str]) -> Result<(Storage, Registry, Http, Account, Account)> {
    alice_and_bob_on(Storage::sqlite()?, args).await
}

/// A registry on `storage` with alice (one runtime, `rt-1`) and bob.
async fn alice_and_bob_on(
    storage: Storage,
    args: &[&str],
) -> Result<(Storage, Registry, Http, Account, Account)> {
    let alice = add_user(storage.url(), "alice").await?;
    let bob = add_user(storage.url(), "bob").await?;
    let registry = Registry::start(storage.url(), args).await?;
    let http = Http::new(&registry.url)?;
    let answer = http
        .put(
            "rt-1",
            Some(&alice.token),
            &runtime("rt-1", &alice.id, "Main"),
        )
        .await?;
    ensure!(answer.status == 201, "{}", answer.text);
    Ok((storage, registry, http, alice, bob))
}

/// The body is exactly `{"error": "<one line>"}`.
fn one_line_error(text: &str) -> bool {
    let json: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let keys: Vec<&String> = json
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    keys == ["error"]
        && json["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty() && !e.contains('\n'))
        && !text.contains('\n')
}

/// No token, a malformed header or an unknown token: 401 for every
/// request that needs one, and nothing changes.
#[tokio::test]
async fn without_a_valid_token_401_and_nothing_changes() -> Result<()> {
    let (_storage, registry, http, alice, _) = alice_and_bob(&[]).await?;
    let before = http.list(&alice.token).await?;
    let body = serde_json::to_vec(&runtime("rt-1", &alice.id, "Stolen"))?;
    let fresh = serde_json::to_vec(&runtime("rt-new", &alice.id, "New"))?;
    for token in [None, Some("mfr_0000"), Some(""), Some("Basic YWxpY2U6eA==")] {
        let requests: [(&str, &str, Option<Vec<u8>>); 6] = [
            ("PUT", "/runtimes/rt-1", Some(body.clone())),
            ("PUT", "/runtimes/rt-new", Some(fresh.clone())),
            ("DELETE", "/runtimes/rt-1", None),
            ("GET", "/runtimes/rt-1", None),
            ("GET", "/runtimes/", None),
            ("GET", "/user", None),
        ];
        for (method, path, body) in requests {
            let answer = http.send(method, path, token, body).await?;
            assert_eq!(
                answer.status, 401,
                "{method} {path} with {token:?}: {}",
                answer.text
            );
            assert!(one_line_error(&answer.text), "{}", answer.text);
        }
    }
    // A ping needs no token, but an unknown one is refused.
    let answer = http
        .send("POST", "/runtimes/rt-1", Some("mfr_0000"), None)
        .await?;
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert_eq!(
        http.list(&alice.token).await?,
        before,
        "nothing changed, seen neither"
    );
    registry.stop().await
}

/// Another user's runtime id: 403 for register, get, ping with a token
/// and delete; a body naming another user: 403; nothing changes.
#[tokio::test]
async fn another_users_runtime_is_403_and_unchanged() -> Result<()> {
    let (_storage, registry, http, alice, bob) = alice_and_bob(&[]).await?;
    let before = http.list(&alice.token).await?;
    let theirs = serde_json::to_vec(
        &json!({"address": "ws://evil:1", "protocol": "websocket", "type": "msgflo"}),
    )?;
    let requests: [(&str, Option<Vec<u8>>); 4] = [
        ("PUT", Some(theirs)),
        ("GET", None),
        ("POST", Some(b"{}".to_vec())),
        ("DELETE", None),
    ];
    for (method, body) in requests {
        let answer = http
            .send(method, "/runtimes/rt-1", Some(&bob.token), body)
            .await?;
        assert_eq!(answer.status, 403, "{method}: {}", answer.text);
        assert!(one_line_error(&answer.text), "{}", answer.text);
    }
    let as_alice = http
        .put(
            "rt-2",
            Some(&bob.token),
            &runtime("rt-2", &alice.id, "Mine"),
        )
        .await?;
    assert_eq!(as_alice.status, 403, "{}", as_alice.text);
    assert_eq!(
        http.list(&alice.token).await?,
        before,
        "alice's runtime unchanged"
    );
    assert_eq!(
        http.list(&bob.token).await?,
        Vec::<Value>::new(),
        "bob got nothing"
    );
    let whoami = http.send("GET", "/user", Some(&bob.token), None).await?;
    assert_eq!(whoami.json, json!({"id": bob.id, "name": "bob"}));
    registry.stop().await
}

/// Malformed JSON, wrong types, missing fields, control characters, bad
/// ids, oversized bodies, unknown ids, routes and methods: the status and
/// one line of JSON each; nothing changes.
async fn bad_input_is_refused(storage: Storage) -> Result<()> {
    let (_storage, registry, http, alice, _) = alice_and_bob_on(storage, &[]).await?;
    let before = http.list(&alice.token).await?;
    let token = Some(alice.token.as_str());
    let good = r#""address": "ws://h:1", "protocol": "websocket", "type": "msgflo""#;
    let oversized = format!(r#"{{{good}, "description": "{}"}}"#, "x".repeat(70_000));
    let cases: Vec<(&str, String, Option<String>, u16, &str)> = vec![
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some(r#"{"address": "#.into()),
            400,
            "malformed JSON",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some("".into()),
            400,
            "malformed JSON",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some(format!("{{{good}}} trailing")),
            400,
            "malformed JSON",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some(r#"{"address": 5, "protocol": "ws", "type": "t"}"#.into()),
            400,
            "address: invalid type",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some(format!(r#"{{{good}, "label": ["x"]}}"#)),
            400,
            "label: invalid type",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some(r#"{"protocol": "ws", "type": "t"}"#.into()),
            400,
            "address is required",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some(r#"{"address": "nowhere", "protocol": "ws", "type": "t"}"#.into()),
            400,
            "is not a URL",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some(format!(r#"{{{good}, "label": "a\u0000b"}}"#)),
            400,
            "label has the control character U+0000",
        ),
        (
            "PUT",
            "/runtimes/rt-new".into(),
            Some(format!(r#"{{{good}, "secret": "s\u0000"}}"#)),
            400,
            "secret has the control character U+0000",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some(format!(r#"{{{good}, "id": "rt-2"}}"#)),
            400,
            "is not the path's",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some("[1, 2]".into()),
            400,
            "the body must be a JSON object",
        ),
        (
            "PUT",
            "/runtimes/a%20b".into(),
            Some(format!("{{{good}}}")),
            400,
            "runtime id",
        ),
        (
            "PUT",
            format!("/runtimes/{}", "x".repeat(201)),
            Some(format!("{{{good}}}")),
            400,
            "at most 200",
        ),
        (
            "PUT",
            "/runtimes/rt-1".into(),
            Some(oversized),
            413,
            "over the limit of 65536 bytes",
        ),
        ("GET", "/runtimes/nope".into(), None, 404, "no runtime nope"),
        (
            "DELETE",
            "/runtimes/nope".into(),
            None,
            404,
            "no runtime nope",
        ),
        (
            "POST",
            "/runtimes/nope".into(),
            Some("{}".into()),
            404,
            "no runtime nope",
        ),
        (
            "PATCH",
            "/runtimes/rt-1".into(),
            Some("{}".into()),
            405,
            "does not take PATCH",
        ),
        (
            "DELETE",
            "/runtimes/".into(),
            None,
            405,
            "does not take DELETE",
        ),
        (
            "GET",
            "/elsewhere".into(),
            None,
            404,
            "no route GET /elsewhere",
        ),
    ];
    for (method, path, body, status, says) in cases {
        let answer = http
            .send(method, &path, token, body.map(String::into_bytes))
            .await?;
        let shown = &path[..path.len().min(40)];
        assert_eq!(answer.status, status, "{method} {shown}: {}", answer.text);
        assert!(
            one_line_error(&answer.text),
            "{method} {shown}: {}",
            answer.text
        );
        let error = answer.json["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(says),
            "{method} {shown}: {error:?} should say {says:?}"
        );
    }
    assert_eq!(http.list(&alice.token).await?, before, "nothing changed");
    registry.stop().await
}

/// Bad input gets its status and one line of JSON on SQLite; nothing changes.
#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() -> Result<()> {
    bad_input_is_refused(Storage::sqlite()?).await
}

/// The same on PostgreSQL, where a U+0000 would be a database error (500).
#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing_on_postgres() -> Result<()> {
    bad_input_is_refused(Storage::postgres().await?).await
}

/// With `--offline-after 1`, a runtime not pinged for a second lists
/// offline and stays listed; a ping brings it back online.
#[tokio::test]
async fn a_runtime_not_pinged_lists_offline_and_stays() -> Result<()> {
    let (_storage, registry, http, alice, _) = alice_and_bob(&["--offline-after", "1"]).await?;
    let answer = http
        .put(
            "rt-2",
            Some(&alice.token),
            &runtime("rt-2", &alice.id, "Pinged"),
        )
        .await?;
    assert_eq!(answer.status, 201, "{}", answer.text);
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let pinged = http
            .send("POST", "/runtimes/rt-2", None, Some(b"{}".to_vec()))
            .await?;
        assert_eq!(pinged.status, 204, "{}", pinged.text);
    }
    let states = |list: &[Value]| -> Vec<(String, Value, Value)> {
        list.iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap_or_default().to_owned(),
                    r["state"].clone(),
                    r["online"].clone(),
                )
            })
            .collect()
    };
    let listed = http.list(&alice.token).await?;
    assert_eq!(
        states(&listed),
        [
            ("rt-1".into(), json!("offline"), json!(false)),
            ("rt-2".into(), json!("online"), json!(true)),
        ]
    );
    let got = http
        .send("GET", "/runtimes/rt-1", Some(&alice.token), None)
        .await?;
    assert_eq!(got.json["state"], "offline", "{}", got.text);
    let pinged = http
        .send("POST", "/runtimes/rt-1", Some(&alice.token), None)
        .await?;
    assert_eq!(pinged.status, 204, "{}", pinged.text);
    let listed = http.list(&alice.token).await?;
    assert_eq!(listed[0]["state"], "online", "pinged again: {listed:?}");
    registry.stop().await
}

/// `user add` prints the id and a token, refuses a name taken and a bad
/// name; `user token` of an unknown user is refused; in one line each.
#[tokio::test]
async fn user_commands_print_ids_and_tokens_and_refuse_in_one_line() -> Result<()> {
    let storage = Storage::sqlite()?;
    let alice = add_user(storage.url(), "alice").await?;
    assert!(uuid::Uuid::parse_str(&alice.id).is_ok(), "{}", alice.id);
    assert!(alice.token.len() >= 32, "{}", alice.token);
    for (args, says) in [
        (
            &["user", "add", "alice"][..],
            "a user named \"alice\" exists already",
        ),
        (
            &["user", "add", "al ice"][..],
            "user name \"al ice\" has ' '",
        ),
        (
            &["user", "token", "new_alice"][..],
            "no user named \"new_alice\"",
        ),
    ] {
        let (code, stdout, stderr) = command(storage.url(), args).await?;
        assert_eq!(code, Some(1), "{args:?}: {stdout} {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("msgflo-registry: ") && stderr.contains(says),
            "{args:?}: {stderr}"
        );
    }
    Ok(())
}

/// A database that cannot be used stops the start: one line, exit 1.
#[tokio::test]
async fn an_unusable_database_is_one_line_and_exit_1() -> Result<()> {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.local_addr()?.port()
    };
    let postgres = format!("postgres://postgres:pw@127.0.0.1:{closed}/registry");
    for (url, says) in [
        (
            postgres.as_str(),
            "cannot open the database postgres://postgres:***@127.0.0.1",
        ),
        (
            "sqlite:///nonexistent-dir/x/registry.sqlite",
            "cannot open the database sqlite:///nonexistent-dir",
        ),
        (
            "mysql://127.0.0.1/registry",
            "not a sqlite:// or postgres:// URL",
        ),
        ("registry.sqlite", "not a sqlite:// or postgres:// URL"),
    ] {
        let (code, stdout, stderr) = command(url, &["serve", "--listen", "127.0.0.1:0"]).await?;
        assert_eq!(code, Some(1), "{url}: {stdout} {stderr}");
        assert!(stdout.is_empty(), "{url}: no ready line: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{url}: {stderr}");
        assert!(
            stderr.starts_with("msgflo-registry: ") && stderr.contains(says),
            "{url}: {stderr}"
        );
        assert!(!stderr.contains(":pw@"), "the password is masked: {stderr}");
    }
    Ok(())
}
