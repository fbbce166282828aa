//! The device cache: one SQLite file per tenant and user, a copy of what the server sent.
//!
//! The app opens it encrypted ([`Cache::open_encrypted`], SQLCipher with a raw 256-bit key
//! from the [`SecretStore`](crate::SecretStore)); plain [`Cache::open`] remains for tests,
//! benches and tools that build throw-away caches.

use std::path::{Path, PathBuf};

use roost_api::config::VersionedConfig;
use roost_api::knowledge::{Client, KnowledgeItem};
use roost_api::listings::{Area, AreaUnit, Listing, Price};
use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::decide::{LocalModel, SyncState};
use crate::error::{CoreError, CoreResult, SqlContext};
use crate::schema;
use crate::secrets::CacheKey;
use crate::vectors::VectorIndex;
use roost_search::ParseContext;

/// The cache file inside a user's folder.
pub const CACHE_FILE: &str = "cache.sqlite3";

/// What SQLite writes beside the cache file; removed with it.
const SIDE_FILES: &[&str] = &["-wal", "-shm", "-journal"];

/// An open device cache. Not `Sync`: share it behind a mutex.
pub struct Cache {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// The in-memory search index, derived from the tables and loaded on first use. A sync
    /// patches it with the listings it wrote, or drops it when that would cost more than a
    /// reload (see `apply.rs`).
    pub(crate) vectors: Option<VectorIndex>,
    pub(crate) parse_context: Option<ParseContext>,
    /// Listings updated or removed in the loaded index by patches since it was loaded; see
    /// `apply.rs` for why it is dropped past a budget.
    pub(crate) index_patches: usize,
    /// Seals the photo files of an encrypted cache ([`PhotoStore::new`](crate::PhotoStore::new)).
    pub(crate) photo_seal: Option<crate::photos::Seal>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// Opens (creating if needed) `root/<tenant>/<user>/cache.sqlite3` **unencrypted**. For
    /// tests, benches and tools; the app uses [`Cache::open_encrypted`].
    pub fn open(root: &Path, tenant: &str, user: &str) -> CoreResult<Cache> {
        Cache::open_file(&create_cache_dir(root, tenant, user)?)
    }

    /// Opens (creating if needed) `root/<tenant>/<user>/cache.sqlite3` encrypted with `key`.
    /// A file written under another key, or a plain SQLite file, fails with SQLite's "file is
    /// not a database".
    pub fn open_encrypted(
        root: &Path,
        tenant: &str,
        user: &str,
        key: &CacheKey,
    ) -> CoreResult<Cache> {
        Cache::open_file_encrypted(&create_cache_dir(root, tenant, user)?, key)
    }

    /// Opens (creating if needed) the unencrypted cache at `path`.
    pub fn open_file(path: &Path) -> CoreResult<Cache> {
        Cache::open_with(path, None)
    }

    /// Opens (creating if needed) the cache at `path`, encrypted with `key`.
    pub fn open_file_encrypted(path: &Path, key: &CacheKey) -> CoreResult<Cache> {
        Cache::open_with(path, Some(key))
    }

