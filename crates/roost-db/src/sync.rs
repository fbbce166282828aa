//! The change feed: a tenant's listing upserts, tombstones and config changes after a cursor.

use roost_api::config::VersionedConfig;
use sqlx::Row;

use crate::knowledge::{
    CLIENT_COLS, KNOWLEDGE_COLS, audience_allows, client_from_row, knowledge_from_row,
};
use crate::listings::{LISTING_COLS, listing_from_row};
use crate::native::{Bind, Columns, Decoder};
use crate::{Db, DbError, Result, TenantId, parse_uuid};

/// One change as stored; the server encodes it for the wire.
#[derive(Debug, PartialEq)]
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
    Knowledge {
        seq: i64,
        item: roost_api::knowledge::KnowledgeItem,
        embedding: Option<Vec<u8>>,
    },
    KnowledgeDeleted {
        seq: i64,
        id: uuid::Uuid,
    },
    Client {
        seq: i64,
        client: roost_api::knowledge::Client,
    },
    ClientDeleted {
        seq: i64,
        id: uuid::Uuid,
    },
    /// One of the caller's own actions, after a change of state.
    Action {
        seq: i64,
        action: roost_api::actions::ActionRecord,
    },
}

impl StoredChange {
    pub fn seq(&self) -> i64 {
        match self {
            StoredChange::Listing { seq, .. }
            | StoredChange::ListingDeleted { seq, .. }
            | StoredChange::Config { seq, .. }
            | StoredChange::Knowledge { seq, .. }
            | StoredChange::KnowledgeDeleted { seq, .. }
            | StoredChange::Client { seq, .. }
            | StoredChange::ClientDeleted { seq, .. }
            | StoredChange::Action { seq, .. } => *seq,
        }
    }
}

pub struct ChangeBatch {
    pub changes: Vec<StoredChange>,
    pub has_more: bool,
    /// The committed head the batch was bounded by.
    pub head: i64,
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
    /// What the caller sees is filtered by `acting` roles: knowledge by its audience, clients
    /// by assignment (agents get their own; managers and admins all). Rows the caller may not
    /// see come as removals, so a reassigned client leaves the old agent's device.
    #[allow(clippy::too_many_arguments)]
    pub async fn changes(
        &self,
        tenant: TenantId,
        user: uuid::Uuid,
        acting: &[roost_api::users::Role],
        since: i64,
        limit: u32,
        model: Option<&str>,
        cursor_current: bool,
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
        // A full sync (from 0) is always possible, and so is paging on through one that
        // started after the purge (`cursor_current`); only an older cursor is too old.
        if since > 0 && since < purged && !cursor_current {
            return Ok(Err(CursorTooOld { oldest: purged }));
        }
        let cols = crate::qualified(LISTING_COLS, "l");
        let sql = format!(
            "SELECT {cols}, l.seq, l.deleted_at, e.vector FROM listings l
             LEFT JOIN listing_embeddings e ON e.tenant_id = l.tenant_id AND e.listing_id = l.id
                AND e.model = $4 AND e.content_hash = l.content_hash
             WHERE l.tenant_id = $1 AND l.seq > $2 AND l.seq <= $5
             ORDER BY l.seq LIMIT $3"
        );
        let mut changes = self
            .select(
                sql,
                page_binds(tenant, since, limit, model, upto),
                ListingChange,
            )
            .await?;
        self.knowledge_changes(tenant, acting, since, upto, limit, model, &mut changes)
            .await?;
        self.client_changes(tenant, user, acting, since, upto, limit, &mut changes)
            .await?;
        for (seq, action) in self
            .action_changes(tenant, user, since, upto, limit)
            .await?
        {
            changes.push(StoredChange::Action { seq, action });
        }
        let config_row = sqlx::query(
            "SELECT seq FROM tenant_configs WHERE tenant_id = $1 AND seq > $2 AND seq <= $3",
        )
        .bind(tenant.s())
        .bind(since)
        .bind(upto)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = config_row {
            let seq: i64 = r.try_get("seq")?;
            let config = self.config(tenant).await?;
            changes.push(StoredChange::Config { seq, config });
        }
        changes.sort_by_key(StoredChange::seq);
        let has_more = changes.len() > limit as usize;
        changes.truncate(limit as usize);
        Ok(Ok(ChangeBatch {
            changes,
            has_more,
            head: upto,
        }))
    }
}

