//! The HTTP API (the contract: Flowhub's runtime registry, plus `GET /user`
//! and expiry): the router and [`serve`].
//!
//! - `runtimes.rs` — the `/runtimes` handlers; `user.rs` — `GET /user`;
//! - `auth.rs` — the bearer token extractor; `path.rs` — the checked id;
//! - `body.rs` — JSON bodies of any content type, the 64 KiB limit;
//!   `registration.rs` — a registration's fields, checked;
//! - `error.rs` — [`ApiError`]: status and `{"error": "..."}`.

mod auth;
mod body;
mod error;
mod path;
mod registration;
mod runtimes;
mod user;

pub use body::BODY_LIMIT;
pub use error::ApiError;

use crate::store::Store;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// How the server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// A runtime not seen for this long is listed offline.
    pub offline_after: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            offline_after: crate::expiry::DEFAULT_OFFLINE_AFTER,
        }
    }
}

/// What every handler gets.
#[derive(Clone, Debug)]
pub struct AppState {
    store: Store,
    offline_after: Duration,
}

/// The API's routes on `store`.
pub fn router(store: Store, settings: Settings) -> Router {
    let state = AppState {
        store,
        offline_after: settings.offline_after,
    };
    Router::new()
        .route(
            "/runtimes/{id}",
            get(runtimes::get)
                .put(runtimes::register)
                .post(runtimes::ping)
                .delete(runtimes::delete),
        )
        .route("/runtimes", get(runtimes::list))
        .route("/runtimes/", get(runtimes::list))
        .route("/user", get(user::whoami))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then lets the
/// requests under way finish and closes the store.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(store.clone(), settings);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    store.close().await;
    served
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route {method} {}", uri.path()))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{} does not take {method}", uri.path()))
}
