use roost_api::audit::{AuditEvent, AuditPage};
use sqlx::{Any, Row, Transaction};

use crate::{Ctx, Db, Result, TenantId, now_millis, parse_uuid};

/// What a writing method records about itself.
pub struct AuditEntry<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
}

/// Appends one event inside the caller's transaction, so the log and the change it describes
/// commit or roll back together. The per-tenant counter row also serialises writers of a tenant.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Any>,
    ctx: &Ctx,
    entry: AuditEntry<'_>,
) -> Result<i64> {
    let seq: i64 = sqlx::query(
        "UPDATE tenants SET audit_seq = audit_seq + 1 WHERE id = $1 RETURNING audit_seq",
    )
    .bind(ctx.tenant.s())
    .fetch_one(&mut **tx)
    .await?
    .try_get("audit_seq")?;
    sqlx::query(
        "INSERT INTO audit_events (tenant_id, seq, at, actor_user_id, actor_device_id, action,
            target_type, target_id, details, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(ctx.tenant.s())
    .bind(seq)
    .bind(now_millis())
    .bind(ctx.actor.user_id.map(|u| u.to_string()))
    .bind(ctx.actor.device_id.map(|u| u.to_string()))
    .bind(entry.action)
    .bind(entry.target_type)
    .bind(entry.target_id)
    .bind(entry.details.to_string())
    .bind(ctx.actor.ip.clone())
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

impl Db {
    /// Records an event on its own (e.g. a failed sign-in, which changes nothing else).
    pub async fn audit(&self, ctx: &Ctx, entry: AuditEntry<'_>) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let seq = append(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Newest first, `limit` events with `seq < before`.
    pub async fn audit_page(
        &self,
        tenant: TenantId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<AuditPage> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user_id, actor_device_id, action, target_type, target_id,
                    details, ip
             FROM audit_events WHERE tenant_id = $1 AND seq < $2
             ORDER BY seq DESC LIMIT $3",
        )
        .bind(tenant.s())
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in rows.iter().take(limit as usize) {
            let opt_uuid = |col: &str| -> Result<_> {
                row.try_get::<Option<String>, _>(col)?
                    .map(|s| parse_uuid(&s))
                    .transpose()
            };
            let details: String = row.try_get("details")?;
            events.push(AuditEvent {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                actor_user_id: opt_uuid("actor_user_id")?,
                actor_device_id: opt_uuid("actor_device_id")?,
                action: row.try_get("action")?,
                target_type: row.try_get("target_type")?,
                target_id: row.try_get("target_id")?,
                details: serde_json::from_str(&details)
                    .map_err(|e| crate::DbError::Corrupt(format!("audit details: {e}")))?,
                ip: row.try_get("ip")?,
            });
        }
        let next_before = if rows.len() > limit as usize {
            events.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_before,
        })
    }
}
