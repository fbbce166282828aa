//! Actions (WhatsApp showcases, CRM leads) performed once per idempotency key.
//!
//! The server claims a key ([`Db::claim_action`]: the row in `sending`, a new client when
//! the action brings one, and the audit events, in one transaction), performs the effect
//! outside any transaction, then stores the outcome ([`Db::finish_action`], with its audit
//! event). A repeat of a finished key reads the stored record; a claim older than the stale
//! limit (the server died mid-effect) may be taken over by a retry.

use roost_api::actions::{ActionList, ActionRecord, ActionRequest, ActionStatus};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use crate::audit::{AuditEntry, append};
use crate::listings::reserve_seq;
use crate::{Ctx, Db, DbError, Result, TenantId, now_millis, parse_uuid};

/// A stored action with what the server needs beyond the public record.
#[derive(Debug, Clone)]
pub struct StoredAction {
    pub record: ActionRecord,
    pub user_id: Uuid,
    pub request_hash: String,
    /// Internal state: `sending`, `retry`, `delivered` or `failed`.
    pub state: String,
    pub claimed_at: Option<i64>,
    pub attempts: i64,
}

impl StoredAction {
    pub fn finished(&self) -> bool {
        matches!(self.state.as_str(), "delivered" | "failed")
    }
}

/// A client the action creates in Roost's records (a new client, or a lead), assigned to
/// the acting user.
#[derive(Debug, Clone)]
pub struct NewActionClient {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub data: serde_json::Value,
}

/// What [`Db::claim_action`] claims: the caller's key and request, and the client the
/// action concerns (one to create, or an existing one's id).
#[derive(Debug)]
pub struct ClaimRequest<'a> {
    pub key: &'a str,
    pub request: &'a ActionRequest,
    /// Hash of the request's canonical JSON: a key reused for another request differs.
    pub request_hash: &'a str,
    pub client: Option<NewActionClient>,
    pub existing_client: Option<Uuid>,
    /// Claims still `sending` from before this time are taken over.
    pub stale_before: i64,
}

