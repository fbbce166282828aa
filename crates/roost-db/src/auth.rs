//! Devices and their refresh tokens. Only SHA-256 digests of refresh tokens are stored; the
//! server hashes before calling in here.

use roost_api::auth::Device;
use roost_api::users::{Role, User};
use serde_json::json;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use crate::audit::{AuditEntry, append};
use crate::users::roles_from_db;
use crate::{Actor, Ctx, Db, DbError, Result, TenantId, now_millis, parse_uuid};

/// A user found by email for sign-in, with the hash to verify against.
pub struct LoginCandidate {
    pub user: User,
    pub password_hash: String,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum RefreshOutcome {
    /// The token was current: it is now spent and `new_hash` is the device's token.
    Rotated { user_id: Uuid, device_id: Uuid },
    /// The token had been used before: someone holds a copy. The device is now revoked.
    Reused { user_id: Uuid, device_id: Uuid },
    /// Unknown, expired, or its device or user is no longer allowed.
    Invalid,
}

/// The live state behind an access token, read on every request so revocation, deactivation
/// and role changes take effect at once.
pub struct AccessCheck {
    pub roles: Vec<Role>,
}

pub(crate) async fn revoke_user_devices(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    user: Uuid,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE devices SET revoked_at = $3
         WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(tenant.s())
    .bind(user.to_string())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

async fn revoke_device_tx(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    device: Uuid,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE devices SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
    )
    .bind(tenant.s())
    .bind(device.to_string())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

impl Db {
    pub async fn login_candidate(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> Result<Option<LoginCandidate>> {
        let row = sqlx::query(
            "SELECT id, email, name, roles, active, created_at, password_hash
             FROM users WHERE tenant_id = $1 AND email = $2",
        )
        .bind(tenant.s())
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id")?;
        let roles: String = row.try_get("roles")?;
        Ok(Some(LoginCandidate {
            user: User {
                id: parse_uuid(&id)?,
                email: row.try_get("email")?,
                name: row.try_get("name")?,
                roles: roles_from_db(&roles)?,
                active: row.try_get::<i64, _>("active")? != 0,
                created_at: row.try_get("created_at")?,
            },
            password_hash: row.try_get("password_hash")?,
        }))
    }

    /// Registers a signed-in device with its first refresh token. `ctx.actor.user_id` is the
    /// user signing in.
    pub async fn start_session(
        &self,
        ctx: &Ctx,
        user: Uuid,
        device_name: &str,
        refresh_hash: &str,
        refresh_ttl_ms: i64,
        device_id: Uuid,
    ) -> Result<()> {
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO devices (tenant_id, id, user_id, name, created_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(ctx.tenant.s())
        .bind(device_id.to_string())
        .bind(user.to_string())
        .bind(device_name.trim())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_refresh(
            &mut tx,
            ctx.tenant,
            device_id,
            refresh_hash,
            now,
            refresh_ttl_ms,
        )
        .await?;
        append(
            &mut tx,
            ctx,
            AuditEntry {
                action: "auth.login",
                target_type: "device",
                target_id: Some(device_id.to_string()),
                details: json!({ "device_name": device_name.trim() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Spends `old_hash` and stores `new_hash` for the same device, or detects reuse.
    pub async fn rotate_refresh(
        &self,
        tenant: TenantId,
        old_hash: &str,
        new_hash: &str,
        refresh_ttl_ms: i64,
        ip: Option<String>,
    ) -> Result<RefreshOutcome> {
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "SELECT r.device_id, r.expires_at, r.used_at, d.user_id, d.revoked_at, u.active
             FROM refresh_tokens r
             JOIN devices d ON d.tenant_id = r.tenant_id AND d.id = r.device_id
             JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
             WHERE r.tenant_id = $1 AND r.token_hash = $2",
        )
        .bind(tenant.s())
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(RefreshOutcome::Invalid);
        };
        let device_id = parse_uuid(&row.try_get::<String, _>("device_id")?)?;
        let user_id = parse_uuid(&row.try_get::<String, _>("user_id")?)?;
        let used: Option<i64> = row.try_get("used_at")?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let active = row.try_get::<i64, _>("active")? != 0;
        if revoked.is_some() || !active || expires_at <= now {
            return Ok(RefreshOutcome::Invalid);
        }
        let ctx = Ctx {
            tenant,
            actor: Actor {
                user_id: Some(user_id),
                device_id: Some(device_id),
                ip,
            },
        };
        // The conditional update makes two racing refreshes with one token resolve to one
        // rotation and one reuse.
        let spent = used.is_none()
            && sqlx::query(
                "UPDATE refresh_tokens SET used_at = $3
                 WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL",
            )
            .bind(tenant.s())
            .bind(old_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        if !spent {
            revoke_device_tx(&mut tx, tenant, device_id).await?;
            append(
                &mut tx,
                &ctx,
                AuditEntry {
                    action: "auth.refresh_token_reused",
                    target_type: "device",
                    target_id: Some(device_id.to_string()),
                    details: json!({ "revoked": true }),
                },
            )
            .await?;
            tx.commit().await?;
            return Ok(RefreshOutcome::Reused { user_id, device_id });
        }
        insert_refresh(&mut tx, tenant, device_id, new_hash, now, refresh_ttl_ms).await?;
        sqlx::query("UPDATE devices SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.s())
            .bind(device_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RefreshOutcome::Rotated { user_id, device_id })
    }

    /// The current roles of `user` if the user is active and `device` is theirs and not revoked.
    pub async fn check_access(
        &self,
        tenant: TenantId,
        user: Uuid,
        device: Uuid,
    ) -> Result<Option<AccessCheck>> {
        let row = sqlx::query(
            "SELECT u.roles, u.active, d.revoked_at FROM devices d
             JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
             WHERE d.tenant_id = $1 AND d.id = $2 AND d.user_id = $3",
        )
        .bind(tenant.s())
        .bind(device.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        if revoked.is_some() || row.try_get::<i64, _>("active")? == 0 {
            return Ok(None);
        }
        Ok(Some(AccessCheck {
            roles: roles_from_db(&row.try_get::<String, _>("roles")?)?,
        }))
    }

    pub async fn devices(
        &self,
        tenant: TenantId,
        user: Uuid,
        current: Uuid,
    ) -> Result<Vec<Device>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_seen_at FROM devices
             WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL
             ORDER BY created_at",
        )
        .bind(tenant.s())
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id = parse_uuid(&row.try_get::<String, _>("id")?)?;
                Ok(Device {
                    id,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    last_seen_at: row.try_get("last_seen_at")?,
                    current: id == current,
                })
            })
            .collect()
    }

    /// Signs out one of the acting user's own devices (logout, or "sign out that laptop").
    pub async fn revoke_own_device(&self, ctx: &Ctx, device: Uuid, action: &str) -> Result<()> {
        let user = ctx.actor.user_id.ok_or(DbError::NotFound)?;
        let mut tx = self.write_tx().await?;
        let owned = sqlx::query(
            "SELECT id FROM devices WHERE tenant_id = $1 AND id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(ctx.tenant.s())
        .bind(device.to_string())
        .bind(user.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if owned.is_none() {
            return Err(DbError::NotFound);
        }
        revoke_device_tx(&mut tx, ctx.tenant, device).await?;
        append(
            &mut tx,
            ctx,
            AuditEntry {
                action,
                target_type: "device",
                target_id: Some(device.to_string()),
                details: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_refresh(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    device: Uuid,
    hash: &str,
    now: i64,
    ttl_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (tenant_id, token_hash, device_id, issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant.s())
    .bind(hash)
    .bind(device.to_string())
    .bind(now)
    .bind(now + ttl_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
