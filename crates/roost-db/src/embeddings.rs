//! Listing embeddings: the backlog the server's embedding worker drains, and storage.

use roost_api::listings::Listing;
use sqlx::Row;

use crate::listings::{LISTING_COLS, listing_from_row, reserve_seq};
use crate::{Db, Result, TenantId, now_millis, parse_uuid};

/// A listing whose embedding is missing, stale, or of another model.
pub struct EmbeddingJob {
    pub listing: Listing,
    pub content_hash: String,
}

/// A vector made from `content_hash`'s content, as little-endian f32 bytes.
pub struct NewEmbedding {
    /// The listing's or knowledge item's id.
    pub id: uuid::Uuid,
    pub content_hash: String,
    pub vector: Vec<u8>,
}

/// Progress of an import's listings through embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbedProgress {
    pub written: u64,
    pub embedded: u64,
}

/// SQL condition: listing `l` has no embedding of the model bound as parameter `model_param`
/// for its current content.
fn stale(model_param: &str) -> String {
    stale_in(Embedded::Listings, model_param)
}

/// What carries embeddings: the table, its embeddings table and the key column there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedded {
    Listings,
    Knowledge,
}

impl Embedded {
    fn tables(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Embedded::Listings => ("listings", "listing_embeddings", "listing_id"),
            Embedded::Knowledge => ("knowledge", "knowledge_embeddings", "knowledge_id"),
        }
    }
}

/// SQL condition: row `l` of `what` has no embedding of the model in `model_param` for its
/// current content.
fn stale_in(what: Embedded, model_param: &str) -> String {
    let (_, emb, key) = what.tables();
    format!(
        "NOT EXISTS (SELECT 1 FROM {emb} e
            WHERE e.tenant_id = l.tenant_id AND e.{key} = l.id
              AND e.model = {model_param} AND e.content_hash = l.content_hash)"
    )
}

