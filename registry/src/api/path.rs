//! The runtime id in `/runtimes/{id}`, checked (400 when it is not one).

use super::error::ApiError;
use crate::ids::RuntimeId;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

/// The checked runtime id of the request's path.
#[derive(Debug, Clone)]
pub struct RuntimePath(pub RuntimeId);

impl<S: Send + Sync> FromRequestParts<S> for RuntimePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
        RuntimeId::parse(&id)
            .map(RuntimePath)
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}
