//! Knowledge items and clients, stored by imports with the same upsert plan as listings.

use roost_api::imports::{ImportReport, StoreCounts};
use roost_api::knowledge::{Client, KnowledgeItem, KnowledgeKind};
use roost_api::users::Role;
use sqlx::{Any, Row, Transaction};

use crate::actions::ACTION_CLIENT_PREFIX;
use crate::listings::{insert_report, reserve_seq};
use crate::native::Columns;
use crate::upsert::{existing, plan, tombstone};
use crate::users::{roles_from_db, roles_to_db};
use crate::{Ctx, Db, DbError, Result, TenantId, now_millis, parse_uuid};

/// A knowledge item to store, keyed by `source_key` (e.g. `agent_resource:commission-policy`).
pub struct KnowledgeWrite {
    pub source_key: String,
    pub kind: KnowledgeKind,
    pub title: String,
    pub body: String,
    pub audience: Vec<Role>,
    pub data: serde_json::Value,
    pub source: Option<String>,
    pub content_hash: String,
}

/// A client to store, keyed by the company's own reference.
pub struct ClientWrite {
    pub external_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub agent_email: Option<String>,
    pub data: serde_json::Value,
    pub content_hash: String,
}

pub(crate) const KNOWLEDGE_COLS: &str = "id, kind, title, body, audience, data, source, updated_at";
pub(crate) const CLIENT_COLS: &str =
    "id, external_id, name, email, phone, agent_user_id, agent_email, data, updated_at";

fn json_col<R: Columns>(row: &R, col: &str) -> Result<serde_json::Value> {
    serde_json::from_str(&row.col::<String>(col)?)
        .map_err(|e| DbError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn knowledge_from_row<R: Columns>(row: &R) -> Result<KnowledgeItem> {
    let kind: String = row.col("kind")?;
    Ok(KnowledgeItem {
        id: parse_uuid(&row.col::<String>("id")?)?,
        kind: KnowledgeKind::parse(&kind)
            .ok_or_else(|| DbError::Corrupt(format!("knowledge kind '{kind}'")))?,
        title: row.col("title")?,
        body: row.col("body")?,
        audience: roles_from_db(&row.col::<String>("audience")?)?,
        data: json_col(row, "data")?,
        source: row.col("source")?,
        updated_at: row.col("updated_at")?,
    })
}

pub(crate) fn client_from_row<R: Columns>(row: &R) -> Result<Client> {
    Ok(Client {
        id: parse_uuid(&row.col::<String>("id")?)?,
        external_id: row.col("external_id")?,
        name: row.col("name")?,
        email: row.col("email")?,
        phone: row.col("phone")?,
        agent_user_id: row
            .col::<Option<String>>("agent_user_id")?
            .map(|s| parse_uuid(&s))
            .transpose()?,
        agent_email: row.col("agent_email")?,
        data: json_col(row, "data")?,
        updated_at: row.col("updated_at")?,
    })
}

/// Who may see an item: everyone when the audience is empty, else a role in it.
pub fn audience_allows(audience: &[Role], acting: &[Role]) -> bool {
    audience.is_empty() || audience.iter().any(|r| acting.contains(r))
}

async fn user_ids_by_email(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
) -> Result<std::collections::HashMap<String, String>> {
    let rows = sqlx::query("SELECT id, email FROM users WHERE tenant_id = $1")
        .bind(tenant.s())
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("email")?,
                r.try_get::<String, _>("id")?,
            ))
        })
        .collect()
}

impl Db {
    /// Stores knowledge items in one transaction. With `replace_scope`, live items whose key
    /// starts with it and that the file lacks are removed (e.g. the older chunks of a
    /// re-uploaded document).
    pub async fn apply_knowledge_import(
        &self,
        ctx: &Ctx,
        rows: Vec<KnowledgeWrite>,
        replace_scope: Option<&str>,
        report: &mut ImportReport,
    ) -> Result<StoreCounts> {
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        let existing = existing(&mut tx, "knowledge", "source_key", ctx.tenant).await?;
        let in_scope = |k: &str| k.starts_with(replace_scope.unwrap_or(""));
        let plan = plan(
            &existing,
            &rows,
            |r| r.source_key.as_str(),
            |r| r.content_hash.as_str(),
            replace_scope.is_some().then_some(&in_scope),
        );
        if plan.changes() > 0 {
            let mut seq = reserve_seq(&mut tx, ctx.tenant, plan.changes()).await?;
            for (id, w, insert) in &plan.writes {
                let sql = if *insert {
                    "INSERT INTO knowledge (tenant_id, id, source_key, kind, title, body, audience,
                        data, source, content_hash, seq, import_id, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"
                } else {
                    "UPDATE knowledge SET source_key = $3, kind = $4, title = $5, body = $6,
                        audience = $7, data = $8, source = $9, content_hash = $10, seq = $11,
                        import_id = $12, updated_at = $13, deleted_at = NULL
                     WHERE tenant_id = $1 AND id = $2"
                };
                sqlx::query(sql)
                    .bind(ctx.tenant.s())
                    .bind(id)
                    .bind(&w.source_key)
                    .bind(w.kind.as_str())
                    .bind(&w.title)
                    .bind(&w.body)
                    .bind(roles_to_db(&w.audience))
                    .bind(w.data.to_string())
                    .bind(w.source.clone())
                    .bind(&w.content_hash)
                    .bind(seq)
                    .bind(report.id.to_string())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                seq += 1;
            }
            tombstone(&mut tx, "knowledge", ctx.tenant, &plan.removed, seq, now).await?;
        }
        report.stored = Some(plan.counts.clone());
        insert_report(&mut tx, ctx, report).await?;
        tx.commit().await?;
        Ok(plan.counts)
    }

