//! Applies a verified page and its cursor in one SQLite transaction: a failure anywhere (a
//! corrupt vector in the last change, a full disk) leaves the cache exactly as it was.
//!
//! Speed matters here (issue 4: ≥ 50,000 listings with vectors a second): the cache keeps no
//! index but the id's (schema.rs, V2), statements are prepared once per page and return no
//! rows, vectors are checked in place without building floats, and the loaded search index is
//! patched after the commit only while that is cheaper than reloading it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use roost_api::sync::{Change, ChangePage};
use rusqlite::{CachedStatement, Transaction, params};

use crate::cache::{Cache, ListingWriter};
use crate::decide::{Decision, decide};
use crate::error::{CoreError, CoreResult, SqlContext};

/// How many listings the loaded search index may see updated or removed by patches before
/// sync drops it instead (it reloads on the next search, ~0.12 s per 10k listings). Each such
/// patch scans the index's row lists of the listing's values and words, so its cost grows
/// with the index: patching 10k updates into a 10k index took longer than reloading it, and
/// a long sync of updates would pay that on every page. New listings are cheap to add.
const PATCH_BUDGET: usize = 1_000;

/// What one page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub listings_upserted: u64,
    pub listings_deleted: u64,
    pub vectors_stored: u64,
    pub config_changed: bool,
    /// Outbox rows settled or moved on by the server's records of their actions.
    pub actions_updated: u64,
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
        self.patch_search_index(&touched)?;
        Ok(applied)
    }

    /// Brings the loaded search index (if any) up to date with the listings a page wrote or
    /// removed: in place for a few, by forgetting it (reloaded on the next search) for many.
    fn patch_search_index(&mut self, touched: &Touched) -> CoreResult<()> {
        if self.vectors.is_none() {
            self.index_patches = 0;
        }
        if touched.rids.is_empty() {
            return Ok(());
        }
        self.parse_context = None;
        if self.vectors.is_none() {
            return Ok(());
        }
        self.index_patches += touched.existing;
        if self.index_patches > PATCH_BUDGET {
            self.forget_derived();
            return Ok(());
        }
        self.update_search_index(&touched.rids)
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

/// The listings a page wrote or removed.
#[derive(Debug, Default)]
struct Touched {
    rids: Vec<i64>,
    /// How many of them the cache held before the page (updated or removed).
    existing: usize,
}

/// The statements a page's listing changes need, prepared once per page.
struct Statements<'t> {
    listings: ListingWriter<'t>,
    put_vector: CachedStatement<'t>,
    drop_vector: CachedStatement<'t>,
    drop_listing: CachedStatement<'t>,
}

impl<'t> Statements<'t> {
    fn new(tx: &'t Transaction<'_>) -> rusqlite::Result<Statements<'t>> {
        Ok(Statements {
            listings: ListingWriter::new(tx)?,
            put_vector: tx.prepare_cached(
                "INSERT INTO embeddings (rid, vector) VALUES (?1, ?2)
                 ON CONFLICT (rid) DO UPDATE SET vector = excluded.vector",
            )?,
            drop_vector: tx.prepare_cached("DELETE FROM embeddings WHERE rid = ?1")?,
            drop_listing: tx.prepare_cached("DELETE FROM listings WHERE rid = ?1")?,
        })
    }
}