    fn open_with(path: &Path, key: Option<&CacheKey>) -> CoreResult<Cache> {
        let mut conn = Connection::open(path).at(path)?;
        if let Some(key) = key {
            // Before any other statement: SQLCipher decrypts the first page with it. It does
            // not check the key itself; the first read below fails if it is wrong.
            conn.execute_batch(&key.pragma()).at(path)?;
        }
        // WAL: searches read while a sync writes. synchronous=NORMAL may lose the last
        // transaction on power loss, never half of one; that page is simply fetched again.
        // (With SQLCipher the WAL is encrypted too; the -shm index holds no row data.)
        // Checkpoints every 64 MB of WAL instead of SQLite's 4 MB: a page of 1,000 listings
        // with vectors writes several MB, and checkpointing after nearly every page rewrote
        // the same index pages into the file again and again (a quarter of the apply time).
        // A sync ends with a checkpoint ([`Cache::optimize`]); the next write then starts the
        // log over, cut back to 4 MB.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA wal_autocheckpoint = 16384;
             PRAGMA journal_size_limit = 4194304;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )
        .at(path)?;
        if let Err(found) = schema::migrate(&mut conn).at(path)? {
            return Err(CoreError::SchemaTooNew {
                path: path.to_path_buf(),
                found,
                known: schema::SCHEMA_VERSION,
            });
        }
        Ok(Cache {
            conn,
            path: path.to_path_buf(),
            vectors: None,
            parse_context: None,
            index_patches: 0,
            photo_seal: key.map(|k| crate::photos::Seal::new(&k.photo_key())),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn sync_state(&self) -> CoreResult<SyncState> {
        self.conn
            .query_row(
                "SELECT cursor, model_id, model_dim, scope FROM sync_state WHERE one = 1",
                [],
                |r| {
                    let model = match (r.get::<_, Option<String>>(1)?, r.get::<_, Option<u32>>(2)?)
                    {
                        (Some(id), Some(dim)) => Some(LocalModel { id, dim }),
                        _ => None,
                    };
                    Ok(SyncState {
                        cursor: r.get(0)?,
                        model,
                        scope: r.get(3)?,
                    })
                },
            )
            .at(&self.path)
    }

    /// The tenant configuration last synced; the app applies it at start-up without network.
    pub fn config(&self) -> CoreResult<Option<VersionedConfig>> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM tenant_config WHERE one = 1", [], |r| {
                r.get(0)
            })
            .optional()
            .at(&self.path)?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| CoreError::Corrupt {
                what: "tenant config".into(),
                message: e.to_string(),
            })
        })
        .transpose()
    }

    pub fn listing(&self, id: Uuid) -> CoreResult<Option<Listing>> {
        let sql = format!("SELECT {LISTING_COLUMNS} FROM listings l WHERE l.id = ?1");
        let row = self
            .conn
            .query_row(&sql, [id.to_string()], read_listing)
            .optional()
            .at(&self.path)?;
        row.transpose()
    }

    /// Every listing id, in id order.
    pub fn listing_ids(&self) -> CoreResult<Vec<Uuid>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM listings ORDER BY id")
            .at(&self.path)?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        ids.iter().map(|s| parse_uuid(s)).collect()
    }

    pub fn listing_count(&self) -> CoreResult<u64> {
        self.conn
            .query_row("SELECT COUNT(*) FROM listings", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .at(&self.path)
    }

    /// The stored vector of a listing, when the server has embedded it.
    pub fn vector(&self, id: Uuid) -> CoreResult<Option<Vec<f32>>> {
        let state = self.sync_state()?;
        let Some(model) = state.model else {
            return Ok(None);
        };
        let blob: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT e.vector FROM embeddings e JOIN listings l ON l.rid = e.rid WHERE l.id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)?;
        blob.map(|b| {
            roost_embed::decode_f32_le(&b, model.dim as usize).map_err(|e| CoreError::Corrupt {
                what: format!("vector of listing {id}"),
                message: e.to_string(),
            })
        })
        .transpose()
    }

    /// The clients synced (those the user may see), by id.
    pub fn clients(&self) -> CoreResult<Vec<Client>> {
        self.records("client")
    }

    /// The company's knowledge items synced (those the user's roles may see), by id.
    pub fn knowledge_items(&self) -> CoreResult<Vec<KnowledgeItem>> {
        self.records("knowledge")
    }

    pub(crate) fn record<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        id: Uuid,
    ) -> CoreResult<Option<T>> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT json FROM records WHERE kind = ?1 AND id = ?2",
                [kind, &id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| CoreError::Corrupt {
                what: format!("{kind} {id}"),
                message: e.to_string(),
            })
        })
        .transpose()
    }

    fn records<T: serde::de::DeserializeOwned>(&self, kind: &str) -> CoreResult<Vec<T>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, json FROM records WHERE kind = ?1 ORDER BY id")
            .at(&self.path)?;
        let rows = stmt
            .query_map([kind], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.into_iter()
            .map(|(id, json)| {
                serde_json::from_str(&json).map_err(|e| CoreError::Corrupt {
                    what: format!("{kind} {id}"),
                    message: e.to_string(),
                })
            })
            .collect()
    }

    /// What SQLite's integrity and foreign-key checks find wrong with the file; empty when it
    /// is sound. For start-up checks and tests of interrupted writes.
    pub fn integrity_problems(&self) -> CoreResult<Vec<String>> {
        let mut problems = Vec::new();
        let mut stmt = self.conn.prepare("PRAGMA integrity_check").at(&self.path)?;
        for row in stmt
            .query_map([], |r| r.get::<_, String>(0))
            .at(&self.path)?
        {
            let line = row.at(&self.path)?;
            if line != "ok" {
                problems.push(line);
            }
        }
        let mut stmt = self
            .conn
            .prepare("PRAGMA foreign_key_check")
            .at(&self.path)?;
        for row in stmt
            .query_map([], |r| {
                Ok(format!(
                    "{} row {} has no parent in {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                    r.get::<_, String>(2)?
                ))
            })
            .at(&self.path)?
        {
            problems.push(row.at(&self.path)?);
        }
        Ok(problems)
    }

    /// Empties listings, vectors, knowledge and clients and sets the cursor to 0, for a full
    /// resync. The config stays: the app keeps its branding while the data comes again.
    pub fn reset(&mut self) -> CoreResult<()> {
        let tx = self.conn.transaction().at(&self.path)?;
        tx.execute_batch(
            "DELETE FROM embeddings;
             DELETE FROM listings;
             DELETE FROM records;
             UPDATE sync_state SET cursor = 0, model_id = NULL, model_dim = NULL, scope = NULL
             WHERE one = 1;",
        )
        .at(&self.path)?;
        tx.commit().at(&self.path)?;
        self.forget_derived();
        Ok(())
    }

    /// Ends a sync that changed data: copies the write-ahead log into the file. The cache
    /// checkpoints only every 64 MB on its own, and searches should not read through a long
    /// log after a sync. Passive: it never waits for a reader (what a reader still uses is
    /// copied next time).
    ///
    /// (It also ran `ANALYZE` while search filtered in SQL; the filters now run in memory and
    /// the cache keeps no index for a planner to choose from.)
    pub fn optimize(&self) -> CoreResult<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(PASSIVE);")
            .at(&self.path)
    }

    pub(crate) fn forget_derived(&mut self) {
        self.vectors = None;
        self.parse_context = None;
        self.index_patches = 0;
    }
}

