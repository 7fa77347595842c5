//! `GET /user`: who the token belongs to, so a runtime given only a URL and
//! a token can fill in `user`.

use super::auth::Caller;
use crate::model::User;
use axum::Json;

/// `{"id": USER_ID, "name": NAME}` of the token's user.
pub async fn whoami(Caller(user): Caller) -> Json<User> {
    Json(user)
}
