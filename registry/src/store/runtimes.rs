//! Runtimes: each statement names the owner, so another user's runtime is
//! never changed; only when a statement changed nothing does the store look
//! at why (no such id, or someone else's).

use super::{Doing, Store, StoreError};
use crate::ids::RuntimeId;
use crate::model::{Runtime, RuntimeFields, User};
use crate::time::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

/// The result of a request about one runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access<T> {
    /// Done; here is what it gives.
    Granted(T),
    /// No runtime has that id.
    NotFound,
    /// The runtime is another user's; nothing changed.
    Forbidden,
}

/// The result of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new runtime.
    Created(Runtime),
    /// The user's runtime, updated (registered kept, seen now).
    Updated(Runtime),
    /// The id is another user's runtime; nothing changed.
    Forbidden,
}

const COLUMNS: &str =
    "id, user_id, address, protocol, runtime_type, label, description, secret, registered, seen";

impl Store {
    /// Registers runtime `id` of `user` with `fields`, seen at `now`.
    pub async fn register(
        &self,
        user: &User,
        id: &RuntimeId,
        fields: &RuntimeFields,
        now: Timestamp,
    ) -> Result<Registered, StoreError> {
        // Twice at most: a concurrent delete or insert of the same id by the
        // same user can make both statements miss once.
        for _ in 0..2 {
            if let Some(registered) = self.update(user, id, fields, now).await? {
                let runtime = runtime_of(user, id, fields, registered, now);
                return Ok(Registered::Updated(runtime));
            }
            if self.insert(user, id, fields, now).await? {
                return Ok(Registered::Created(runtime_of(user, id, fields, now, now)));
            }
            if self.owner(id).await?.is_some_and(|owner| owner != user.id) {
                return Ok(Registered::Forbidden);
            }
        }
        Err(StoreError::Contended(id.to_string()))
    }

    /// Marks runtime `id` seen at `now`; when `user` is given, only if it is theirs.
    pub async fn ping(
        &self,
        id: &RuntimeId,
        user: Option<&User>,
        now: Timestamp,
    ) -> Result<Access<()>, StoreError> {
        let done = match user {
            Some(user) => {
                sqlx::query("UPDATE runtimes SET seen = $1 WHERE id = $2 AND user_id = $3")
                    .bind(now.0)
                    .bind(id.as_str())
                    .bind(&user.id)
            }
            None => sqlx::query("UPDATE runtimes SET seen = $1 WHERE id = $2")
                .bind(now.0)
                .bind(id.as_str()),
        }
        .execute(&self.pool)
        .await
        .doing("marking a runtime seen")?;
        if done.rows_affected() > 0 {
            return Ok(Access::Granted(()));
        }
        self.refused(id).await
    }

    /// Runtime `id`, if it is `user`'s.
    pub async fn runtime(
        &self,
        id: &RuntimeId,
        user: &User,
    ) -> Result<Access<Runtime>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM runtimes WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .doing("reading a runtime")?;
        match row.map(|row| runtime(&row)).transpose()? {
            None => Ok(Access::NotFound),
            Some(runtime) if runtime.user != user.id => Ok(Access::Forbidden),
            Some(runtime) => Ok(Access::Granted(runtime)),
        }
    }

    /// Every runtime of `user`, by label then id.
    pub async fn runtimes(&self, user: &User) -> Result<Vec<Runtime>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM runtimes WHERE user_id = $1"
        ))
        .bind(&user.id)
        .fetch_all(&self.pool)
        .await
        .doing("listing runtimes")?;
        let mut list = rows.iter().map(runtime).collect::<Result<Vec<_>, _>>()?;
        // Sorted here: the databases order NULLs and text differently.
        list.sort_by(Runtime::list_order);
        Ok(list)
    }

    /// Deletes runtime `id` if it is `user`'s.
    pub async fn delete(&self, id: &RuntimeId, user: &User) -> Result<Access<()>, StoreError> {
        let done = sqlx::query("DELETE FROM runtimes WHERE id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(&user.id)
            .execute(&self.pool)
            .await
            .doing("deleting a runtime")?;
        if done.rows_affected() > 0 {
            return Ok(Access::Granted(()));
        }
        self.refused(id).await
    }

    /// Updates `user`'s runtime `id`; when it was registered, if it was there.
    async fn update(
        &self,
        user: &User,
        id: &RuntimeId,
        fields: &RuntimeFields,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let row = sqlx::query(
            "UPDATE runtimes SET address = $1, protocol = $2, runtime_type = $3, label = $4, \
             description = $5, secret = $6, seen = $7 WHERE id = $8 AND user_id = $9 \
             RETURNING registered",
        )
        .bind(&fields.address)
        .bind(&fields.protocol)
        .bind(&fields.kind)
        .bind(fields.label.clone())
        .bind(fields.description.clone())
        .bind(fields.secret.clone())
        .bind(now.0)
        .bind(id.as_str())
        .bind(&user.id)
        .fetch_optional(&self.pool)
        .await
        .doing("updating a runtime")?;
        row.map(|row| row.try_get("registered").map(Timestamp))
            .transpose()
            .doing("updating a runtime")
    }

    /// Inserts runtime `id` unless the id is taken; whether it did.
    async fn insert(
        &self,
        user: &User,
        id: &RuntimeId,
        fields: &RuntimeFields,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(&format!(
            "INSERT INTO runtimes ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO NOTHING"
        ))
        .bind(id.as_str())
        .bind(&user.id)
        .bind(&fields.address)
        .bind(&fields.protocol)
        .bind(&fields.kind)
        .bind(fields.label.clone())
        .bind(fields.description.clone())
        .bind(fields.secret.clone())
        .bind(now.0)
        .bind(now.0)
        .execute(&self.pool)
        .await
        .doing("registering a runtime")?;
        Ok(done.rows_affected() > 0)
    }

    /// Why a statement about `id` naming its owner changed nothing.
    async fn refused<T>(&self, id: &RuntimeId) -> Result<Access<T>, StoreError> {
        Ok(match self.owner(id).await? {
            Some(_) => Access::Forbidden,
            None => Access::NotFound,
        })
    }

    async fn owner(&self, id: &RuntimeId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT user_id FROM runtimes WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .doing("reading a runtime's owner")?;
        row.map(|row| row.try_get("user_id"))
            .transpose()
            .doing("reading a runtime's owner")
    }
}

fn runtime_of(
    user: &User,
    id: &RuntimeId,
    fields: &RuntimeFields,
    registered: Timestamp,
    seen: Timestamp,
) -> Runtime {
    Runtime {
        id: id.clone(),
        user: user.id.clone(),
        fields: fields.clone(),
        registered,
        seen,
    }
}

fn runtime(row: &AnyRow) -> Result<Runtime, StoreError> {
    let text =
        |name: &str| -> Result<String, StoreError> { row.try_get(name).doing("reading a runtime") };
    let optional = |name: &str| -> Result<Option<String>, StoreError> {
        row.try_get(name).doing("reading a runtime")
    };
    let time = |name: &str| -> Result<Timestamp, StoreError> {
        row.try_get(name).map(Timestamp).doing("reading a runtime")
    };
    let id = text("id")?;
    Ok(Runtime {
        id: RuntimeId::parse(&id).map_err(|e| StoreError::BadRow(e.to_string()))?,
        user: text("user_id")?,
        fields: RuntimeFields {
            address: text("address")?,
            protocol: text("protocol")?,
            kind: text("runtime_type")?,
            label: optional("label")?,
            description: optional("description")?,
            secret: optional("secret")?,
        },
        registered: time("registered")?,
        seen: time("seen")?,
    })
}
