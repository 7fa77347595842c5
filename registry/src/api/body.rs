//! JSON bodies, whatever their content type (`curl -d` without `-H` works,
//! as does superagent's `application/json`): read up to the body limit (over
//! it: 413), then parsed with the field named in type errors (400).

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// The largest body the API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(BODY_LIMIT),
                    _ => ApiError::BadRequest(format!(
                        "cannot read the body: {}",
                        rejection.body_text()
                    )),
                })?;
        parse(&bytes).map(JsonBody)
    }
}

/// `bytes` as a `T`; the error says whether the JSON was malformed or which
/// field had the wrong type.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() && path != "." {
            ApiError::BadRequest(format!("{path}: {inner}"))
        } else if inner.is_data() {
            ApiError::BadRequest(format!("the body: {inner}"))
        } else {
            ApiError::BadRequest(format!("malformed JSON: {inner}"))
        }
    })?;
    json.end()
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: Option<String>,
    }

    fn refused(json: &str) -> String {
        match parse::<Body>(json.as_bytes()) {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn malformed_json_and_wrong_types_say_which() {
        assert!(refused("{").starts_with("malformed JSON: EOF while parsing"));
        assert!(refused("{} x").starts_with("malformed JSON: trailing characters"));
        assert!(refused("").starts_with("malformed JSON"));
        assert!(refused(r#"{"name": 5}"#).starts_with("name: invalid type: integer `5`"));
        assert!(refused("5").starts_with("the body: invalid type: integer `5`, expected"));
    }

    #[test]
    fn good_bodies_parse() {
        assert!(parse::<Body>(br#"{"name": "x", "other": true}"#).is_ok());
    }
}
