//! The API served in process ([`api::serve`] on port 0, a SQLite file):
//! registrations of one id racing each other. Ownership is decided by the
//! database, so of two users exactly one gets the id and the other a 403,
//! and one user's concurrent registrations make one 201 and the rest 200.

use anyhow::Result;
use futures_util::future::join_all;
use msgflo_registry::ids::UserName;
use msgflo_registry::{api, Store};
use serde_json::json;
use tokio::sync::oneshot;

struct Served {
    base: String,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn serve() -> Result<(Served, Store)> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("r.sqlite").display()
    ))
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let done = tokio::spawn(api::serve(
        listener,
        store.clone(),
        api::Settings::default(),
        shutdown,
    ));
    Ok((
        Served {
            base,
            stop,
            done,
            _dir: dir,
        },
        store,
    ))
}

fn client() -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder().no_proxy().build()?)
}

async fn put(client: &reqwest::Client, base: &str, id: &str, token: &str) -> Result<u16> {
    let body = json!({"address": "ws://h:3569", "protocol": "websocket", "type": "msgflo"});
    let answer = client
        .put(format!("{base}/runtimes/{id}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    Ok(answer.status().as_u16())
}

/// Two users registering the same new id at once: one 201, one 403, and
/// the runtime is the winner's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_users_racing_for_an_id_exactly_one_gets_it() -> Result<()> {
    let (served, store) = serve().await?;
    let (alice, alice_token) = store.add_user(&UserName::parse("alice")?).await?;
    let (bob, bob_token) = store.add_user(&UserName::parse("bob")?).await?;
    let client = client()?;
    for round in 0..30 {
        let id = format!("race-{round}");
        let (a, b) = tokio::join!(
            put(&client, &served.base, &id, alice_token.as_str()),
            put(&client, &served.base, &id, bob_token.as_str()),
        );
        let (a, b) = (a?, b?);
        let mut statuses = [a, b];
        statuses.sort();
        assert_eq!(statuses, [201, 403], "round {round}: alice {a}, bob {b}");
        let owner = if a == 201 { &alice } else { &bob };
        let id = msgflo_registry::ids::RuntimeId::parse(&id)?;
        let got = store.runtime(&id, owner).await?;
        assert!(
            matches!(got, msgflo_registry::store::Access::Granted(_)),
            "round {round}"
        );
    }
    served.stop.send(()).ok();
    served.done.await??;
    Ok(())
}

/// One user registering one id ten times at once: one 201, nine 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_concurrent_registrations_create_once() -> Result<()> {
    let (served, store) = serve().await?;
    let (_, token) = store.add_user(&UserName::parse("alice")?).await?;
    let client = client()?;
    for round in 0..10 {
        let id = format!("same-{round}");
        let puts = (0..10).map(|_| put(&client, &served.base, &id, token.as_str()));
        let mut statuses = join_all(puts)
            .await
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        statuses.sort();
        assert_eq!(
            statuses,
            [[200; 9].as_slice(), &[201]].concat(),
            "round {round}"
        );
    }
    served.stop.send(()).ok();
    served.done.await??;
    Ok(())
}
