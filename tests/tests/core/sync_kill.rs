//! The device process SIGKILLed during sync, mostly inside an apply: each time, the cache
//! reopens sound and holds exactly the pages up to its cursor (all of each, nothing of the
//! next), and a normal sync afterwards ends where a device that was never killed ends.

use std::ops::ControlFlow;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use roost_core::Cache;
use roost_tests::{Backend, Session, TestServer, listings_csv, synthetic};

use crate::snapshot;
use crate::sync_support::{
    CHILD_ENV, ChildSpec, DeviceProcess, all_pages, device_client, open_device_cache,
    run_device_child, seeds,
};

const LISTINGS: usize = 1_200;
const PAGE: u32 = 150;
/// Kills, at most: each one stops the device within its first two pages.
const MAX_KILLS: usize = 12;

/// A server with `n` listings and the company's admin, with vectors when the embedding model
/// is available (the feed then carries them and the device stores them in the same
/// transactions).
async fn server_with_listings(slug: &str, n: usize) -> (TestServer, Session) {
    let s = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let t = s.register("Kill Homes", slug, "enterprise").await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(n).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let Some(embedder) = roost_tests::shared_embedder() else {
        return (s, t.admin);
    };
    let stored = synthetic::store_unit_vectors(
        &s.database_url,
        &t.id,
        embedder.model_id(),
        embedder.dim(),
        7,
    )
    .await;
    assert_eq!(stored, n);
    let s = s.restart(Some(embedder)).await;
    let admin = s
        .login(
            slug,
            &format!("admin@{slug}.test"),
            &format!("{slug}-admin-pass"),
        )
        .await;
    (s, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_killed_mid_apply_keeps_its_cache_consistent() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        // This process is the device of another run of this test.
        return run_device_child(&spec).await;
    }
    let (s, admin) = server_with_listings("killdev", LISTINGS).await;
    for seed in seeds(1..2) {
        killed_device(&s, &admin, seed).await;
    }
}

async fn killed_device(s: &TestServer, admin: &Session, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let key: [u8; 32] = rng.random();
    let spec = ChildSpec {
        base: s.base.clone(),
        access: admin.access.clone(),
        cache: dir.path().join("device.sqlite3"),
        key: Some(key),
        page_size: PAGE,
    };

    // The feed as the device pages through it (the data does not change in this test), and
    // how long one page takes to apply here, to aim the kills.
    let pages = all_pages(&s.base, &admin.access, PAGE).await;
    assert!(pages.len() >= 6, "{} pages", pages.len());
    let mut timing = open_device_cache(&dir.path().join("timing.sqlite3"), Some(key));
    timing.apply_page(&pages[0]).unwrap();
    let started = std::time::Instant::now();
    timing.apply_page(&pages[1]).unwrap();
    let apply_time = started.elapsed();
    drop(timing);

    // The device as a device that was never killed would be after each page.
    let mut reference = Cache::open_file(&dir.path().join("reference.sqlite3")).unwrap();
    let mut applied_pages = 0;
    let (mut kills, mut mid_apply) = (0, 0);
    let mut done = false;
    while !done && kills < MAX_KILLS {
        let mut device = DeviceProcess::spawn(&spec);
        // Kill inside the first or second apply of this run.
        let target = rng.random_range(1..=2);
        let mut applying = 0;
        let mut aim = None;
        while let Some((at, line)) = device.next_line(Duration::from_secs(60)).await {
            if line.starts_with("applying") {
                applying += 1;
                if applying == target {
                    aim = Some(at);
                    break;
                }
            }
        }
        let end = match aim {
            Some(at) => {
                let delay = apply_time.mul_f64(rng.random_range(0.05..0.9));
                tokio::time::sleep_until((at + delay).into()).await;
                kills += 1;
                device.kill().await
            }
            // It ran to the end first.
            None => device.wait().await,
        };
        assert!(
            !end.lines.iter().any(|l| l.starts_with("failed")),
            "seed {seed}: the device failed: {:?}",
            end.lines
        );
        mid_apply += usize::from(end.killed_mid_apply);
        done = end.done;

        // Reopened: a sound file, and exactly the pages up to its cursor.
        let cache = open_device_cache(&spec.cache, Some(key));
        let problems = cache.integrity_problems().unwrap();
        assert!(problems.is_empty(), "seed {seed}: {problems:?}");
        let cursor = cache.sync_state().unwrap().cursor;
        while reference.sync_state().unwrap().cursor < cursor {
            reference.apply_page(&pages[applied_pages]).unwrap();
            applied_pages += 1;
        }
        assert_eq!(
            reference.sync_state().unwrap().cursor,
            cursor,
            "seed {seed}: cursor {cursor} is not the end of a page"
        );
        assert_eq!(
            snapshot(&cache),
            snapshot(&reference),
            "seed {seed}, after kill {kills} ({:?})",
            end.lines
        );
    }
    assert!(
        mid_apply > 0,
        "seed {seed}: none of {kills} kills landed inside an apply (apply takes {apply_time:?} here)"
    );

    // Where a kill left it, a normal sync finishes; the result is the never-killed device's.
    let mut cache = open_device_cache(&spec.cache, Some(key));
    let report = device_client(&s.base, &admin.access, PAGE)
        .sync(&mut cache, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    assert!(report.finished);
    for page in &pages[applied_pages..] {
        reference.apply_page(page).unwrap();
    }
    assert_eq!(snapshot(&cache), snapshot(&reference), "seed {seed}");
    assert_eq!(cache.listing_count().unwrap(), LISTINGS as u64);
    eprintln!("seed {seed}: {kills} kills, {mid_apply} inside an apply");
}
