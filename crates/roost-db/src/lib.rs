//! Storage of the Roost server.
//!
//! One SQL dialect, run through sqlx's `Any` driver on SQLite (the one-box default) and
//! PostgreSQL, so both backends execute the very same statements and the same integration
//! suite proves them. Methods are coarse and named after use cases; each runs in one
//! transaction that also appends its audit event. Every tenant-owned query takes a
//! [`Ctx`] (or a [`TenantId`]), so no query can forget its tenant.

mod actions;
mod audit;
mod auth;
mod chat;
mod config;
mod embeddings;
mod knowledge;
mod listings;
mod media;
mod migrate;
mod native;
mod pool;
mod sync;
mod tenants;
mod upsert;
mod users;
mod whatsapp;

pub use actions::{ActionOutcome, Claim, ClaimRequest, NewActionClient, StoredAction};
pub use audit::AuditEntry;
pub use auth::{AccessCheck, LoginCandidate, RefreshOutcome};
pub use chat::{AnswerEnd, ChatTurn, ChatUsageRow};
pub use embeddings::{EmbedProgress, Embedded, EmbeddingJob, NewEmbedding};
pub use knowledge::{ClientWrite, KnowledgeWrite, audience_allows};
pub use listings::{ImportWrite, ListingWrite, OverLimit};
pub use media::{MediaInfo, NewMedia};
pub use pool::{Backend, Db};
pub use sync::{ChangeBatch, CursorTooOld, StoredChange};
pub use tenants::{NewTenant, Tenant};
pub use users::UserPatch;
pub use whatsapp::{WebhookApplied, WhatsAppEvent};

use std::time::{SystemTime, UNIX_EPOCH};

use uuid::Uuid;

/// A tenant id that came from a verified token or a lookup by slug; the only way to address
/// tenant-owned rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId(Uuid);

impl TenantId {
    /// Callers must only pass ids from a verified source (a signed token, a row of `tenants`).
    pub fn from_verified(id: Uuid) -> Self {
        Self(id)
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }

    fn s(self) -> String {
        self.0.to_string()
    }
}

/// The operator's shared knowledge base: a reserved tenant every company's retrieval may read.
pub const SHARED_TENANT: TenantId = TenantId(Uuid::nil());

/// Who is acting, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub ip: Option<String>,
}

/// The tenant and actor every tenant-scoped method works in.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub tenant: TenantId,
    pub actor: Actor,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the message says which.
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` named a version that is not current.
    #[error("version {expected} is not current (current is {current})")]
    StaleVersion { expected: i64, current: i64 },
    /// A stored value could not be read back (schema drift or manual edits).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// From the native SQLite read path.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl DbError {
    /// The pool had no free connection in time: answer 503, not 500.
    pub fn is_busy(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::PoolTimedOut) => true,
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DatabaseBusy
            }
            _ => false,
        }
    }
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `"id, title"` with alias `l` → `"l.id, l.title"`, for joins.
fn qualified(cols: &str, alias: &str) -> String {
    cols.split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| DbError::Corrupt(format!("bad uuid '{s}': {e}")))
}

/// Maps a unique violation to `Conflict(msg)`, anything else through.
fn conflict_on_unique(e: sqlx::Error, msg: impl FnOnce() -> String) -> DbError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => DbError::Conflict(msg()),
        _ => DbError::Sqlx(e),
    }
}
