//! Applies a verified page and its cursor in one SQLite transaction: a failure anywhere (a
//! corrupt vector in the last change, a full disk) leaves the cache exactly as it was.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use roost_api::listings::Listing;
use roost_api::sync::{Change, ChangePage};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::cache::{Cache, upsert_listing};
use crate::decide::{Decision, decide};
use crate::error::{CoreError, CoreResult, SqlContext};

/// What one page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub listings_upserted: u64,
    pub listings_deleted: u64,
    pub vectors_stored: u64,
    pub config_changed: bool,
    pub cursor: i64,
}

impl Cache {
    /// Verifies `page` against the local state ([`decide`]) and applies it with its cursor in
    /// one transaction. A page for another embedding model or another scope is refused with
    /// [`CoreError::ResyncNeeded`]: the caller resets and syncs again from 0.
    pub fn apply_page(&mut self, page: &ChangePage) -> CoreResult<Applied> {
        let state = self.sync_state()?;
        match decide(&state, page) {
            Decision::Apply => {}
            Decision::Reject(reason) => return Err(CoreError::PageRejected(reason)),
            Decision::ResyncFromZero(reason) => return Err(CoreError::ResyncNeeded(reason)),
        }
        let path = self.path.clone();
        let tx = self.conn.transaction().at(&path)?;
        let (applied, touched) = apply_changes(&tx, page).map_err(|e| match e {
            ApplyError::Sql(source) => CoreError::Sqlite {
                path: path.clone(),
                source,
            },
            ApplyError::Core(e) => e,
        })?;
        // Dropping `tx` on an error above rolls everything back.
        tx.commit().at(&path)?;
        if !touched.is_empty() {
            // Patch the loaded search index with just these listings; reloading all of it
            // costs about a second per 100k listings.
            self.parse_context = None;
            self.update_search_index(&touched)?;
        }
        Ok(applied)
    }
}

enum ApplyError {
    Sql(rusqlite::Error),
    Core(CoreError),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        ApplyError::Sql(e)
    }
}

/// Applies the changes; returns what changed and the rids of the listings written or removed.
fn apply_changes(
    tx: &Transaction<'_>,
    page: &ChangePage,
) -> Result<(Applied, Vec<i64>), ApplyError> {
    let mut touched = Vec::new();
    let dim = page.embedding_model.as_ref().map(|m| m.dim as usize);
    let mut applied = Applied {
        cursor: page.next_cursor,
        ..Applied::default()
    };
    for change in &page.changes {
        match change {
            Change::Listing {
                seq,
                listing,
                embedding,
            } => {
                let rid = upsert_listing(tx, listing, *seq)?;
                touched.push(rid);
                index_text(tx, rid, listing)?;
                match (embedding, dim) {
                    (Some(b64), Some(dim)) => {
                        let bytes = decode_vector(*seq, b64, dim).map_err(ApplyError::Core)?;
                        tx.prepare_cached(
                            "INSERT INTO embeddings (rid, vector) VALUES (?1, ?2)
                             ON CONFLICT (rid) DO UPDATE SET vector = excluded.vector",
                        )?
                        .execute(params![rid, bytes])?;
                        applied.vectors_stored += 1;
                    }
                    // A new version not embedded yet: the old vector describes old text.
                    _ => {
                        tx.prepare_cached("DELETE FROM embeddings WHERE rid = ?1")?
                            .execute([rid])?;
                    }
                }
                applied.listings_upserted += 1;
            }
            Change::ListingDeleted { id, .. } => {
                let id = id.to_string();
                let rid: Option<i64> = tx
                    .prepare_cached("SELECT rid FROM listings WHERE id = ?1")?
                    .query_row([&id], |r| r.get(0))
                    .optional()?;
                touched.extend(rid);
                for sql in [
                    "DELETE FROM embeddings WHERE rid IN (SELECT rid FROM listings WHERE id = ?1)",
                    "DELETE FROM listings_fts WHERE rowid IN (SELECT rid FROM listings WHERE id = ?1)",
                    "DELETE FROM listings WHERE id = ?1",
                ] {
                    tx.prepare_cached(sql)?.execute([&id])?;
                }
                applied.listings_deleted += 1;
            }
            // Kept as JSON until the features that use them (chat, clients) read them; stored
            // now so that those features need no resync.
            Change::Knowledge {
                seq,
                item,
                embedding,
            } => {
                let vector = match (embedding, dim) {
                    (Some(b64), Some(dim)) => {
                        Some(decode_vector(*seq, b64, dim).map_err(ApplyError::Core)?)
                    }
                    _ => None,
                };
                put_record(tx, "knowledge", &item.id.to_string(), *seq, item, vector)?;
            }
            Change::Client { seq, client } => {
                put_record(tx, "client", &client.id.to_string(), *seq, client, None)?;
            }
            Change::KnowledgeDeleted { id, .. } => delete_record(tx, "knowledge", id)?,
            Change::ClientDeleted { id, .. } => delete_record(tx, "client", id)?,
            Change::Config { config, .. } => {
                let json = serde_json::to_string(config).map_err(|e| {
                    ApplyError::Core(CoreError::Corrupt {
                        what: "tenant config from the feed".into(),
                        message: e.to_string(),
                    })
                })?;
                tx.prepare_cached(
                    "INSERT INTO tenant_config (one, version, json) VALUES (1, ?1, ?2)
                     ON CONFLICT (one) DO UPDATE SET version = excluded.version, json = excluded.json",
                )?
                .execute(params![config.version, json])?;
                applied.config_changed = true;
            }
        }
    }
    let model = page.embedding_model.as_ref();
    tx.prepare_cached(
        "UPDATE sync_state SET cursor = ?1, scope = ?4,
             model_id = COALESCE(?2, model_id), model_dim = COALESCE(?3, model_dim),
             synced_at = CAST(unixepoch('subsec') * 1000 AS INTEGER)
         WHERE one = 1",
    )?
    .execute(params![
        page.next_cursor,
        model.map(|m| m.id.as_str()),
        model.map(|m| m.dim),
        page.scope
    ])?;
    Ok((applied, touched))
}

