use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::Result;
use crate::native::NativeReader;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The server's database handle: a pool plus the backend it talks to.
#[derive(Clone)]
pub struct Db {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// Native reads of many rows on a file-backed SQLite (see `native`).
    pub(crate) native: Option<Arc<NativeReader>>,
}

impl Db {
    /// Connects and brings the schema up to date. `sqlite://PATH` files are created on first
    /// use (add `?mode=rwc`-style options yourself only to override that).
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| {
            sqlx::Error::Configuration(
                format!("unsupported database URL '{url}': use sqlite://… or postgres://…").into(),
            )
        })?;
        let url = match backend {
            Backend::Sqlite if !url.contains('?') && !url.contains(":memory:") => {
                format!("{url}?mode=rwc")
            }
            _ => url.to_string(),
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            // SQLite has one writer anyway; a handful of connections serves reads in WAL mode.
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        let mut db = Db {
            pool,
            backend,
            native: None,
        };
        crate::migrate::run(&db).await?;
        // After the migrations: the file exists and has its tables.
        if backend == Backend::Sqlite {
            db.native = NativeReader::for_url(&url);
        }
        Ok(db)
    }

    /// Reads every row through sqlx, as on PostgreSQL: the reference the native SQLite read
    /// path is checked against.
    pub fn sqlx_reads_only(mut self) -> Db {
        self.native = None;
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Cheap liveness query for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A write transaction. SQLite's `BEGIN IMMEDIATE` takes the write lock up front, so two
    /// writers queue on the busy timeout instead of failing on a lock upgrade.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