/// `root/<tenant>/<user>`, the folder of one user's cache, after checking the names.
pub(crate) fn cache_dir(root: &Path, tenant: &str, user: &str) -> CoreResult<PathBuf> {
    for part in [tenant, user] {
        check_name_part(part)?;
    }
    Ok(root.join(tenant).join(user))
}

/// Creates the folder of one user's cache and returns the cache file's path. One file per
/// tenant and user keeps one company's data out of another's folder on a shared machine.
fn create_cache_dir(root: &Path, tenant: &str, user: &str) -> CoreResult<PathBuf> {
    let dir = cache_dir(root, tenant, user)?;
    std::fs::create_dir_all(&dir).map_err(|source| CoreError::CreateDir {
        path: dir.clone(),
        source,
    })?;
    Ok(dir.join(CACHE_FILE))
}

/// True when `path` is an unencrypted SQLite file (SQLCipher encrypts the header too), e.g.
/// a cache written before encryption: it cannot be opened with a key and must be replaced.
pub(crate) fn is_plain_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| &header == b"SQLite format 3\0")
}

/// Deletes the cache file at `path` and SQLite's files beside it; missing files are fine.
/// The cache must be closed (dropped) first.
pub(crate) fn remove_cache_files(path: &Path) -> std::io::Result<()> {
    let mut paths = vec![path.to_path_buf()];
    for suffix in SIDE_FILES {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        paths.push(PathBuf::from(side));
    }
    for p in paths {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Tenant and user name the cache folders: refuse anything that could leave the root.
fn check_name_part(part: &str) -> CoreResult<()> {
    let ok = !part.is_empty()
        && part.len() <= 200
        && !part.starts_with('.')
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::BadCacheName {
            part: part.to_string(),
        })
    }
}

pub(crate) fn parse_uuid(s: &str) -> CoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| CoreError::Corrupt {
        what: format!("listing id {s:?}"),
        message: e.to_string(),
    })
}

pub(crate) const LISTING_COLUMNS: &str = "l.id, l.external_id, l.title, l.description, \
     l.price_minor, l.currency, l.bedrooms, l.bathrooms, l.size_value, l.size_unit, l.size_sqft, \
     l.property_type, l.community, l.city, l.status, l.latitude, l.longitude, l.furnished, \
     l.photos, l.listed_at, l.attributes, l.updated_at";

