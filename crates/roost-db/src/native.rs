//! A native read path on SQLite for reads that return many rows (the sync feed's pages).
//!
//! sqlx's SQLite driver steps a statement on its worker thread and hands every row to the
//! async side over a channel: a thread wake-up per row, ~20 µs a row for a listing with its
//! vector. rusqlite on a blocking thread reads the whole page in one go. The statements are
//! the very same text as on the sqlx path, and rows decode through one [`Columns`] trait, so
//! both paths give the same values (a test compares them); PostgreSQL and in-memory SQLite
//! keep the sqlx path.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use crate::{Db, Result};

/// Reading one column by name, the same way from an sqlx row and a rusqlite row.
pub(crate) trait Columns {
    fn col<T: Value>(&self, name: &str) -> Result<T>;
}

/// A column type both drivers decode.
pub(crate) trait Value:
    for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + rusqlite::types::FromSql
{
}

impl<T> Value for T where
    T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + rusqlite::types::FromSql
{
}

impl Columns for AnyRow {
    fn col<T: Value>(&self, name: &str) -> Result<T> {
        Ok(self.try_get(name)?)
    }
}

/// A rusqlite row with its statement's column names, looked up in Rust: rusqlite's own
/// lookup by name asks SQLite for every name at every call, a tenth of a page's read.
struct NativeRow<'a> {
    row: &'a rusqlite::Row<'a>,
    names: &'a [String],
}

impl Columns for NativeRow<'_> {
    fn col<T: Value>(&self, name: &str) -> Result<T> {
        match self.names.iter().position(|n| n.eq_ignore_ascii_case(name)) {
            Some(i) => Ok(self.row.get(i)?),
            None => Err(rusqlite::Error::InvalidColumnName(name.to_string()).into()),
        }
    }
}

/// Turns a row into a value; may hold what it needs to decide (the caller's roles).
pub(crate) trait Decoder: Send + 'static {
    type Out: Send + 'static;
    fn decode<R: Columns>(&self, row: &R) -> Result<Self::Out>;
}

/// A statement parameter, bound as `$1`, `$2`, … in order.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// Read-only connections to the server's SQLite file, opened on demand and kept for reuse.
pub(crate) struct NativeReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Idle connections kept; more may be open while reads overlap.
const KEEP_IDLE: usize = 4;

impl NativeReader {
    /// A reader for a file-backed SQLite URL; `None` for an in-memory database, which another
    /// connection cannot see.
    pub(crate) fn for_url(url: &str) -> Option<Arc<NativeReader>> {
        use std::str::FromStr;
        let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
        let path = opts.get_filename().to_path_buf();
        let name = path.to_string_lossy();
        if url.contains("memory") || name.is_empty() || name.starts_with(':') {
            return None;
        }
        Some(Arc::new(NativeReader {
            path,
            idle: Mutex::new(Vec::new()),
        }))
    }

    fn connection(&self) -> Result<Connection> {
        if let Some(c) = self.idle.lock().expect("reader pool").pop() {
            return Ok(c);
        }
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(Duration::from_secs(10))?;
        Ok(c)
    }

    fn give_back(&self, c: Connection) {
        let mut idle = self.idle.lock().expect("reader pool");
        if idle.len() < KEEP_IDLE {
            idle.push(c);
        }
    }

    fn select_blocking<D: Decoder>(
        &self,
        sql: &str,
        binds: &[Bind],
        decoder: &D,
    ) -> Result<Vec<D::Out>> {
        let conn = self.connection()?;
        let out = (|| {
            let mut stmt = conn.prepare_cached(sql)?;
            for (i, b) in binds.iter().enumerate() {
                if let Some(at) = stmt.parameter_index(&format!("${}", i + 1))? {
                    match b {
                        Bind::Text(s) => stmt.raw_bind_parameter(at, s)?,
                        Bind::Int(n) => stmt.raw_bind_parameter(at, n)?,
                    }
                }
            }
            let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(decoder.decode(&NativeRow { row, names: &names })?);
            }
            Ok(out)
        })();
        self.give_back(conn);
        out
    }
}

impl Db {
    /// Runs a read of many rows: natively on a file-backed SQLite, through sqlx otherwise.
    pub(crate) async fn select<D: Decoder>(
        &self,
        sql: String,
        binds: Vec<Bind>,
        decoder: D,
    ) -> Result<Vec<D::Out>> {
        if let Some(reader) = self.native.clone() {
            return tokio::task::spawn_blocking(move || {
                reader.select_blocking(&sql, &binds, &decoder)
            })
            .await
            .unwrap_or_else(|e| match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Cancelled: the runtime is shutting down.
                Err(_) => Err(sqlx::Error::WorkerCrashed.into()),
            });
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Text(s) => q.bind(s),
                Bind::Int(n) => q.bind(n),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| decoder.decode(r)).collect()
    }
}
