//! Users and their tokens. A token is stored as its SHA-256 digest only
//! (`token.rs`); a request's user is found by the digest of what it sent.

use super::{Doing, Store, StoreError};
use crate::ids::UserName;
use crate::model::User;
use crate::time::Timestamp;
use crate::token::{self, Token};
use sqlx::Row;

/// A user as `user list` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// The user.
    pub user: User,
    /// How many tokens they have.
    pub tokens: i64,
    /// How many runtimes they have registered.
    pub runtimes: i64,
}

impl Store {
    /// Adds user `name` with a new id and a first token.
    pub async fn add_user(&self, name: &UserName) -> Result<(User, Token), StoreError> {
        if self.user_named(name).await?.is_some() {
            return Err(StoreError::UserExists(name.to_string()));
        }
        let user = User {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
        };
        let added = sqlx::query(
            "INSERT INTO users (id, name, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&user.id)
        .bind(&user.name)
        .bind(Timestamp::now().0)
        .execute(&self.pool)
        .await
        .doing("adding a user")?;
        if added.rows_affected() == 0 {
            return Err(StoreError::UserExists(name.to_string()));
        }
        let token = self.new_token(&user).await?;
        Ok((user, token))
    }

    /// Another token for user `name`.
    pub async fn add_token(&self, name: &UserName) -> Result<(User, Token), StoreError> {
        let user = self
            .user_named(name)
            .await?
            .ok_or_else(|| StoreError::NoSuchUser(name.to_string()))?;
        let token = self.new_token(&user).await?;
        Ok((user, token))
    }

    /// The user whose token this is, if any.
    pub async fn user_by_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT users.id, users.name FROM tokens JOIN users ON users.id = tokens.user_id \
             WHERE tokens.digest = $1",
        )
        .bind(token::digest(token))
        .fetch_optional(&self.pool)
        .await
        .doing("checking a token")?;
        row.map(|row| user(&row)).transpose()
    }

    /// Every user, by name, with how many tokens and runtimes each has.
    pub async fn users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, \
             (SELECT COUNT(*) FROM tokens WHERE tokens.user_id = users.id) AS tokens, \
             (SELECT COUNT(*) FROM runtimes WHERE runtimes.user_id = users.id) AS runtimes \
             FROM users ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .doing("listing users")?;
        rows.iter()
            .map(|row| {
                Ok(UserSummary {
                    user: user(row)?,
                    tokens: row.try_get("tokens").doing("reading a user")?,
                    runtimes: row.try_get("runtimes").doing("reading a user")?,
                })
            })
            .collect()
    }

    async fn user_named(&self, name: &UserName) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT id, name FROM users WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await
            .doing("looking a user up")?;
        row.map(|row| user(&row)).transpose()
    }

    async fn new_token(&self, user: &User) -> Result<Token, StoreError> {
        let token = Token::generate();
        sqlx::query("INSERT INTO tokens (digest, user_id, created) VALUES ($1, $2, $3)")
            .bind(token::digest(token.as_str()))
            .bind(&user.id)
            .bind(Timestamp::now().0)
            .execute(&self.pool)
            .await
            .doing("adding a token")?;
        Ok(token)
    }
}

fn user(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id").doing("reading a user")?,
        name: row.try_get("name").doing("reading a user")?,
    })
}