/// Applies the changes; returns what changed and the listings written or removed.
fn apply_changes(
    tx: &Transaction<'_>,
    page: &ChangePage,
) -> Result<(Applied, Touched), ApplyError> {
    let mut touched = Touched::default();
    let dim = page.embedding_model.as_ref().map(|m| m.dim as usize);
    let mut applied = Applied {
        cursor: page.next_cursor,
        ..Applied::default()
    };
    // Prepared on the first listing change: pages of only config or clients need none.
    let mut statements: Option<Statements<'_>> = None;
    let mut vector = Vec::new();
    for change in &page.changes {
        match change {
            Change::Listing {
                seq,
                listing,
                embedding,
            } => {
                let st = match &mut statements {
                    Some(st) => st,
                    None => statements.insert(Statements::new(tx)?),
                };
                let (rid, existed) = st.listings.upsert(listing, *seq)?;
                touched.rids.push(rid);
                touched.existing += usize::from(existed);
                match (embedding, dim) {
                    (Some(b64), Some(dim)) => {
                        decode_vector(*seq, b64, dim, &mut vector).map_err(ApplyError::Core)?;
                        st.put_vector.execute(params![rid, vector])?;
                        applied.vectors_stored += 1;
                    }
                    // A new version not embedded yet: the old vector describes old text.
                    _ if existed => {
                        st.drop_vector.execute([rid])?;
                    }
                    _ => {}
                }
                applied.listings_upserted += 1;
            }
            Change::ListingDeleted { id, .. } => {
                let st = match &mut statements {
                    Some(st) => st,
                    None => statements.insert(Statements::new(tx)?),
                };
                if let Some(rid) = st.listings.find(id)? {
                    // Explicitly: the foreign key's cascade depends on `foreign_keys` being
                    // on for this connection.
                    st.drop_vector.execute([rid])?;
                    st.drop_listing.execute([rid])?;
                    touched.rids.push(rid);
                    touched.existing += 1;
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
                        let mut bytes = Vec::new();
                        decode_vector(*seq, b64, dim, &mut bytes).map_err(ApplyError::Core)?;
                        Some(bytes)
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
            Change::Action { action, .. } => {
                if crate::outbox::follow_record(tx, action, crate::outbox::now_millis())? {
                    applied.actions_updated += 1;
                }
            }
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
    drop(statements);
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

/// Decodes the vector into `out` as f32le bytes, checked: right length, every value finite.
fn decode_vector(seq: i64, b64: &str, dim: usize, out: &mut Vec<u8>) -> CoreResult<()> {
    let bad = |message: String| CoreError::BadVector { seq, message };
    out.clear();
    STANDARD
        .decode_vec(b64, out)
        .map_err(|e| bad(format!("not base64: {e}")))?;
    if out.len() != dim * 4 {
        return Err(bad(format!(
            "{} bytes, expected {} ({dim} × f32)",
            out.len(),
            dim * 4
        )));
    }
    let finite = out
        .chunks_exact(4)
        .all(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite());
    if !finite {
        return Err(bad("it holds NaN or infinite values".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use roost_api::sync::{Change, ChangePage};

    use super::PATCH_BUDGET;
    use crate::cache::Cache;
    use crate::testdata::listing;

    fn page(changes: Vec<Change>) -> ChangePage {
        ChangePage {
            next_cursor: changes.last().map_or(0, Change::seq),
            changes,
            has_more: false,
            head: 0,
            embedding_model: None,
            scope: "agent".into(),
        }
    }

    /// Upserts of listings `ids`, with sequence numbers from `seq`, re-priced by `bump`.
    fn upserts(ids: std::ops::RangeInclusive<i64>, seq: i64, bump: i64) -> Vec<Change> {
        ids.enumerate()
            .map(|(i, n)| {
                let mut l = listing(n);
                l.price.as_mut().unwrap().amount_minor += bump;
                Change::Listing {
                    seq: seq + i as i64,
                    listing: l,
                    embedding: None,
                }
            })
            .collect()
    }

    #[test]
    fn the_loaded_index_is_patched_for_few_updates_and_dropped_for_many() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open_file(&dir.path().join("c.sqlite3")).unwrap();
        cache.apply_page(&page(upserts(1..=1_200, 1, 0))).unwrap();
        cache.vector_index().unwrap();
        let live = |cache: &Cache| cache.vectors.as_ref().map(|v| v.columns.live());
        assert_eq!(live(&cache), Some(1_200));

        // New listings and a few updates: patched in place.
        cache
            .apply_page(&page(upserts(1_201..=1_300, 2_000, 0)))
            .unwrap();
        cache.apply_page(&page(upserts(1..=10, 3_000, 7))).unwrap();
        assert_eq!(live(&cache), Some(1_300));
        assert_eq!(cache.index_patches, 10);

        // Updates past the budget, over several pages: dropped, then reloaded on use.
        let per_page = PATCH_BUDGET as i64 / 2;
        cache
            .apply_page(&page(upserts(1..=per_page, 4_000, 9)))
            .unwrap();
        assert!(cache.vectors.is_some(), "still within the budget");
        cache
            .apply_page(&page(upserts(per_page + 1..=2 * per_page, 5_000, 9)))
            .unwrap();
        assert_eq!(live(&cache), None);
        assert_eq!(cache.index_patches, 0);
        cache.vector_index().unwrap();
        assert_eq!(live(&cache), Some(1_300));

        // A fresh index has a fresh budget.
        cache.apply_page(&page(upserts(1..=5, 6_000, 11))).unwrap();
        assert_eq!((live(&cache), cache.index_patches), (Some(1_300), 5));
    }

    #[test]
    fn a_bad_vector_is_named_and_decoded_ones_are_checked() {
        let mut out = Vec::new();
        let ok = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [1.0f32, -2.5]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<_>>(),
        );
        super::decode_vector(1, &ok, 2, &mut out).unwrap();
        assert_eq!(out.len(), 8);
        let nan = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [1.0f32, f32::NAN]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<_>>(),
        );
        for (text, dim, says) in [
            (ok.as_str(), 3, "8 bytes, expected 12"),
            (nan.as_str(), 2, "NaN"),
            ("!!!!", 1, "not base64"),
        ] {
            let err = super::decode_vector(7, text, dim, &mut out).unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
            assert!(err.to_string().contains("change 7"), "{err}");
        }
    }
}
