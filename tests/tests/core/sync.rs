use std::ops::ControlFlow;

use reqwest::StatusCode;
use roost_api::sync::{Change, EmbeddingModel};
use roost_core::{CoreError, RejectReason, SearchRequest, SyncPhase};
use roost_tests::{Backend, TestServer, listings_csv};
use sqlx::Connection;

use crate::{base64, client, open_cache, snapshot, sync_all};

async fn server() -> TestServer {
    TestServer::start(Backend::Sqlite).await.expect("sqlite")
}

fn external_ids(cache: &roost_core::Cache) -> Vec<String> {
    let mut ids: Vec<String> = cache
        .listing_ids()
        .unwrap()
        .into_iter()
        .map(|id| cache.listing(id).unwrap().unwrap().external_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_then_incremental_sync_with_tombstones() {
    let s = server().await;
    let t = s.register("Sync Homes", "coresync", "professional").await;
    let (_, agent) = s.add_user(&t, "agent@coresync.test", &["agent"]).await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(25).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), &t.id, "agent");
    let mut seen = Vec::new();
    let report = client(&s, &agent, 10)
        .sync(&mut cache, |p| {
            seen.push(*p);
            ControlFlow::Continue(())
        })
        .await
        .expect("full sync");
    // 25 listings and the config, in pages of 10.
    assert!(report.finished && !report.resynced);
    assert_eq!((report.pages, report.changes), (3, 26));
    assert!(report.bytes > 0);
    assert_eq!(seen.last().unwrap().phase, SyncPhase::Done);
    let applied: Vec<u32> = seen
        .iter()
        .filter(|p| p.phase == SyncPhase::Applied)
        .map(|p| p.pages)
        .collect();
    assert_eq!(applied, vec![1, 2, 3]);
    // Each page says where the feed ends, so progress is a fraction, not a spinner.
    let left: Vec<(u64, Option<u64>)> = seen
        .iter()
        .filter(|p| p.phase == SyncPhase::Applied)
        .map(|p| (p.changes, p.remaining))
        .collect();
    assert_eq!(left, vec![(10, Some(16)), (20, Some(6)), (26, Some(0))]);

    assert_eq!(cache.listing_count().unwrap(), 25);
    assert_eq!(cache.sync_state().unwrap().cursor, report.cursor);
    let config = cache.config().unwrap().expect("config synced");
    assert_eq!(config.config.company_info.name, "Sync Homes");
    let ids = cache.listing_ids().unwrap();
    let l7 = ids
        .iter()
        .map(|id| cache.listing(*id).unwrap().unwrap())
        .find(|l| l.external_id == "L-0007")
        .unwrap();
    assert_eq!(l7.community.as_deref(), Some("JVC"));
    assert!(
        dir.path()
            .join(&t.id)
            .join("agent")
            .join(roost_core::CACHE_FILE)
            .exists()
    );

    // Nothing new: an empty page, the same cursor.
    let again = sync_all(&s, &agent, &mut cache).await;
    assert_eq!((again.changes, again.cursor), (0, report.cursor));

    // Replace with two listings (one changed): 23 tombstones and one update arrive.
    let csv = listings_csv(2).replace("Sea", "Marina");
    let r = s
        .import(&t.admin.access, "two.csv", csv.into(), "mode=replace")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let delta = sync_all(&s, &agent, &mut cache).await;
    assert_eq!(delta.changes, 24);
    assert_eq!(external_ids(&cache), vec!["L-0001", "L-0002"]);
    assert_eq!(cache.listing(l7.id).unwrap(), None, "tombstone applied");
    let l2 = cache
        .listing_ids()
        .unwrap()
        .into_iter()
        .map(|id| cache.listing(id).unwrap().unwrap())
        .find(|l| l.external_id == "L-0002")
        .unwrap();
    assert_eq!(l2.attributes["View"], "Marina");

    // The full-text rows of removed listings went with them.
    let found = cache
        .search(
            &SearchRequest {
                text: "bed".into(),
                filters: Default::default(),
                limit: 100,
            },
            None,
        )
        .unwrap();
    assert_eq!(found.total, 2);
    assert_eq!(found.hits.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_sync_resumes_where_it_stopped() {
    let s = server().await;
    let t = s.register("Resume Homes", "resume", "professional").await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(25).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let dir = tempfile::tempdir().unwrap();

    // 26 changes in pages of 6: five pages. Stop after the second.
    let mut interrupted = open_cache(dir.path(), &t.id, "interrupted");
    let stopped = client(&s, &t.admin, 6)
        .sync(&mut interrupted, |p| {
            if p.phase == SyncPhase::Applied && p.pages == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await
        .unwrap();
    assert!(!stopped.finished);
    assert_eq!((stopped.pages, stopped.changes), (2, 12));
    assert_eq!(interrupted.sync_state().unwrap().cursor, stopped.cursor);
    let partial = interrupted.listing_count().unwrap();
    assert!((11..=12).contains(&partial), "{partial}");

    // A new sync (a new client, as after a restart) fetches only the rest.
    let rest = client(&s, &t.admin, 6)
        .sync(&mut interrupted, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    assert!(rest.finished);
    assert_eq!((rest.pages, rest.changes), (3, 14));

    let mut whole = open_cache(dir.path(), &t.id, "whole");
    let once = client(&s, &t.admin, 6)
        .sync(&mut whole, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    assert_eq!(once.pages, 5);
    assert_eq!(snapshot(&interrupted), snapshot(&whole));
    assert_eq!(whole.listing_count().unwrap(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_fails_verification_or_apply_changes_nothing() {
    let s = server().await;
    let t = s.register("Strict Homes", "strict", "professional").await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(10).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), &t.id, "admin");
    sync_all(&s, &t.admin, &mut cache).await;

    // Five listings change on the server; fetch that page without applying it.
    let csv = listings_csv(10).replace("Sea", "Lake");
    let r = s.import(&t.admin.access, "l2.csv", csv.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut c = client(&s, &t.admin, 100);
    let cursor = cache.sync_state().unwrap().cursor;
    let (page, _) = c.fetch_page(cursor, None).await.unwrap();
    assert_eq!(page.changes.len(), 5);
    let before = snapshot(&cache);

    // Out of order: refused before anything is written.
    let mut swapped = page.clone();
    swapped.changes.swap(3, 4);
    let err = cache.apply_page(&swapped).unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::PageRejected(RejectReason::NotAscending { .. })
        ),
        "{err}"
    );
    assert_eq!(snapshot(&cache), before);

    // With vectors, the last of which is corrupt: the first four were written inside the
    // transaction and must be rolled back with it.
    let unit = base64(&roost_embed::encode_f32_le(&[1.0, 0.0, 0.0, 0.0]));
    let with_vectors = |last: &str| {
        let mut p = page.clone();
        p.embedding_model = Some(EmbeddingModel {
            id: "test-model".into(),
            dim: 4,
            encoding: "f32le".into(),
        });
        let n = p.changes.len();
        for (i, change) in p.changes.iter_mut().enumerate() {
            if let Change::Listing { embedding, .. } = change {
                *embedding = Some(if i + 1 == n {
                    last.to_string()
                } else {
                    unit.clone()
                });
            }
        }
        p
    };
    // Right length (16 bytes), not base64.
    let corrupt = format!("{}==", "!".repeat(22));
    let err = cache.apply_page(&with_vectors(&corrupt)).unwrap_err();
    assert!(matches!(err, CoreError::BadVector { .. }), "{err}");
    assert_eq!(snapshot(&cache), before);

    let nan = base64(&roost_embed::encode_f32_le(&[f32::NAN, 0.0, 0.0, 0.0]));
    let err = cache.apply_page(&with_vectors(&nan)).unwrap_err();
    assert!(matches!(err, CoreError::BadVector { .. }), "{err}");
    assert_eq!(snapshot(&cache), before);

    // The same page with a sound last vector applies whole.
    let applied = cache.apply_page(&with_vectors(&unit)).unwrap();
    assert_eq!(applied.vectors_stored, 5);
    let after = snapshot(&cache);
    assert_ne!(after, before);
    assert_eq!(after.state.cursor, page.next_cursor);
    assert_eq!(after.state.model.unwrap().id, "test-model");
    assert_eq!(after.vectors.iter().filter(|v| v.is_some()).count(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_history_empties_the_cache_and_syncs_from_zero() {
    let s = server().await;
    let t = s.register("Purge Homes", "purge", "professional").await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(6).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), &t.id, "admin");
    let first = sync_all(&s, &t.admin, &mut cache).await;

    // More changes, then the server forgets the history the device would need.
    let r = s
        .import(
            &t.admin.access,
            "l.csv",
            listings_csv(9).into(),
            "mode=replace",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&s.database_url).await.unwrap();
    let purge =
        |before: i64| format!("UPDATE tenants SET purged_before = {before} WHERE slug = 'purge'");
    sqlx::query(sqlx::AssertSqlSafe(purge(first.cursor + 1)))
        .execute(&mut db)
        .await
        .unwrap();

    // The device's cursor is older than the kept history: it is told so, empties its cache
    // and pages through a full resync (in pages of 4, so past the purge horizon too).
    let report = client(&s, &t.admin, 4)
        .sync(&mut cache, |_| ControlFlow::Continue(()))
        .await
        .expect("resync completes");
    assert!(report.resynced && report.finished);
    assert_eq!(cache.listing_count().unwrap(), 9);
    assert!(
        cache.config().unwrap().is_some(),
        "config kept or synced again"
    );
    // Clean: the same as a device that never synced before, nothing of the old copy left.
    let mut fresh = open_cache(dir.path(), &t.id, "fresh");
    sync_all(&s, &t.admin, &mut fresh).await;
    assert_eq!(snapshot(&cache), snapshot(&fresh));
}