fn put_record(
    tx: &Transaction<'_>,
    kind: &str,
    id: &str,
    seq: i64,
    value: &impl serde::Serialize,
    vector: Option<Vec<u8>>,
) -> Result<(), ApplyError> {
    let json = serde_json::to_string(value).map_err(|e| {
        ApplyError::Core(CoreError::Corrupt {
            what: format!("{kind} {id} from the feed"),
            message: e.to_string(),
        })
    })?;
    tx.prepare_cached(
        "INSERT INTO records (kind, id, seq, json, vector) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, json = excluded.json,
             vector = excluded.vector",
    )?
    .execute(params![kind, id, seq, json, vector])?;
    Ok(())
}

fn delete_record(tx: &Transaction<'_>, kind: &str, id: &uuid::Uuid) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM records WHERE kind = ?1 AND id = ?2")?
        .execute(params![kind, id.to_string()])?;
    Ok(())
}

/// Replaces the listing's full-text row (rowid = rid).
fn index_text(tx: &Transaction<'_>, rid: i64, l: &Listing) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM listings_fts WHERE rowid = ?1")?
        .execute([rid])?;
    let attributes = l
        .attributes
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    tx.prepare_cached(
        "INSERT INTO listings_fts (rowid, title, description, community, property_type, attributes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        rid,
        l.title,
        l.description,
        l.community,
        l.property_type,
        attributes
    ])?;
    Ok(())
}

/// The vector's f32le bytes, checked: right length, every value finite.
fn decode_vector(seq: i64, b64: &str, dim: usize) -> CoreResult<Vec<u8>> {
    let bad = |message: String| CoreError::BadVector { seq, message };
    let bytes = STANDARD
        .decode(b64)
        .map_err(|e| bad(format!("not base64: {e}")))?;
    let floats = roost_embed::decode_f32_le(&bytes, dim).map_err(|e| bad(e.to_string()))?;
    if floats.iter().any(|x| !x.is_finite()) {
        return Err(bad("it holds NaN or infinite values".into()));
    }
    Ok(bytes)
}