/// What [`Db::claim_action`] found.
#[derive(Debug)]
pub enum Claim {
    /// This request owns the attempt now (a new row, a row waiting for a retry, or a stale
    /// claim taken over): perform the effect, then [`Db::finish_action`].
    Claimed(StoredAction),
    /// Finished before: answer with the stored record.
    Done(StoredAction),
    /// Another request is performing it right now.
    InFlight(StoredAction),
    /// The key was used for another request.
    Mismatch,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum ActionOutcome {
    Delivered {
        external_id: Option<String>,
    },
    Failed {
        reason: String,
    },
    /// Temporary: the row waits for the device's retry with the same key.
    Retry {
        reason: String,
        after_s: u64,
    },
}

/// The `external_id` prefix of clients created by an action (a new client named in the app):
/// theirs, not an import file's, so a client import that replaces leaves them.
pub(crate) const ACTION_CLIENT_PREFIX: &str = "roost:";

const COLS: &str = "id, user_id, idempotency_key, request_hash, request, status, claimed_at, \
    attempts, reason, retry_after_s, external_id, client_id, created_at, updated_at, delivery";

fn from_row(row: &AnyRow) -> Result<StoredAction> {
    let state: String = row.try_get("status")?;
    let delivery: Option<String> = row.try_get("delivery")?;
    let status = match state.as_str() {
        "delivered" if delivery.as_deref() == Some("read") => ActionStatus::Read,
        "delivered" => ActionStatus::Delivered,
        "failed" => ActionStatus::Failed,
        // Waiting for a retry is still on its way, with the reason and wait filled in.
        "sending" | "retry" => ActionStatus::Sending,
        other => return Err(DbError::Corrupt(format!("action status '{other}'"))),
    };
    let request: ActionRequest = serde_json::from_str(&row.try_get::<String, _>("request")?)
        .map_err(|e| DbError::Corrupt(format!("action request: {e}")))?;
    Ok(StoredAction {
        record: ActionRecord {
            id: parse_uuid(&row.try_get::<String, _>("id")?)?,
            idempotency_key: row.try_get("idempotency_key")?,
            request,
            status,
            reason: row.try_get("reason")?,
            retry_after_s: row
                .try_get::<Option<i64>, _>("retry_after_s")?
                .map(|s| s.max(0) as u64),
            external_id: row.try_get("external_id")?,
            client_id: row
                .try_get::<Option<String>, _>("client_id")?
                .map(|s| parse_uuid(&s))
                .transpose()?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
        user_id: parse_uuid(&row.try_get::<String, _>("user_id")?)?,
        request_hash: row.try_get("request_hash")?,
        state,
        claimed_at: row.try_get("claimed_at")?,
        attempts: row.try_get("attempts")?,
    })
}

async fn by_key(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    user: Uuid,
    key: &str,
) -> Result<Option<StoredAction>> {
    let sql = format!(
        "SELECT {COLS} FROM actions WHERE tenant_id = $1 AND user_id = $2 AND idempotency_key = $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.s())
        .bind(user.to_string())
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

async fn by_id(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    id: Uuid,
) -> Result<StoredAction> {
    let sql = format!("SELECT {COLS} FROM actions WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.s())
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(DbError::NotFound)?;
    from_row(&row)
}

fn kind_of(req: &ActionRequest) -> &'static str {
    match req {
        ActionRequest::SendShowcase { .. } => "send_showcase",
        ActionRequest::CreateLead { .. } => "create_lead",
    }
}

impl Db {
    /// The caller's action with `key`, if any (read-only; [`Db::claim_action`] decides).
    pub async fn action_by_key(
        &self,
        tenant: TenantId,
        user: Uuid,
        key: &str,
    ) -> Result<Option<StoredAction>> {
        let mut tx = self.pool.begin().await?;
        let found = by_key(&mut tx, tenant, user, key).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Claims `key` for the acting user: inserts the action in `sending` (with `client` as a
    /// new client record assigned to the user, in the change feed) and `action.created`;
    /// or takes over a row waiting for a retry, or whose claim is older than
    /// `stale_before`. The request's hash must match the stored one.
    pub async fn claim_action(&self, ctx: &Ctx, claim: &ClaimRequest<'_>) -> Result<Claim> {
        let user = ctx
            .actor
            .user_id
            .ok_or_else(|| DbError::Corrupt("an action needs an acting user".into()))?;
        // A concurrent first request may win the insert; the second pass reads its row.
        for _ in 0..2 {
            match self.try_claim(ctx, user, claim).await {
                Err(DbError::Sqlx(sqlx::Error::Database(d))) if d.is_unique_violation() => {
                    continue;
                }
                other => return other,
            }
        }
        Err(DbError::Conflict(
            "the idempotency key is being claimed by another request".into(),
        ))
    }

    async fn try_claim(&self, ctx: &Ctx, user: Uuid, claim: &ClaimRequest<'_>) -> Result<Claim> {
        let ClaimRequest {
            key,
            request,
            request_hash,
            client,
            existing_client,
            stale_before,
        } = claim;
        let (key, request, request_hash, existing_client, stale_before) = (
            *key,
            *request,
            *request_hash,
            *existing_client,
            *stale_before,
        );
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        if let Some(found) = by_key(&mut tx, ctx.tenant, user, key).await? {
            if found.request_hash != request_hash {
                return Ok(Claim::Mismatch);
            }
            if found.finished() {
                return Ok(Claim::Done(found));
            }
            // Compare-and-set on the state seen, so two retries never both take it.
            let taken = sqlx::query(
                "UPDATE actions SET status = 'sending', claimed_at = $3, updated_at = $3
                 WHERE tenant_id = $1 AND id = $2
                   AND (status = 'retry' OR (status = 'sending' AND claimed_at < $4))",
            )
            .bind(ctx.tenant.s())
            .bind(found.record.id.to_string())
            .bind(now)
            .bind(stale_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken == 0 {
                return Ok(Claim::InFlight(found));
            }
            let claimed = by_id(&mut tx, ctx.tenant, found.record.id).await?;
            tx.commit().await?;
            return Ok(Claim::Claimed(claimed));
        }
        let id = Uuid::new_v4();
        let client_id = match client {
            Some(c) => {
                let cid = Uuid::new_v4();
                let seq = reserve_seq(&mut tx, ctx.tenant, 1).await?;
                let agent_email: Option<String> =
                    sqlx::query("SELECT email FROM users WHERE tenant_id = $1 AND id = $2")
                        .bind(ctx.tenant.s())
                        .bind(user.to_string())
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| r.try_get("email"))
                        .transpose()?;
                let data = c.data.to_string();
                let hash = format!("roost-action:{id}");
                sqlx::query(
                    "INSERT INTO clients (tenant_id, id, external_id, name, email, phone,
                        agent_user_id, agent_email, data, content_hash, seq, import_id,
                        created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $12)",
                )
                .bind(ctx.tenant.s())
                .bind(cid.to_string())
                .bind(format!("{ACTION_CLIENT_PREFIX}{cid}"))
                .bind(&c.name)
                .bind(c.email.clone())
                .bind(c.phone.clone())
                .bind(user.to_string())
                .bind(agent_email)
                .bind(data)
                .bind(hash)
                .bind(seq)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                append(
                    &mut tx,
                    ctx,
                    AuditEntry {
                        action: "client.created",
                        target_type: "client",
                        target_id: Some(cid.to_string()),
                        details: json!({ "action_id": id, "source": "action" }),
                    },
                )
                .await?;
                Some(cid)
            }
            None => existing_client,
        };
        let request_json = serde_json::to_string(request)
            .map_err(|e| DbError::Corrupt(format!("action request: {e}")))?;
        let seq = reserve_seq(&mut tx, ctx.tenant, 1).await?;
        sqlx::query(
            "INSERT INTO actions (tenant_id, id, user_id, idempotency_key, request_hash, request,
                kind, status, claimed_at, attempts, reason, retry_after_s, external_id, client_id,
                created_at, updated_at, seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'sending', $8, 0, NULL, NULL, NULL, $9, $8, $8,
                $10)",
        )
        .bind(ctx.tenant.s())
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(key)
        .bind(request_hash)
        .bind(request_json)
        .bind(kind_of(request))
        .bind(now)
        .bind(client_id.map(|c| c.to_string()))
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        let mut details = json!({ "kind": kind_of(request), "client_id": client_id });
        if let ActionRequest::SendShowcase {
            channel, listings, ..
        } = request
        {
            details["channel"] = json!(channel);
            details["listings"] = json!(listings);
        }
        if let ActionRequest::CreateLead { lead } = request {
            details["listings"] = json!(lead.listings);
        }
        append(
            &mut tx,
            ctx,
            AuditEntry {
                action: "action.created",
                target_type: "action",
                target_id: Some(id.to_string()),
                details,
            },
        )
        .await?;
        let claimed = by_id(&mut tx, ctx.tenant, id).await?;
        tx.commit().await?;
        Ok(Claim::Claimed(claimed))
    }

    /// Stores how the attempt claimed at `claimed_at` ended, with its audit event. When the
    /// claim was taken over meanwhile, nothing changes and the current row is returned.
    pub async fn finish_action(
        &self,
        ctx: &Ctx,
        id: Uuid,
        claimed_at: Option<i64>,
        outcome: &ActionOutcome,
    ) -> Result<StoredAction> {
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        // Taken before the update so every writer of the tenant locks the counter first.
        let seq = reserve_seq(&mut tx, ctx.tenant, 1).await?;
        let (status, reason, after, external, event) = match outcome {
            ActionOutcome::Delivered { external_id } => (
                "delivered",
                None,
                None,
                external_id.clone(),
                "action.delivered",
            ),
            ActionOutcome::Failed { reason } => {
                ("failed", Some(reason.clone()), None, None, "action.failed")
            }
            ActionOutcome::Retry { reason, after_s } => (
                "retry",
                Some(reason.clone()),
                Some(*after_s as i64),
                None,
                "action.retrying",
            ),
        };
        let changed = sqlx::query(
            "UPDATE actions SET status = $3, reason = $4, retry_after_s = $5, external_id = $6,
                attempts = attempts + 1, updated_at = $7, seq = $9
             WHERE tenant_id = $1 AND id = $2 AND status = 'sending'
               AND COALESCE(claimed_at, 0) = $8",
        )
        .bind(ctx.tenant.s())
        .bind(id.to_string())
        .bind(status)
        .bind(reason.clone())
        .bind(after)
        .bind(external.clone())
        .bind(now)
        .bind(claimed_at.unwrap_or(0))
        .bind(seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Statuses WhatsApp sent before this outcome named its message apply now.
        if changed > 0
            && let ActionOutcome::Delivered {
                external_id: Some(wamid),
            } = outcome
        {
            crate::whatsapp::apply_waiting_statuses(&mut tx, ctx, &id.to_string(), wamid, now)
                .await?;
        }
        if changed > 0 {
            append(
                &mut tx,
                ctx,
                AuditEntry {
                    action: event,
                    target_type: "action",
                    target_id: Some(id.to_string()),
                    details: json!({
                        "reason": reason,
                        "external_id": external,
                        "retry_after_s": after,
                    }),
                },
            )
            .await?;
        }
        let row = by_id(&mut tx, ctx.tenant, id).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// One of `user`'s actions.
    pub async fn action(&self, tenant: TenantId, user: Uuid, id: Uuid) -> Result<ActionRecord> {
        let sql =
            format!("SELECT {COLS} FROM actions WHERE tenant_id = $1 AND id = $2 AND user_id = $3");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(id.to_string())
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        Ok(from_row(&row)?.record)
    }

    /// `user`'s actions, newest first: `limit` of them created before the cursor `before`
    /// (`<created_at>.<id>` from the previous page).
    pub async fn actions_page(
        &self,
        tenant: TenantId,
        user: Uuid,
        before: Option<(i64, Uuid)>,
        limit: u32,
    ) -> Result<ActionList> {
        let (at, id) = before
            .map(|(at, id)| (at, id.to_string()))
            .unwrap_or((i64::MAX, String::new()));
        let sql = format!(
            "SELECT {COLS} FROM actions WHERE tenant_id = $1 AND user_id = $2
               AND (created_at < $3 OR (created_at = $3 AND id < $4))
             ORDER BY created_at DESC, id DESC LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(user.to_string())
            .bind(at)
            .bind(id)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let mut actions = Vec::with_capacity(rows.len());
        for row in rows.iter().take(limit as usize) {
            actions.push(from_row(row)?.record);
        }
        let next_before = if rows.len() > limit as usize {
            actions.last().map(|a| format!("{}.{}", a.created_at, a.id))
        } else {
            None
        };
        Ok(ActionList {
            actions,
            next_before,
        })
    }

    /// `user`'s actions that changed after `since` (up to `upto`), for the change feed:
    /// each device learns how its actions ended, and what WhatsApp said of them later.
    pub(crate) async fn action_changes(
        &self,
        tenant: TenantId,
        user: Uuid,
        since: i64,
        upto: i64,
        limit: u32,
    ) -> Result<Vec<(i64, ActionRecord)>> {
        let sql = format!(
            "SELECT {COLS}, seq FROM actions
             WHERE tenant_id = $1 AND user_id = $2 AND seq > $3 AND seq <= $4
             ORDER BY seq LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(user.to_string())
            .bind(since)
            .bind(upto)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("seq")?, from_row(row)?.record)))
            .collect()
    }

    /// A live client of the tenant with its last inbound WhatsApp time.
    pub async fn client_for_action(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<(roost_api::knowledge::Client, Option<i64>)> {
        let sql = format!(
            "SELECT {}, whatsapp_inbound_at FROM clients
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
            crate::knowledge::CLIENT_COLS
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        Ok((
            crate::knowledge::client_from_row(&row)?,
            row.try_get("whatsapp_inbound_at")?,
        ))
    }
}
