//! A server killed in the middle of an import leaves no partial import behind: the rows, the
//! report and the change counter commit together or not at all.

use std::time::{Duration, Instant};

use roost_api::imports::{ImportKind, ImportMode, Validation};
use roost_api::tenants::{ContactPerson, Tier};
use roost_db::{Actor, Ctx, Db, NewTenant, TenantId};
use roost_server::imports::ImportRequest;
use roost_server::settings::Settings;
use roost_tests::listings_csv;

const CHILD_DB: &str = "ROOST_CRASH_CHILD_DB";
const CHILD_TENANT: &str = "ROOST_CRASH_CHILD_TENANT";
const ROWS: usize = 60_000;

/// In the child process: import a large file (the parent kills us while it is written).
async fn import_big_file(dir: &str, tenant: &str) {
    let settings = Settings {
        data_dir: dir.into(),
        database_url: Some(format!("sqlite://{dir}/roost.db")),
        ..Settings::default()
    };
    let state = roost_server::build_state_with(settings, None)
        .await
        .unwrap();
    let ctx = Ctx {
        tenant: TenantId::from_verified(tenant.parse().unwrap()),
        actor: Actor::default(),
    };
    let req = ImportRequest {
        kind: ImportKind::Properties,
        file_name: "big.csv".into(),
        bytes: listings_csv(ROWS).into_bytes(),
        mapping: None,
        dry_run: false,
        validation: Validation::Strict,
        mode: ImportMode::Upsert,
    };
    roost_server::imports::run(&state, &ctx, req).await.unwrap();
    eprintln!("child finished the import before it was killed");
}

async fn live_listings(db: &Db, tenant: TenantId) -> u64 {
    db.listings_page(tenant, None, 1).await.unwrap().total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_leaves_nothing_behind() {
    if let (Ok(dir), Ok(tenant)) = (std::env::var(CHILD_DB), std::env::var(CHILD_TENANT)) {
        return import_big_file(&dir, &tenant).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/roost.db", dir.path().display());
    let db = Db::connect(&url).await.unwrap();
    let contact = ContactPerson {
        name: "Kim".into(),
        email: "kim@crash.test".into(),
        phone: None,
    };
    let (tenant, _) = db
        .create_tenant(
            NewTenant {
                slug: "crash",
                company_name: "Crash Homes",
                industry: "real estate",
                region: "Dubai",
                employee_count: 3,
                contact: &contact,
                tier: Tier::Enterprise,
                admin_password_hash: "not-used",
            },
            None,
        )
        .await
        .unwrap();
    let wal = dir.path().join("roost.db-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let before = wal_size();

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::a_killed_import_leaves_nothing_behind",
            "--nocapture",
        ])
        .env(CHILD_DB, dir.path())
        .env(CHILD_TENANT, tenant.id.uuid().to_string())
        .spawn()
        .unwrap();
    // Kill it once the import's transaction is writing (the WAL grows by megabytes).
    let started = Instant::now();
    while wal_size() < before + 2 * 1024 * 1024 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before it was killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the import never started writing"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Nothing of the import is visible: no listings, no report, no change numbers.
    let db = Db::connect(&url).await.unwrap();
    assert_eq!(
        live_listings(&db, tenant.id).await,
        0,
        "a partial import leaked"
    );
    let feed = db
        .changes(tenant.id, uuid::Uuid::nil(), &[], 0, 10, None, false)
        .await
        .unwrap()
        .unwrap();
    assert!(
        feed.changes
            .iter()
            .all(|c| matches!(c, roost_db::StoredChange::Config { .. })),
        "only the initial config is in the feed"
    );
    // The database is intact: the same import now goes through whole.
    db.close().await;
    import_big_file(dir.path().to_str().unwrap(), &tenant.id.uuid().to_string()).await;
    let db = Db::connect(&url).await.unwrap();
    assert_eq!(live_listings(&db, tenant.id).await, ROWS as u64);
}