/// A row of [`LISTING_COLUMNS`]; the outer error is SQLite's, the inner one bad stored data.
fn read_listing(r: &Row<'_>) -> rusqlite::Result<CoreResult<Listing>> {
    let id: String = r.get(0)?;
    let price = match (r.get::<_, Option<i64>>(4)?, r.get::<_, Option<String>>(5)?) {
        (Some(amount_minor), Some(currency)) => Some(Price {
            amount_minor,
            currency,
        }),
        _ => None,
    };
    let size = match (
        r.get::<_, Option<f64>>(8)?,
        r.get::<_, Option<String>>(9)?,
        r.get::<_, Option<f64>>(10)?,
    ) {
        (Some(value), Some(unit), Some(sqft)) => Some(Area {
            value,
            unit: if unit == "sqm" {
                AreaUnit::Sqm
            } else {
                AreaUnit::Sqft
            },
            sqft,
        }),
        _ => None,
    };
    let photos: String = r.get(18)?;
    let attributes: String = r.get(20)?;
    let fields = (|| -> CoreResult<_> {
        let corrupt = |what: &str, e: serde_json::Error| CoreError::Corrupt {
            what: format!("{what} of listing {id}"),
            message: e.to_string(),
        };
        Ok((
            parse_uuid(&id)?,
            serde_json::from_str(&photos).map_err(|e| corrupt("photos", e))?,
            serde_json::from_str(&attributes).map_err(|e| corrupt("attributes", e))?,
        ))
    })();
    let (id, photos, attributes) = match fields {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Listing {
        id,
        external_id: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        price,
        bedrooms: r.get(6)?,
        bathrooms: r.get::<_, Option<f64>>(7)?.map(|b| b as f32),
        size,
        property_type: r.get(11)?,
        community: r.get(12)?,
        city: r.get(13)?,
        status: r.get(14)?,
        latitude: r.get(15)?,
        longitude: r.get(16)?,
        furnished: r.get(17)?,
        photos,
        listed_at: r.get(19)?,
        attributes,
        updated_at: r.get(21)?,
    }))
}

/// Writes listings inside one transaction, with statements prepared once per page instead of
/// looked up by their text for every row. No `RETURNING`: SQLite runs it as a trigger, and
/// profiles showed every upsert then copying pages into a statement journal.
pub(crate) struct ListingWriter<'t> {
    find: CachedStatement<'t>,
    insert: CachedStatement<'t>,
    update: CachedStatement<'t>,
    /// Reused JSON buffers for the two JSON columns.
    photos: Vec<u8>,
    attributes: Vec<u8>,
}

/// A listing's columns after `id`, in the order of [`ListingWriter`]'s parameters `?2…?23`.
const WRITE_COLUMNS: [&str; 22] = [
    "external_id",
    "title",
    "description",
    "price_minor",
    "currency",
    "bedrooms",
    "bathrooms",
    "size_value",
    "size_unit",
    "size_sqft",
    "property_type",
    "community",
    "city",
    "status",
    "latitude",
    "longitude",
    "furnished",
    "photos",
    "listed_at",
    "attributes",
    "updated_at",
    "seq",
];

