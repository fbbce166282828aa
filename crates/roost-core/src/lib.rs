//! The offline core of the Roost apps, shared by the desktop shell and (later) mobile: no UI,
//! no Tauri.
//!
//! - [`Cache`]: one SQLite file per tenant and user on the device (WAL, SQLCipher-encrypted
//!   with a key kept in the OS keyring), a copy of the server's listings, their vectors and
//!   the tenant config.
//! - [`secrets`]: the `SecretStore` trait (keyring on desktop; a platform keystore on mobile)
//!   and the `Session` that signs in, restores and signs out.
//! - Sync: [`decide`] verifies a fetched page against the local state without side effects;
//!   [`Cache::apply_page`] applies it and its cursor in one transaction; [`SyncClient`] pulls
//!   pages until the feed is exhausted and resumes where an interrupted sync stopped.
//! - Search: [`query::parse`] reads filters out of typed text; [`Cache::search`] fills a
//!   `roost_search::Index` from the cache (filters over in-memory columns, BM25, int8 vector
//!   similarity re-scored in f32, fused by reciprocal rank); sync patches it with the
//!   listings it touched.

mod apply;
mod cache;
mod chat;
mod client;
mod decide;
mod error;
mod filters;
mod outbox;
pub mod photos;
mod schema;
mod search;
pub mod secrets;
pub mod vectors;

#[cfg(test)]
mod index_tests;
#[cfg(test)]
mod testdata;

pub use apply::Applied;
pub use cache::{CACHE_FILE, Cache};
pub use chat::OfflineAnswer;
pub use client::{DEFAULT_PAGE_SIZE, SyncClient, SyncPhase, SyncProgress, SyncReport, Tokens};
pub use decide::{Decision, F32LE, LocalModel, RejectReason, ResyncReason, SyncState, decide};
pub use error::{CoreError, CoreResult};
pub use filters::{Bounds, Filters, PriceRange};
pub use outbox::{
    ActionSender, DrainReport, MAX_RETRY_DELAY, MIN_RETRY_DELAY, Outbox, OutboxEntry, SendOutcome,
};
pub use photos::{PhotoError, PhotoStore};
/// The query parser lives in roost-search, shared with the server.
pub use roost_search::query;
pub use roost_search::query::{ParseContext, ParsedQuery};
pub use search::{
    FacetCount, Facets, QueryEmbedder, Ranking, SearchHit, SearchRequest, SearchResults,
};
pub use secrets::{
    Account, CacheKey, KeyringStore, SecretError, SecretStore, Session, SessionError, SignOut,
};
