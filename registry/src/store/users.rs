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

    /// Revokes `token`: its digest is deleted. The user it was of, or
    /// `None` if no user has it.
    pub async fn revoke_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        let Some(user) = self.user_by_token(token).await? else {
            return Ok(None);
        };
        let done = sqlx::query("DELETE FROM tokens WHERE digest = $1")
            .bind(token::digest(token))
            .execute(&self.pool)
            .await
            .doing("revoking a token")?;
        Ok((done.rows_affected() > 0).then_some(user))
    }

    /// Removes user `name`; the database deletes their tokens and runtimes
    /// with them (`ON DELETE CASCADE`; on SQLite every connection turns
    /// foreign keys on, `open.rs`).
    pub async fn remove_user(&self, name: &UserName) -> Result<User, StoreError> {
        let row = sqlx::query("DELETE FROM users WHERE name = $1 RETURNING id, name")
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await
            .doing("removing a user")?;
        row.map(|row| user(&row))
            .transpose()?
            .ok_or_else(|| StoreError::NoSuchUser(name.to_string()))
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

#[cfg(test)]
mod tests {
    use crate::ids::{RuntimeId, UserName};
    use crate::model::RuntimeFields;
    use crate::store::{Registered, Store, StoreError};
    use crate::time::Timestamp;

    fn fields() -> RuntimeFields {
        RuntimeFields {
            address: "ws://h:1".into(),
            protocol: "websocket".into(),
            kind: "msgflo".into(),
            label: None,
            description: None,
            secret: None,
        }
    }

    /// Removing a user deletes their tokens and runtimes on SQLite too
    /// (foreign keys on for every pooled connection), and no one else's.
    #[tokio::test]
    async fn removing_a_user_cascades_to_tokens_and_runtimes_on_sqlite() {
        let dir = tempfile::tempdir().expect("a folder");
        let url = format!("sqlite://{}", dir.path().join("r.sqlite").display());
        let store = Store::open(&url).await.expect("opened");
        let name = |n: &str| UserName::parse(n).expect("a name");
        let (alice, first) = store.add_user(&name("alice")).await.expect("added");
        let (_, second) = store.add_token(&name("alice")).await.expect("a token");
        let (bob, bobs) = store.add_user(&name("bob")).await.expect("added");
        let now = Timestamp::now();
        for (user, id) in [(&alice, "rt-a1"), (&alice, "rt-a2"), (&bob, "rt-b")] {
            let id = RuntimeId::parse(id).expect("an id");
            let done = store.register(user, &id, &fields(), now).await;
            assert!(matches!(done, Ok(Registered::Created(_))), "{done:?}");
        }

        let removed = store.remove_user(&name("alice")).await.expect("removed");
        assert_eq!(removed, alice);
        for token in [&first, &second] {
            let found = store
                .user_by_token(token.as_str())
                .await
                .expect("looked up");
            assert_eq!(found, None);
        }
        assert_eq!(store.runtimes(&alice).await.expect("listed"), []);
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens")
            .fetch_one(&store.pool)
            .await
            .expect("counted");
        assert_eq!(left, 1, "only bob's token is left");
        assert_eq!(store.runtimes(&bob).await.expect("listed").len(), 1);
        let found = store.user_by_token(bobs.as_str()).await.expect("looked up");
        assert_eq!(found, Some(bob));
        assert!(matches!(
            store.remove_user(&name("alice")).await,
            Err(StoreError::NoSuchUser(_))
        ));
        store.close().await;
    }

    /// A revoked token finds no one; the user's other tokens still do.
    #[tokio::test]
    async fn a_revoked_token_is_gone_and_the_others_stay() {
        let dir = tempfile::tempdir().expect("a folder");
        let url = format!("sqlite://{}", dir.path().join("r.sqlite").display());
        let store = Store::open(&url).await.expect("opened");
        let alice = UserName::parse("alice").expect("a name");
        let (user, first) = store.add_user(&alice).await.expect("added");
        let (_, second) = store.add_token(&alice).await.expect("a token");
        let revoked = store.revoke_token(first.as_str()).await.expect("revoked");
        assert_eq!(revoked, Some(user.clone()));
        assert_eq!(store.user_by_token(first.as_str()).await.expect("ok"), None);
        assert_eq!(
            store.user_by_token(second.as_str()).await.expect("ok"),
            Some(user)
        );
        let again = store.revoke_token(first.as_str()).await.expect("looked up");
        assert_eq!(again, None);
        store.close().await;
    }
}