impl<'t> ListingWriter<'t> {
    pub(crate) fn new(conn: &'t Connection) -> rusqlite::Result<ListingWriter<'t>> {
        let placeholders = (1..=WRITE_COLUMNS.len() + 1)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let assignments = WRITE_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ?{}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(ListingWriter {
            find: conn.prepare_cached("SELECT rid FROM listings WHERE id = ?1")?,
            insert: conn.prepare_cached(&format!(
                "INSERT INTO listings (id, {}) VALUES ({placeholders})",
                WRITE_COLUMNS.join(", ")
            ))?,
            update: conn
                .prepare_cached(&format!("UPDATE listings SET {assignments} WHERE id = ?1"))?,
            photos: Vec::new(),
            attributes: Vec::new(),
        })
    }

    /// The rid of the listing with this id, if the cache holds it.
    pub(crate) fn find(&mut self, id: &Uuid) -> rusqlite::Result<Option<i64>> {
        let mut buf = Uuid::encode_buffer();
        let id = id.hyphenated().encode_lower(&mut buf);
        self.find.query_row([&*id], |r| r.get(0)).optional()
    }

    /// Writes `listing` (insert, or update by id) and returns its rid and whether it was
    /// already there.
    pub(crate) fn upsert(&mut self, listing: &Listing, seq: i64) -> rusqlite::Result<(i64, bool)> {
        let existing = self.find(&listing.id)?;
        let l = listing;
        let to_sql_error = |e: serde_json::Error| rusqlite::Error::ToSqlConversionFailure(e.into());
        self.photos.clear();
        serde_json::to_writer(&mut self.photos, &l.photos).map_err(to_sql_error)?;
        self.attributes.clear();
        serde_json::to_writer(&mut self.attributes, &l.attributes).map_err(to_sql_error)?;
        // serde_json writes UTF-8 only; checked rather than assumed.
        let utf8 = |b| {
            std::str::from_utf8(b).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
        };
        let (photos, attributes) = (utf8(&self.photos)?, utf8(&self.attributes)?);
        let mut id_buf = Uuid::encode_buffer();
        let id: &str = l.id.hyphenated().encode_lower(&mut id_buf);
        let values = params![
            id,
            l.external_id,
            l.title,
            l.description,
            l.price.as_ref().map(|p| p.amount_minor),
            l.price.as_ref().map(|p| p.currency.as_str()),
            l.bedrooms,
            l.bathrooms.map(f64::from),
            l.size.as_ref().map(|s| s.value),
            l.size.as_ref().map(|s| match s.unit {
                AreaUnit::Sqft => "sqft",
                AreaUnit::Sqm => "sqm",
            }),
            l.size.as_ref().map(|s| s.sqft),
            l.property_type,
            l.community,
            l.city,
            l.status,
            l.latitude,
            l.longitude,
            l.furnished,
            photos,
            l.listed_at,
            attributes,
            l.updated_at,
            seq,
        ];
        match existing {
            Some(rid) => {
                self.update.execute(values)?;
                Ok((rid, true))
            }
            None => Ok((self.insert.insert(values)?, false)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_cannot_escape_the_root() {
        for bad in ["", "..", ".hidden", "a/b", "a\\b", "tenant name", "ü"] {
            assert!(check_name_part(bad).is_err(), "{bad:?}");
        }
        for good in ["acme", "0190-abc", "sara@acme.test", "a_b.c"] {
            assert!(check_name_part(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn a_listing_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(dir.path(), "t", "u").unwrap();
        let listing = crate::testdata::listing(1);
        let tx = cache.conn.transaction().unwrap();
        ListingWriter::new(&tx)
            .unwrap()
            .upsert(&listing, 1)
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(cache.listing(listing.id).unwrap(), Some(listing.clone()));
        assert_eq!(cache.listing_ids().unwrap(), vec![listing.id]);
        assert!(dir.path().join("t").join("u").join(CACHE_FILE).exists());
    }

    #[test]
    fn an_encrypted_cache_needs_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = CacheKey::generate().unwrap();
        let mut cache = Cache::open_encrypted(dir.path(), "t", "u", &key).unwrap();
        let listing = crate::testdata::listing(1);
        let tx = cache.conn.transaction().unwrap();
        ListingWriter::new(&tx)
            .unwrap()
            .upsert(&listing, 1)
            .unwrap();
        tx.commit().unwrap();
        let path = cache.path().to_path_buf();
        drop(cache);

        assert!(!is_plain_sqlite(&path));
        let again = Cache::open_encrypted(dir.path(), "t", "u", &key).unwrap();
        assert_eq!(again.listing(listing.id).unwrap(), Some(listing));
        drop(again);
        for wrong in [
            Cache::open_file(&path),
            Cache::open_file_encrypted(&path, &CacheKey::generate().unwrap()),
        ] {
            let err = wrong.unwrap_err().to_string();
            assert!(err.contains("file is not a database"), "{err}");
        }
        remove_cache_files(&path).unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn a_plain_cache_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        drop(Cache::open_file(&path).unwrap());
        assert!(is_plain_sqlite(&path));
        assert!(!is_plain_sqlite(&dir.path().join("missing")));
    }

    #[test]
    fn reopening_keeps_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        drop(Cache::open_file(&path).unwrap());
        let cache = Cache::open_file(&path).unwrap();
        assert_eq!(cache.sync_state().unwrap(), SyncState::default());
    }
}
