//! The device cache: one SQLite file per tenant and user, a copy of what the server sent.
//!
//! The app opens it encrypted ([`Cache::open_encrypted`], SQLCipher with a raw 256-bit key
//! from the [`SecretStore`](crate::SecretStore)); plain [`Cache::open`] remains for tests,
//! benches and tools that build throw-away caches.

use std::path::{Path, PathBuf};

use roost_api::config::VersionedConfig;
use roost_api::listings::{Area, AreaUnit, Listing, Price};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::decide::{LocalModel, SyncState};
use crate::error::{CoreError, CoreResult, SqlContext};
use crate::query::ParseContext;
use crate::schema;
use crate::secrets::CacheKey;
use crate::vectors::VectorIndex;

/// The cache file inside a user's folder.
pub const CACHE_FILE: &str = "cache.sqlite3";

/// What SQLite writes beside the cache file; removed with it.
const SIDE_FILES: &[&str] = &["-wal", "-shm", "-journal"];

/// An open device cache. Not `Sync`: share it behind a mutex.
pub struct Cache {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// Derived from the tables and dropped whenever a sync changes them; rebuilt on first use,
    /// so a sync of many pages costs one reload.
    pub(crate) vectors: Option<VectorIndex>,
    pub(crate) parse_context: Option<ParseContext>,
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
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
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

    /// Empties listings, vectors, knowledge and clients and sets the cursor to 0, for a full
    /// resync. The config stays: the app keeps its branding while the data comes again.
    pub fn reset(&mut self) -> CoreResult<()> {
        let tx = self.conn.transaction().at(&self.path)?;
        tx.execute_batch(
            "DELETE FROM embeddings;
             DELETE FROM listings_fts;
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

    /// Refreshes SQLite's statistics so filters use the most selective index; the sync runs
    /// it after applying changes. Without them SQLite drove "3 bed villa under 4M in Arabian
    /// Ranches" from the price index (60% of 100k rows, ~70 ms) instead of the community
    /// index (~6 ms). `PRAGMA optimize` skipped never-analysed tables and a sampled `ANALYZE`
    /// (`analysis_limit`) still chose the price index, hence a full one (~0.2 s per 100k).
    pub fn optimize(&self) -> CoreResult<()> {
        self.conn.execute_batch("ANALYZE;").at(&self.path)
    }

    pub(crate) fn forget_derived(&mut self) {
        self.vectors = None;
        self.parse_context = None;
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

/// Writes `listing` (insert or update by id) and returns its rid.
pub(crate) fn upsert_listing(
    tx: &rusqlite::Transaction<'_>,
    listing: &Listing,
    seq: i64,
) -> rusqlite::Result<i64> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO listings (id, external_id, title, description, price_minor, currency,
             bedrooms, bathrooms, size_value, size_unit, size_sqft, property_type, community,
             city, status, latitude, longitude, furnished, photos, listed_at, attributes,
             updated_at, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19, ?20, ?21, ?22, ?23)
         ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id,
             title = excluded.title, description = excluded.description,
             price_minor = excluded.price_minor, currency = excluded.currency,
             bedrooms = excluded.bedrooms, bathrooms = excluded.bathrooms,
             size_value = excluded.size_value, size_unit = excluded.size_unit,
             size_sqft = excluded.size_sqft, property_type = excluded.property_type,
             community = excluded.community, city = excluded.city, status = excluded.status,
             latitude = excluded.latitude, longitude = excluded.longitude,
             furnished = excluded.furnished, photos = excluded.photos,
             listed_at = excluded.listed_at, attributes = excluded.attributes,
             updated_at = excluded.updated_at, seq = excluded.seq
         RETURNING rid",
    )?;
    let l = listing;
    stmt.query_row(
        params![
            l.id.to_string(),
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
            to_json(&l.photos),
            l.listed_at,
            to_json(&l.attributes),
            l.updated_at,
            seq,
        ],
        |r| r.get(0),
    )
}

/// JSON of plain vectors and maps of strings; serialising them cannot fail.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
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
        upsert_listing(&tx, &listing, 1).unwrap();
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
        upsert_listing(&tx, &listing, 1).unwrap();
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