    /// Stores clients in one transaction, linking each to the tenant user whose email the
    /// file names as its agent.
    pub async fn apply_client_import(
        &self,
        ctx: &Ctx,
        rows: Vec<ClientWrite>,
        replace: bool,
        report: &mut ImportReport,
    ) -> Result<StoreCounts> {
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        let agents = user_ids_by_email(&mut tx, ctx.tenant).await?;
        let existing = existing(&mut tx, "clients", "external_id", ctx.tenant).await?;
        let plan = plan(
            &existing,
            &rows,
            |r| r.external_id.as_str(),
            |r| r.content_hash.as_str(),
            // Clients agents created in the app are not the file's to remove.
            replace.then_some(&|k: &str| !k.starts_with(ACTION_CLIENT_PREFIX)),
        );
        if plan.changes() > 0 {
            let mut seq = reserve_seq(&mut tx, ctx.tenant, plan.changes()).await?;
            for (id, w, insert) in &plan.writes {
                let agent_email = w.agent_email.as_ref().map(|e| e.trim().to_lowercase());
                let agent_id = agent_email.as_ref().and_then(|e| agents.get(e)).cloned();
                let sql = if *insert {
                    "INSERT INTO clients (tenant_id, id, external_id, name, email, phone,
                        agent_user_id, agent_email, data, content_hash, seq, import_id,
                        created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"
                } else {
                    "UPDATE clients SET external_id = $3, name = $4, email = $5, phone = $6,
                        agent_user_id = $7, agent_email = $8, data = $9, content_hash = $10,
                        seq = $11, import_id = $12, updated_at = $13, deleted_at = NULL
                     WHERE tenant_id = $1 AND id = $2"
                };
                sqlx::query(sql)
                    .bind(ctx.tenant.s())
                    .bind(id)
                    .bind(&w.external_id)
                    .bind(&w.name)
                    .bind(w.email.clone())
                    .bind(w.phone.clone())
                    .bind(agent_id)
                    .bind(agent_email)
                    .bind(w.data.to_string())
                    .bind(&w.content_hash)
                    .bind(seq)
                    .bind(report.id.to_string())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                seq += 1;
            }
            tombstone(&mut tx, "clients", ctx.tenant, &plan.removed, seq, now).await?;
        }
        report.stored = Some(plan.counts.clone());
        insert_report(&mut tx, ctx, report).await?;
        tx.commit().await?;
        Ok(plan.counts)
    }

    /// Live knowledge items the acting roles may see, newest first (at most `limit`), with
    /// the shared knowledge base's after them when `include_shared`.
    pub async fn knowledge_items(
        &self,
        tenant: TenantId,
        acting: &[Role],
        limit: u32,
        include_shared: bool,
    ) -> Result<Vec<KnowledgeItem>> {
        let mut out = self.knowledge_of(tenant, acting, limit).await?;
        if include_shared && tenant != crate::SHARED_TENANT {
            out.extend(
                self.knowledge_of(crate::SHARED_TENANT, acting, limit)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn knowledge_of(
        &self,
        tenant: TenantId,
        acting: &[Role],
        limit: u32,
    ) -> Result<Vec<KnowledgeItem>> {
        let sql = format!(
            "SELECT {KNOWLEDGE_COLS} FROM knowledge WHERE tenant_id = $1 AND deleted_at IS NULL
             ORDER BY seq DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for row in &rows {
            let item = knowledge_from_row(row)?;
            if audience_allows(&item.audience, acting) {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// Live clients: all of them for managers and admins, an agent's own otherwise.
    pub async fn clients(
        &self,
        tenant: TenantId,
        user: uuid::Uuid,
        acting: &[Role],
    ) -> Result<Vec<Client>> {
        let all = acting
            .iter()
            .any(|r| matches!(r, Role::Admin | Role::Manager));
        let sql = format!(
            "SELECT {CLIENT_COLS} FROM clients WHERE tenant_id = $1 AND deleted_at IS NULL
               AND ($2 = 1 OR agent_user_id = $3)
             ORDER BY name"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(i64::from(all))
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(client_from_row).collect()
    }
}