impl Db {
    /// Tenants that have listings waiting for an embedding of `model`.
    pub async fn tenants_with_embedding_backlog(&self, model: &str) -> Result<Vec<TenantId>> {
        let sql = format!(
            "SELECT DISTINCT l.tenant_id FROM listings l WHERE l.deleted_at IS NULL AND {}
             UNION
             SELECT DISTINCT l.tenant_id FROM knowledge l WHERE l.deleted_at IS NULL AND {}",
            stale("$1"),
            stale_in(Embedded::Knowledge, "$1")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(model)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TenantId::from_verified(parse_uuid(
                    &r.try_get::<String, _>("tenant_id")?,
                )?))
            })
            .collect()
    }

    /// Up to `limit` listings of `tenant` waiting for an embedding of `model`.
    pub async fn embedding_backlog(
        &self,
        tenant: TenantId,
        model: &str,
        limit: u32,
    ) -> Result<Vec<EmbeddingJob>> {
        let cols = crate::qualified(LISTING_COLS, "l");
        let sql = format!(
            "SELECT {cols}, l.content_hash FROM listings l
             WHERE l.tenant_id = $1 AND l.deleted_at IS NULL AND {}
             ORDER BY l.seq LIMIT $3",
            stale("$2")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(model)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(EmbeddingJob {
                    listing: listing_from_row(r)?,
                    content_hash: r.try_get("content_hash")?,
                })
            })
            .collect()
    }

    /// Stores vectors of `model`, skipping any whose listing changed meanwhile (its hash no
    /// longer matches: the next round embeds the new text). Each stored vector is a change
    /// of its listing for sync. Returns how many were stored.
    pub async fn store_embeddings(
        &self,
        tenant: TenantId,
        what: Embedded,
        model: &str,
        dim: usize,
        items: &[NewEmbedding],
    ) -> Result<u64> {
        let (table, emb, key) = what.tables();
        let bump = format!(
            "UPDATE {table} SET seq = $4
             WHERE tenant_id = $1 AND id = $2 AND content_hash = $3 AND deleted_at IS NULL"
        );
        let upsert = format!(
            "INSERT INTO {emb} (tenant_id, {key}, model, dim, vector, content_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant_id, {key}) DO UPDATE SET model = $3, dim = $4,
                vector = $5, content_hash = $6, created_at = $7"
        );
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        let mut seq = reserve_seq(&mut tx, tenant, items.len() as u64).await?;
        let mut stored = 0;
        for item in items {
            let bumped = sqlx::query(sqlx::AssertSqlSafe(bump.clone()))
                .bind(tenant.s())
                .bind(item.id.to_string())
                .bind(&item.content_hash)
                .bind(seq)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            seq += 1;
            if bumped == 0 {
                continue;
            }
            sqlx::query(sqlx::AssertSqlSafe(upsert.clone()))
                .bind(tenant.s())
                .bind(item.id.to_string())
                .bind(model)
                .bind(dim as i64)
                .bind(item.vector.clone())
                .bind(&item.content_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            stored += 1;
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// Up to `limit` knowledge items of `tenant` waiting for an embedding of `model`.
    pub async fn knowledge_backlog(
        &self,
        tenant: TenantId,
        model: &str,
        limit: u32,
    ) -> Result<Vec<(roost_api::knowledge::KnowledgeItem, String)>> {
        let cols = crate::qualified(crate::knowledge::KNOWLEDGE_COLS, "l");
        let sql = format!(
            "SELECT {cols}, l.content_hash FROM knowledge l
             WHERE l.tenant_id = $1 AND l.deleted_at IS NULL AND {}
             ORDER BY l.seq LIMIT $3",
            stale_in(Embedded::Knowledge, "$2")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(model)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    crate::knowledge::knowledge_from_row(r)?,
                    r.try_get("content_hash")?,
                ))
            })
            .collect()
    }

    /// How many listings an import wrote that are still live, and how many of those have an
    /// embedding of `model` for their current content.
    pub async fn embed_progress(
        &self,
        tenant: TenantId,
        import_id: uuid::Uuid,
        model: &str,
    ) -> Result<EmbedProgress> {
        let row = sqlx::query(
            "SELECT CAST(SUM(written) AS BIGINT) AS written,
                    CAST(SUM(embedded) AS BIGINT) AS embedded FROM (
                SELECT COUNT(*) AS written, COUNT(e.listing_id) AS embedded
                FROM listings l
                LEFT JOIN listing_embeddings e ON e.tenant_id = l.tenant_id
                    AND e.listing_id = l.id AND e.model = $3 AND e.content_hash = l.content_hash
                WHERE l.tenant_id = $1 AND l.import_id = $2 AND l.deleted_at IS NULL
                UNION ALL
                SELECT COUNT(*) AS written, COUNT(e.knowledge_id) AS embedded
                FROM knowledge l
                LEFT JOIN knowledge_embeddings e ON e.tenant_id = l.tenant_id
                    AND e.knowledge_id = l.id AND e.model = $3 AND e.content_hash = l.content_hash
                WHERE l.tenant_id = $1 AND l.import_id = $2 AND l.deleted_at IS NULL
             ) AS t",
        )
        .bind(tenant.s())
        .bind(import_id.to_string())
        .bind(model)
        .fetch_one(&self.pool)
        .await?;
        Ok(EmbedProgress {
            written: row.try_get::<i64, _>("written")? as u64,
            embedded: row.try_get::<i64, _>("embedded")? as u64,
        })
    }

    /// The stored vector of a listing, if it has one of `model` for its current content.
    pub async fn listing_embedding(
        &self,
        tenant: TenantId,
        listing: uuid::Uuid,
        model: &str,
    ) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query(
            "SELECT e.vector FROM listing_embeddings e
             JOIN listings l ON l.tenant_id = e.tenant_id AND l.id = e.listing_id
             WHERE e.tenant_id = $1 AND e.listing_id = $2 AND e.model = $3
               AND e.content_hash = l.content_hash",
        )
        .bind(tenant.s())
        .bind(listing.to_string())
        .bind(model)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("vector")?),
            None => None,
        })
    }
}
