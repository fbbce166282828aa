//! What WhatsApp's webhooks tell a tenant: statuses of the showcases it sent (moving their
//! actions on, into the change feed) and the numbers that wrote to it (the 24-hour window).
//!
//! Each event is processed once: its (message id, status) is recorded in the transaction
//! that applies it, so a redelivery or a replayed capture changes nothing.

use serde_json::json;
use sqlx::Row;

use crate::audit::{AuditEntry, append};
use crate::listings::reserve_seq;
use crate::{Ctx, Db, Result, TenantId, now_millis};

/// One webhook event as the database needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhatsAppEvent {
    /// What happened to a message the business sent.
    Status {
        wamid: String,
        /// `sent`, `delivered`, `read`, `failed` or a status this code does not know.
        status: String,
        /// For `failed`: a sentence the agent can act on.
        failure: Option<String>,
    },
    /// A message from `wa_id` to the business, at `at` (ms).
    Inbound {
        wamid: String,
        wa_id: String,
        at: i64,
        profile_name: Option<String>,
    },
}

impl WhatsAppEvent {
    fn key(&self) -> (&str, &str) {
        match self {
            WhatsAppEvent::Status { wamid, status, .. } => (wamid, status),
            WhatsAppEvent::Inbound { wamid, .. } => (wamid, "inbound"),
        }
    }
}

/// What a delivery changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookApplied {
    /// Events seen for the first time.
    pub new: u32,
    /// Events already processed (redelivered or replayed).
    pub repeated: u32,
    /// Actions whose state moved.
    pub actions_updated: u32,
}

/// How far a delivery status goes; a status never moves back.
fn rank(delivery: Option<&str>) -> u8 {
    match delivery {
        Some("read") => 3,
        Some("delivered") => 2,
        Some("sent") => 1,
        _ => 0,
    }
}

