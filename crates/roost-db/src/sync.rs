//! The change feed: a tenant's listing upserts, tombstones and config changes after a cursor.

use roost_api::config::VersionedConfig;
use sqlx::Row;

use crate::listings::{LISTING_COLS, listing_from_row};
use crate::{Db, DbError, Result, TenantId, parse_uuid};

/// One change as stored; the server encodes it for the wire.
pub enum StoredChange {
    Listing {
        seq: i64,
        listing: roost_api::listings::Listing,
        /// The vector (f32 little-endian) when one of the asked model matches this version.
        embedding: Option<Vec<u8>>,
    },
    ListingDeleted {
        seq: i64,
        id: uuid::Uuid,
    },
    Config {
        seq: i64,
        config: VersionedConfig,
    },
}

impl StoredChange {
    pub fn seq(&self) -> i64 {
        match self {
            StoredChange::Listing { seq, .. }
            | StoredChange::ListingDeleted { seq, .. }
            | StoredChange::Config { seq, .. } => *seq,
        }
    }
}

pub struct ChangeBatch {
    pub changes: Vec<StoredChange>,
    pub has_more: bool,
}

/// The cursor is older than the kept history.
#[derive(Debug)]
pub struct CursorTooOld {
    pub oldest: i64,
}

impl Db {
    /// Up to `limit` changes with `seq > since`, ascending. Writers of one tenant are
    /// serialised by its counter row, so changes commit in `seq` order and a cursor never
    /// skips a change that commits later.
    pub async fn changes(
        &self,
        tenant: TenantId,
        since: i64,
        limit: u32,
        model: Option<&str>,
    ) -> Result<std::result::Result<ChangeBatch, CursorTooOld>> {
        let head = sqlx::query("SELECT purged_before, change_seq FROM tenants WHERE id = $1")
            .bind(tenant.s())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        let purged: i64 = head.try_get("purged_before")?;
        // Everything up to the committed counter is committed (writers hold the counter row
        // until they commit); bounding both queries by it keeps a page consistent even while
        // new changes commit between them.
        let upto: i64 = head.try_get("change_seq")?;
        if since < purged {
            return Ok(Err(CursorTooOld { oldest: purged }));
        }
        let cols = LISTING_COLS
            .split(", ")
            .map(|c| format!("l.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, l.seq, l.deleted_at, e.vector FROM listings l
             LEFT JOIN listing_embeddings e ON e.tenant_id = l.tenant_id AND e.listing_id = l.id
                AND e.model = $4 AND e.content_hash = l.content_hash
             WHERE l.tenant_id = $1 AND l.seq > $2 AND l.seq <= $5
             ORDER BY l.seq LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(since)
            .bind(i64::from(limit) + 1)
            .bind(model.unwrap_or(""))
            .bind(upto)
            .fetch_all(&self.pool)
            .await?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            if row.try_get::<Option<i64>, _>("deleted_at")?.is_some() {
                let id = parse_uuid(&row.try_get::<String, _>("id")?)?;
                changes.push(StoredChange::ListingDeleted { seq, id });
            } else {
                changes.push(StoredChange::Listing {
                    seq,
                    listing: listing_from_row(row)?,
                    embedding: row.try_get("vector")?,
                });
            }
        }
        let config_row =
            sqlx::query("SELECT seq FROM tenant_configs WHERE tenant_id = $1 AND seq > $2")
                .bind(tenant.s())
                .bind(since)
                .fetch_optional(&self.pool)
                .await?;
        if let Some(r) = config_row {
            let seq: i64 = r.try_get("seq")?;
            let config = self.config(tenant).await?;
            changes.push(StoredChange::Config { seq, config });
            changes.sort_by_key(StoredChange::seq);
        }
        let has_more = changes.len() > limit as usize;
        changes.truncate(limit as usize);
        Ok(Ok(ChangeBatch { changes, has_more }))
    }
}
