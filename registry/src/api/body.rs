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

/// `bytes`, a JSON object, as a `T`; the error says whether the JSON was
/// malformed, not an object, or which field had the wrong type.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        // serde would take an array for a struct, field by field.
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::BadRequest(format!("{path}: {}", e.into_inner()))
    })
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
        assert_eq!(
            refused(r#"{"name": 5}"#),
            "name: invalid type: integer `5`, expected a string"
        );
        assert_eq!(refused("5"), "the body must be a JSON object");
        assert_eq!(refused("[\"x\"]"), "the body must be a JSON object");
    }

    #[test]
    fn good_bodies_parse() {
        assert!(parse::<Body>(br#"{"name": "x", "other": true}"#).is_ok());
    }
}