impl Db {
    /// Applies a verified delivery's events in one transaction; events seen before are
    /// skipped. Statuses move the action that sent the message (found by WhatsApp's id):
    /// `delivered`/`read` forward only, `failed` unless it was already read.
    pub async fn apply_whatsapp_events(
        &self,
        ctx: &Ctx,
        events: &[WhatsAppEvent],
    ) -> Result<WebhookApplied> {
        let now = now_millis();
        let mut out = WebhookApplied::default();
        let mut tx = self.write_tx().await?;
        // The tenant's change counter first, as every writer takes it: no lock-order cycles.
        reserve_seq(&mut tx, ctx.tenant, 0).await?;
        for event in events {
            let (wamid, key) = event.key();
            let failure = match event {
                WhatsAppEvent::Status { failure, .. } => failure.clone(),
                WhatsAppEvent::Inbound { .. } => None,
            };
            let fresh = sqlx::query(
                "INSERT INTO whatsapp_events (tenant_id, wamid, event, failure, received_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(ctx.tenant.s())
            .bind(wamid)
            .bind(key)
            .bind(failure)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if fresh == 0 {
                out.repeated += 1;
                continue;
            }
            out.new += 1;
            match event {
                WhatsAppEvent::Inbound {
                    wa_id,
                    at,
                    profile_name,
                    ..
                } => {
                    sqlx::query(
                        "INSERT INTO whatsapp_contacts (tenant_id, wa_id, last_inbound_at, profile_name)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (tenant_id, wa_id) DO UPDATE SET
                           last_inbound_at = CASE WHEN excluded.last_inbound_at > whatsapp_contacts.last_inbound_at
                             THEN excluded.last_inbound_at ELSE whatsapp_contacts.last_inbound_at END,
                           profile_name = COALESCE(excluded.profile_name, whatsapp_contacts.profile_name)",
                    )
                    .bind(ctx.tenant.s())
                    .bind(wa_id)
                    .bind(*at)
                    .bind(profile_name.clone())
                    .execute(&mut *tx)
                    .await?;
                }
                WhatsAppEvent::Status {
                    wamid,
                    status,
                    failure,
                } => {
                    if let Some(action) = sqlx::query(
                        "SELECT id FROM actions
                         WHERE tenant_id = $1 AND external_id = $2 AND kind = 'send_showcase'",
                    )
                    .bind(ctx.tenant.s())
                    .bind(wamid)
                    .fetch_optional(&mut *tx)
                    .await?
                    {
                        let id: String = action.try_get("id")?;
                        if apply_status(&mut tx, ctx, &id, wamid, status, failure.as_deref(), now)
                            .await?
                        {
                            out.actions_updated += 1;
                        }
                    }
                    // Else it waits for `apply_waiting_statuses` (or was sent outside Roost).
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// When `wa_id` last wrote to the tenant's business number, if ever.
    pub async fn whatsapp_last_inbound(
        &self,
        tenant: TenantId,
        wa_id: &str,
    ) -> Result<Option<i64>> {
        Ok(sqlx::query(
            "SELECT last_inbound_at FROM whatsapp_contacts WHERE tenant_id = $1 AND wa_id = $2",
        )
        .bind(tenant.s())
        .bind(wa_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| r.try_get("last_inbound_at"))
        .transpose()?)
    }
}

/// Applies the statuses that arrived before the action's outcome named their message; called
/// in the transaction that stores a delivered showcase's WhatsApp id.
pub(crate) async fn apply_waiting_statuses(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ctx: &Ctx,
    action_id: &str,
    wamid: &str,
    now: i64,
) -> Result<()> {
    let rows = sqlx::query(
        "SELECT event, failure FROM whatsapp_events
         WHERE tenant_id = $1 AND wamid = $2 AND action_id IS NULL AND event <> 'inbound'
         ORDER BY received_at",
    )
    .bind(ctx.tenant.s())
    .bind(wamid)
    .fetch_all(&mut **tx)
    .await?;
    for row in rows {
        let status: String = row.try_get("event")?;
        let failure: Option<String> = row.try_get("failure")?;
        apply_status(tx, ctx, action_id, wamid, &status, failure.as_deref(), now).await?;
    }
    Ok(())
}

/// Moves action `id` by one status of its message; false when the status changes nothing
/// (older than what is known, or unknown). Marks the event as applied either way.
async fn apply_status(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ctx: &Ctx,
    id: &str,
    wamid: &str,
    status: &str,
    failure: Option<&str>,
    now: i64,
) -> Result<bool> {
    sqlx::query(
        "UPDATE whatsapp_events SET action_id = $4 WHERE tenant_id = $1 AND wamid = $2 AND event = $3",
    )
    .bind(ctx.tenant.s())
    .bind(wamid)
    .bind(status)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query("SELECT status, delivery FROM actions WHERE tenant_id = $1 AND id = $2")
        .bind(ctx.tenant.s())
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let state: String = row.try_get("status")?;
    let delivery: Option<String> = row.try_get("delivery")?;
    let (new_state, new_delivery, reason) = match status {
        "sent" | "delivered" | "read" if rank(Some(status)) > rank(delivery.as_deref()) => {
            (state.clone(), Some(status.to_string()), None)
        }
        "failed" if delivery.as_deref() != Some("read") && state != "failed" => (
            "failed".to_string(),
            delivery.clone(),
            Some(
                failure
                    .unwrap_or("WhatsApp could not deliver the message.")
                    .to_string(),
            ),
        ),
        _ => return Ok(false),
    };
    let seq = reserve_seq(tx, ctx.tenant, 1).await?;
    sqlx::query(
        "UPDATE actions SET status = $3, delivery = $4, reason = COALESCE($5, reason),
            updated_at = $6, seq = $7
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(ctx.tenant.s())
    .bind(id)
    .bind(&new_state)
    .bind(new_delivery)
    .bind(reason.clone())
    .bind(now)
    .bind(seq)
    .execute(&mut **tx)
    .await?;
    append(
        tx,
        ctx,
        AuditEntry {
            action: if new_state == "failed" && state != "failed" {
                "action.failed"
            } else {
                "action.status"
            },
            target_type: "action",
            target_id: Some(id.to_string()),
            details: json!({ "whatsapp_status": status, "wamid": wamid, "reason": reason }),
        },
    )
    .await?;
    Ok(true)
}
