//! The offline core (`roost-core`) against a real server on 127.0.0.1: sync into a device
//! cache in a temporary folder, then search it.

mod chat_offline;
mod outbox;
mod outbox_server;
mod photos;
mod search;
mod secrets;
mod sync;
mod sync_faults;
mod sync_kill;
mod sync_random;
mod sync_support;

use std::ops::ControlFlow;
use std::path::Path;

use roost_api::config::VersionedConfig;
use roost_api::listings::Listing;
use roost_core::{Cache, SyncClient, SyncReport, SyncState, Tokens};
use roost_tests::{Session, TestServer};

/// A cache for `tenant`/`user` under `root`.
pub fn open_cache(root: &Path, tenant: &str, user: &str) -> Cache {
    Cache::open(root, tenant, user).expect("open the device cache")
}

pub fn client(s: &TestServer, session: &Session, page_size: u32) -> SyncClient {
    SyncClient::new(
        &s.base,
        Tokens {
            access: session.access.clone(),
            refresh: Some(session.refresh.clone()),
        },
    )
    .expect("client")
    .with_page_size(page_size)
}

/// Syncs to the end of the feed.
pub async fn sync_all(s: &TestServer, session: &Session, cache: &mut Cache) -> SyncReport {
    let report = client(s, session, 500)
        .sync(cache, |_| ControlFlow::Continue(()))
        .await
        .expect("sync");
    assert!(report.finished);
    report
}

/// Everything the cache holds, for comparing two caches or a cache before and after.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub listings: Vec<Listing>,
    pub vectors: Vec<Option<Vec<f32>>>,
    pub state: SyncState,
    pub config: Option<VersionedConfig>,
}

pub fn snapshot(cache: &Cache) -> Snapshot {
    let ids = cache.listing_ids().unwrap();
    Snapshot {
        listings: ids
            .iter()
            .map(|id| cache.listing(*id).unwrap().expect("listed id"))
            .collect(),
        vectors: ids.iter().map(|id| cache.vector(*id).unwrap()).collect(),
        state: cache.sync_state().unwrap(),
        config: cache.config().unwrap(),
    }
}

/// Standard padded base64, as the feed carries vectors (this crate has no base64 dependency).
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
