use roost_api::users::{Role, User, normalize_roles};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use crate::audit::{AuditEntry, append};
use crate::{Ctx, Db, DbError, Result, TenantId, conflict_on_unique, now_millis, parse_uuid};

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub active: Option<bool>,
}

pub(crate) fn roles_to_db(roles: &[Role]) -> String {
    normalize_roles(roles)
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn roles_from_db(s: &str) -> Result<Vec<Role>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| Role::parse(p).ok_or_else(|| DbError::Corrupt(format!("role '{p}'"))))
        .collect()
}

const USER_COLS: &str = "id, email, name, roles, active, created_at";

fn user_from_row(row: &AnyRow) -> Result<User> {
    let id: String = row.try_get("id")?;
    let roles: String = row.try_get("roles")?;
    Ok(User {
        id: parse_uuid(&id)?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        roles: roles_from_db(&roles)?,
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_user(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    id: Uuid,
    email: &str,
    name: &str,
    password_hash: &str,
    roles: &[Role],
    now: i64,
) -> Result<()> {
    let email = email.trim().to_lowercase();
    sqlx::query(
        "INSERT INTO users (tenant_id, id, email, name, password_hash, roles, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
    )
    .bind(tenant.s())
    .bind(id.to_string())
    .bind(&email)
    .bind(name.trim())
    .bind(password_hash)
    .bind(roles_to_db(roles))
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(|e| conflict_on_unique(e, || format!("a user with email '{email}' already exists")))?;
    Ok(())
}

async fn user_in_tx(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    id: Uuid,
) -> Result<User> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.s())
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(DbError::NotFound)?;
    user_from_row(&row)
}

impl Db {
    pub async fn create_user(
        &self,
        ctx: &Ctx,
        email: &str,
        name: &str,
        password_hash: &str,
        roles: &[Role],
    ) -> Result<User> {
        let id = Uuid::now_v7();
        let mut tx = self.write_tx().await?;
        insert_user(
            &mut tx,
            ctx.tenant,
            id,
            email,
            name,
            password_hash,
            roles,
            now_millis(),
        )
        .await?;
        let user = user_in_tx(&mut tx, ctx.tenant, id).await?;
        append(
            &mut tx,
            ctx,
            AuditEntry {
                action: "user.create",
                target_type: "user",
                target_id: Some(id.to_string()),
                details: json!({ "email": user.email, "name": user.name, "roles": user.roles }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn users(&self, tenant: TenantId) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE tenant_id = $1 ORDER BY email");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }

    pub async fn user(&self, tenant: TenantId, id: Uuid) -> Result<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        user_from_row(&row)
    }

    /// Applies `patch`. Deactivating a user revokes all their devices. The tenant always keeps
    /// at least one active admin: a change that would remove the last one is a conflict.
    pub async fn update_user(&self, ctx: &Ctx, id: Uuid, patch: UserPatch) -> Result<User> {
        let mut tx = self.write_tx().await?;
        let before = user_in_tx(&mut tx, ctx.tenant, id).await?;
        let name = patch.name.clone().unwrap_or_else(|| before.name.clone());
        let roles = patch
            .roles
            .as_deref()
            .map(normalize_roles)
            .unwrap_or_else(|| before.roles.clone());
        let active = patch.active.unwrap_or(before.active);
        let was_admin = before.active && before.roles.contains(&Role::Admin);
        let stays_admin = active && roles.contains(&Role::Admin);
        if was_admin && !stays_admin {
            let admins: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM users
                 WHERE tenant_id = $1 AND active = 1 AND id <> $2
                   AND (',' || roles || ',') LIKE '%,admin,%'",
            )
            .bind(ctx.tenant.s())
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            if admins == 0 {
                return Err(DbError::Conflict(
                    "the company needs at least one active admin".into(),
                ));
            }
        }
        sqlx::query(
            "UPDATE users SET name = $3, roles = $4, active = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(ctx.tenant.s())
        .bind(id.to_string())
        .bind(name.trim())
        .bind(roles_to_db(&roles))
        .bind(i64::from(active))
        .execute(&mut *tx)
        .await?;
        let revoked = if before.active && !active {
            crate::auth::revoke_user_devices(&mut tx, ctx.tenant, id).await?
        } else {
            0
        };
        let after = user_in_tx(&mut tx, ctx.tenant, id).await?;
        append(
            &mut tx,
            ctx,
            AuditEntry {
                action: "user.update",
                target_type: "user",
                target_id: Some(id.to_string()),
                details: json!({
                    "before": { "name": before.name, "roles": before.roles, "active": before.active },
                    "after": { "name": after.name, "roles": after.roles, "active": after.active },
                    "devices_revoked": revoked,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
