use roost_api::config::{TenantConfig, VersionedConfig};
use serde_json::json;
use sqlx::Row;

use crate::audit::{AuditEntry, append};
use crate::{Ctx, Db, DbError, Result, TenantId, now_millis};

impl Db {
    pub async fn config(&self, tenant: TenantId) -> Result<VersionedConfig> {
        let t = self.tenant(tenant).await?;
        let row = sqlx::query("SELECT version, body FROM tenant_configs WHERE tenant_id = $1")
            .bind(tenant.s())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        let body: String = row.try_get("body")?;
        Ok(VersionedConfig {
            version: row.try_get("version")?,
            tier: t.tier,
            config: serde_json::from_str(&body)
                .map_err(|e| DbError::Corrupt(format!("tenant config: {e}")))?,
        })
    }

    /// Replaces the config if `expected_version` is still current; returns the new version.
    pub async fn put_config(
        &self,
        ctx: &Ctx,
        expected_version: i64,
        config: &TenantConfig,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let seq = crate::listings::reserve_seq(&mut tx, ctx.tenant, 1).await?;
        let updated = sqlx::query(
            "UPDATE tenant_configs SET version = version + 1, body = $3, updated_at = $4,
                updated_by = $5, seq = $6
             WHERE tenant_id = $1 AND version = $2
             RETURNING version",
        )
        .bind(ctx.tenant.s())
        .bind(expected_version)
        .bind(serde_json::to_string(config).expect("config serialises"))
        .bind(now_millis())
        .bind(ctx.actor.user_id.map(|u| u.to_string()))
        .bind(seq)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = updated else {
            let current: i64 =
                sqlx::query("SELECT version FROM tenant_configs WHERE tenant_id = $1")
                    .bind(ctx.tenant.s())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("version")?;
            return Err(DbError::StaleVersion {
                expected: expected_version,
                current,
            });
        };
        let version: i64 = row.try_get("version")?;
        append(
            &mut tx,
            ctx,
            AuditEntry {
                action: "config.update",
                target_type: "config",
                target_id: Some(version.to_string()),
                details: json!({ "version": version, "config": config }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }
}
