//! The API's errors: each is a status and one line, answered as
//! `{"error": "..."}`. A storage failure is logged in full and answered 500
//! without the database's words.

use crate::store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON, wrong field types, a missing field, a bad id.
    #[error("{0}")]
    BadRequest(String),
    /// No token, or one the registry does not know.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid token, but not the owner's.
    #[error("{0}")]
    Forbidden(String),
    /// No such runtime or route.
    #[error("{0}")]
    NotFound(String),
    /// A route that does not take this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A body over the limit.
    #[error("the body is over the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// The database failed.
    #[error("the registry's database failed; the server's log says how")]
    Store(#[from] StoreError),
}

impl ApiError {
    /// The HTTP status it is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Store(e) = &self {
            tracing::error!(error = %e, "request failed");
        }
        let status = self.status();
        let body = Json(serde_json::json!({ "error": one_line(&self.to_string()) }));
        if status == StatusCode::UNAUTHORIZED {
            return (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
        }
        (status, body).into_response()
    }
}

/// `text` on one line (serde's and axum's messages may hold newlines).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        let cases = [
            (ApiError::BadRequest("x".into()), 400),
            (ApiError::Unauthorized("x".into()), 401),
            (ApiError::Forbidden("x".into()), 403),
            (ApiError::NotFound("x".into()), 404),
            (ApiError::MethodNotAllowed("x".into()), 405),
            (ApiError::PayloadTooLarge(65_536), 413),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error}");
        }
    }

    #[test]
    fn messages_are_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
