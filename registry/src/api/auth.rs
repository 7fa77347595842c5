//! Who is asking: the `Authorization: Bearer TOKEN` header, looked up by the
//! token's digest. [`Caller`] refuses a request without a valid token (401);
//! `Option<Caller>` lets one without a header through (a ping) but still
//! refuses a header that is malformed or names an unknown token.

use super::error::ApiError;
use super::AppState;
use crate::model::User;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

/// The user whose token the request carries.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match <Caller as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await?
        {
            Some(caller) => Ok(caller),
            None => Err(ApiError::Unauthorized(
                "this needs a token: Authorization: Bearer TOKEN".into(),
            )),
        }
    }
}

impl OptionalFromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        let Some(token) = bearer(&parts.headers)? else {
            return Ok(None);
        };
        match state.store.user_by_token(token).await? {
            Some(user) => Ok(Some(Caller(user))),
            None => Err(ApiError::Unauthorized("unknown token".into())),
        }
    }
}

/// The token of an `Authorization: Bearer TOKEN` header, if there is one.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed =
        || ApiError::Unauthorized("the Authorization header is not 'Bearer TOKEN'".into());
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).expect("ascii"));
        headers
    }

    #[test]
    fn bearer_tokens_are_read_whatever_the_schemes_case() {
        assert_eq!(bearer(&headers("Bearer abc")).ok(), Some(Some("abc")));
        assert_eq!(bearer(&headers("bearer  abc ")).ok(), Some(Some("abc")));
        assert_eq!(bearer(&HeaderMap::new()).ok(), Some(None));
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_refused() {
        for value in ["Basic YTpi", "Bearer", "Bearer   ", "abc"] {
            let headers = headers(value);
            let refused = bearer(&headers);
            assert!(matches!(refused, Err(ApiError::Unauthorized(_))), "{value}");
        }
    }
}
