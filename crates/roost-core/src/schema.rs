//! The cache's tables, migrated forward by `PRAGMA user_version`.
//!
//! The cache is a copy of the server's data: when a migration cannot carry data over it may
//! drop tables and reset the cursor, and the next sync fills them again. The exception is
//! `outbox` (V3): the agent's actions not yet delivered exist nowhere else, so a migration
//! must carry them over.

use rusqlite::Connection;

/// One entry per schema version; `MIGRATIONS[n]` takes version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const V1: &str = r#"
-- `rid` is the local row id: FTS rows and vectors hang off it, and search works in rids.
CREATE TABLE listings (
    rid            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    external_id    TEXT NOT NULL,
    title          TEXT,
    description    TEXT,
    price_minor    INTEGER,
    currency       TEXT,
    bedrooms       INTEGER,
    bathrooms      REAL,
    size_value     REAL,
    size_unit      TEXT,
    size_sqft      REAL,
    -- NOCASE: filters from typed text ("villa") must match the source's spelling ("Villa").
    property_type  TEXT COLLATE NOCASE,
    community      TEXT COLLATE NOCASE,
    city           TEXT COLLATE NOCASE,
    status         TEXT COLLATE NOCASE,
    latitude       REAL,
    longitude      REAL,
    furnished      INTEGER,
    photos         TEXT NOT NULL,
    listed_at      TEXT,
    attributes     TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    seq            INTEGER NOT NULL
);
CREATE INDEX listings_price ON listings (currency, price_minor);
CREATE INDEX listings_bedrooms ON listings (bedrooms);
CREATE INDEX listings_type ON listings (property_type);
CREATE INDEX listings_community ON listings (community);
-- Unranked results show newest first.
CREATE INDEX listings_newest ON listings (updated_at DESC, rid);

-- Its own copy of the text (not external content): the indexed text includes attribute
-- values, which are not a column of `listings`. rowid = listings.rid.
CREATE VIRTUAL TABLE listings_fts USING fts5 (
    title, description, community, property_type, attributes,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- f32 little-endian, `sync_state.model_dim` floats, all of `sync_state.model_id`.
CREATE TABLE embeddings (
    rid     INTEGER PRIMARY KEY REFERENCES listings (rid) ON DELETE CASCADE,
    vector  BLOB NOT NULL
);

-- Knowledge items and clients as the feed sent them (JSON), with a knowledge item's vector.
-- Stored now so the features that read them need no resync.
CREATE TABLE records (
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    json    TEXT NOT NULL,
    vector  BLOB,
    PRIMARY KEY (kind, id)
);

CREATE TABLE tenant_config (
    one      INTEGER PRIMARY KEY CHECK (one = 1),
    version  INTEGER NOT NULL,
    json     TEXT NOT NULL
);

CREATE TABLE sync_state (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    cursor     INTEGER NOT NULL,
    model_id   TEXT,
    model_dim  INTEGER,
    -- The feed's `scope` (what the user may see); a change empties the cache.
    scope      TEXT,
    synced_at  INTEGER
);
INSERT INTO sync_state (one, cursor) VALUES (1, 0);
"#;

// Search runs in memory (columns.rs, keywords.rs, quantised.rs) and makes its snippets in
// Rust: nothing reads the FTS5 table or the per-field indexes any more (the SQL form of the
// filters is only the tests' reference), and writing them took over half of the time
// applying a sync page took (tests/benches/sync.rs). The unique index on `id` stays: sync
// finds listings by id.
const V2: &str = "
DROP TABLE listings_fts;
DROP INDEX listings_price;
DROP INDEX listings_bedrooms;
DROP INDEX listings_type;
DROP INDEX listings_community;
DROP INDEX listings_newest;
";

// The device outbox (outbox.rs): actions the agent took, each with the idempotency key made
// when they acted, until the server has recorded them. `request` and `server` are JSON
// (`ActionRequest`, the server's `ActionRecord`); `status` is an `ActionStatus` in snake
// case; times are milliseconds. `next_attempt_at` is NULL once nothing more is to be sent.
// Not touched by `Cache::reset`: a resync must never lose an action.
const V3: &str = "
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    key              TEXT NOT NULL UNIQUE,
    request          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  INTEGER,
    server           TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
";

/// Brings the schema to [`SCHEMA_VERSION`]; `Err(found)` when the file is newer than this
/// build knows.
pub fn migrate(conn: &mut Connection) -> Result<Result<(), i64>, rusqlite::Error> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Ok(Err(found));
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        // PRAGMA takes no parameters; the value is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))?;
        tx.commit()?;
    }
    Ok(Ok(()))
}
