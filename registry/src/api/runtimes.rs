//! The handlers of `/runtimes`: register (PUT), ping (POST), get, list,
//! delete. Each asks the store, which decides ownership, and turns its
//! answer into the contract's status.

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::path::RuntimePath;
use super::registration::Registration;
use super::AppState;
use crate::ids::RuntimeId;
use crate::model::RuntimeView;
use crate::store::{Access, Registered};
use crate::time::Timestamp;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tracing::debug;

/// `PUT /runtimes/{id}`: 201 new, 200 updated.
pub async fn register(
    State(state): State<AppState>,
    Caller(user): Caller,
    RuntimePath(id): RuntimePath,
    JsonBody(body): JsonBody<Registration>,
) -> Result<(StatusCode, Json<RuntimeView>), ApiError> {
    let fields = body.check(&id, &user)?;
    let now = Timestamp::now();
    let (status, runtime) = match state.store.register(&user, &id, &fields, now).await? {
        Registered::Created(runtime) => (StatusCode::CREATED, runtime),
        Registered::Updated(runtime) => (StatusCode::OK, runtime),
        Registered::Forbidden => return Err(others(&id)),
    };
    debug!(%id, user = %user.name, %status, "registered");
    Ok((status, Json(runtime.view(now, state.offline_after))))
}

/// `POST /runtimes/{id}`: seen now; 204. No token needed (Flowhub's pings
/// carry none); a token, if sent, must be the owner's.
pub async fn ping(
    State(state): State<AppState>,
    caller: Option<Caller>,
    RuntimePath(id): RuntimePath,
) -> Result<StatusCode, ApiError> {
    let user = caller.map(|Caller(user)| user);
    let access = state
        .store
        .ping(&id, user.as_ref(), Timestamp::now())
        .await?;
    granted(access, &id)?;
    debug!(%id, "pinged");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /runtimes/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    RuntimePath(id): RuntimePath,
) -> Result<Json<RuntimeView>, ApiError> {
    let runtime = granted(state.store.runtime(&id, &user).await?, &id)?;
    Ok(Json(runtime.view(Timestamp::now(), state.offline_after)))
}

/// `GET /runtimes` and `GET /runtimes/`: the caller's runtimes.
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<RuntimeView>>, ApiError> {
    let now = Timestamp::now();
    let runtimes = state.store.runtimes(&user).await?;
    let views = runtimes
        .iter()
        .map(|runtime| runtime.view(now, state.offline_after))
        .collect();
    Ok(Json(views))
}

/// `DELETE /runtimes/{id}`: 204.
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    RuntimePath(id): RuntimePath,
) -> Result<StatusCode, ApiError> {
    granted(state.store.delete(&id, &user).await?, &id)?;
    debug!(%id, user = %user.name, "deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn granted<T>(access: Access<T>, id: &RuntimeId) -> Result<T, ApiError> {
    match access {
        Access::Granted(value) => Ok(value),
        Access::NotFound => Err(ApiError::NotFound(format!("no runtime {id}"))),
        Access::Forbidden => Err(others(id)),
    }
}

fn others(id: &RuntimeId) -> ApiError {
    ApiError::Forbidden(format!("runtime {id} is another user's"))
}