impl Db {
    #[allow(clippy::too_many_arguments)]
    async fn knowledge_changes(
        &self,
        tenant: TenantId,
        acting: &[roost_api::users::Role],
        since: i64,
        upto: i64,
        limit: u32,
        model: Option<&str>,
        out: &mut Vec<StoredChange>,
    ) -> Result<()> {
        let cols = crate::qualified(KNOWLEDGE_COLS, "k");
        let sql = format!(
            "SELECT {cols}, k.seq, k.deleted_at, e.vector FROM knowledge k
             LEFT JOIN knowledge_embeddings e ON e.tenant_id = k.tenant_id
                AND e.knowledge_id = k.id AND e.model = $4 AND e.content_hash = k.content_hash
             WHERE k.tenant_id = $1 AND k.seq > $2 AND k.seq <= $5
             ORDER BY k.seq LIMIT $3"
        );
        let decoder = KnowledgeChange {
            acting: acting.to_vec(),
        };
        out.extend(
            self.select(sql, page_binds(tenant, since, limit, model, upto), decoder)
                .await?,
        );
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn client_changes(
        &self,
        tenant: TenantId,
        user: uuid::Uuid,
        acting: &[roost_api::users::Role],
        since: i64,
        upto: i64,
        limit: u32,
        out: &mut Vec<StoredChange>,
    ) -> Result<()> {
        let sees_all = acting.iter().any(|r| {
            matches!(
                r,
                roost_api::users::Role::Admin | roost_api::users::Role::Manager
            )
        });
        let sql = format!(
            "SELECT {CLIENT_COLS}, seq, deleted_at FROM clients
             WHERE tenant_id = $1 AND seq > $2 AND seq <= $5 ORDER BY seq LIMIT $3"
        );
        // No model: `$4` is unused by this statement.
        let decoder = ClientChange { sees_all, user };
        out.extend(
            self.select(sql, page_binds(tenant, since, limit, None, upto), decoder)
                .await?,
        );
        Ok(())
    }
}

impl Db {
    /// The oldest cursor the feed serves without a full resync.
    pub async fn purge_horizon(&self, tenant: TenantId) -> Result<i64> {
        Ok(
            sqlx::query("SELECT purged_before FROM tenants WHERE id = $1")
                .bind(tenant.s())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(DbError::NotFound)?
                .try_get("purged_before")?,
        )
    }
}

/// The parameters of a feed statement: `$1` tenant, `$2` since, `$3` limit + 1 (to know
/// whether more follow), `$4` the model of the vectors, `$5` the committed head.
fn page_binds(
    tenant: TenantId,
    since: i64,
    limit: u32,
    model: Option<&str>,
    upto: i64,
) -> Vec<Bind> {
    vec![
        Bind::Text(tenant.s()),
        Bind::Int(since),
        Bind::Int(i64::from(limit) + 1),
        Bind::Text(model.unwrap_or("").to_string()),
        Bind::Int(upto),
    ]
}

struct ListingChange;

impl Decoder for ListingChange {
    type Out = StoredChange;
    fn decode<R: Columns>(&self, row: &R) -> Result<StoredChange> {
        let seq: i64 = row.col("seq")?;
        Ok(if row.col::<Option<i64>>("deleted_at")?.is_some() {
            let id = parse_uuid(&row.col::<String>("id")?)?;
            StoredChange::ListingDeleted { seq, id }
        } else {
            StoredChange::Listing {
                seq,
                listing: listing_from_row(row)?,
                embedding: row.col("vector")?,
            }
        })
    }
}

/// Knowledge the caller's roles may not see comes as a removal.
struct KnowledgeChange {
    acting: Vec<roost_api::users::Role>,
}

impl Decoder for KnowledgeChange {
    type Out = StoredChange;
    fn decode<R: Columns>(&self, row: &R) -> Result<StoredChange> {
        let seq: i64 = row.col("seq")?;
        let item = knowledge_from_row(row)?;
        let live = row.col::<Option<i64>>("deleted_at")?.is_none();
        Ok(if live && audience_allows(&item.audience, &self.acting) {
            StoredChange::Knowledge {
                seq,
                item,
                embedding: row.col("vector")?,
            }
        } else {
            StoredChange::KnowledgeDeleted { seq, id: item.id }
        })
    }
}

/// Agents see their own clients; a client reassigned away comes as a removal.
struct ClientChange {
    sees_all: bool,
    user: uuid::Uuid,
}

impl Decoder for ClientChange {
    type Out = StoredChange;
    fn decode<R: Columns>(&self, row: &R) -> Result<StoredChange> {
        let seq: i64 = row.col("seq")?;
        let client = client_from_row(row)?;
        let live = row.col::<Option<i64>>("deleted_at")?.is_none();
        Ok(
            if live && (self.sees_all || client.agent_user_id == Some(self.user)) {
                StoredChange::Client { seq, client }
            } else {
                StoredChange::ClientDeleted { seq, id: client.id }
            },
        )
    }
}
