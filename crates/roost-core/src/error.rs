use std::path::PathBuf;

use crate::decide::{RejectReason, ResyncReason};

/// Everything the core can fail with. Messages say what is wrong and where, so the app can
/// show them or log them as they are.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    #[error(
        "cache name part {part:?} is not usable as a folder name (letters, digits, '.', '_', '-', '@' only)"
    )]
    BadCacheName { part: String },
    #[error("could not create the cache folder {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the device cache {} failed: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the device cache {} has schema version {found}, newer than this app knows ({known}); update the app",
        path.display()
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("stored data in the device cache is unreadable ({what}): {message}")]
    Corrupt { what: String, message: String },
    #[error("the sync page was refused before anything was applied: {0}")]
    PageRejected(RejectReason),
    #[error("the cache must be emptied and synced again from 0: {0}")]
    ResyncNeeded(ResyncReason),
    #[error("the embedding of change {seq} is not valid: {message}")]
    BadVector { seq: i64, message: String },
    #[error("could not reach the server at {url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the server answered {status} to {url}: {message}")]
    Server {
        url: String,
        status: u16,
        message: String,
    },
    #[error("the server's answer to {url} is not what this app understands: {message}")]
    BadResponse { url: String, message: String },
    #[error("the server no longer keeps the changes after this device's cursor: {message}")]
    ResyncRequired { message: String },
    #[error("signed out: {0}")]
    SignedOut(String),
    /// An action the outbox refused before storing it; `field` names what to fix.
    #[error("{message}")]
    InvalidAction { field: String, message: String },
    #[error(
        "the server asked for a full resync twice in one sync (cursor {cursor}); try again later"
    )]
    ResyncLoop { cursor: i64 },
}

pub type CoreResult<T> = Result<T, CoreError>;

/// Attaches the cache path to rusqlite errors, so a message names the file that failed.
pub(crate) trait SqlContext<T> {
    fn at(self, path: &std::path::Path) -> CoreResult<T>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn at(self, path: &std::path::Path) -> CoreResult<T> {
        self.map_err(|source| CoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })
    }
}
