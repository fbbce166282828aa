//! The offline core of the Roost apps, shared by the desktop shell and (later) mobile: no UI,
//! no Tauri.
//!
//! - [`Cache`]: one SQLite file per tenant and user on the device (WAL), a copy of the
//!   server's listings, their vectors and the tenant config.
//! - Sync: [`decide`] verifies a fetched page against the local state without side effects;
//!   [`Cache::apply_page`] applies it and its cursor in one transaction; [`SyncClient`] pulls
//!   pages until the feed is exhausted and resumes where an interrupted sync stopped.
//! - Search: [`query::parse`] reads filters out of typed text; [`Cache::search`] filters in SQL
//!   and ranks by BM25 and vector similarity fused by reciprocal rank.

mod apply;
mod cache;
mod client;
mod decide;
mod error;
mod filters;
pub mod query;
mod schema;
mod search;
pub mod vectors;

#[cfg(test)]
mod testdata;

pub use apply::Applied;
pub use cache::{CACHE_FILE, Cache};
pub use client::{DEFAULT_PAGE_SIZE, SyncClient, SyncPhase, SyncProgress, SyncReport, Tokens};
pub use decide::{Decision, F32LE, LocalModel, RejectReason, ResyncReason, SyncState, decide};
pub use error::{CoreError, CoreResult};
pub use filters::{Bounds, Filters, PriceRange};
pub use query::{ParseContext, ParsedQuery};
pub use search::{
    FacetCount, Facets, QueryEmbedder, Ranking, SearchHit, SearchRequest, SearchResults,
};
