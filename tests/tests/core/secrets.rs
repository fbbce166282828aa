//! Encryption at rest and keyring-held secrets, against the real OS keyring.
//!
//! `cargo xtask test` runs these inside a kernel session keyring and a private D-Bus session
//! with an unlocked GNOME Keyring, and sets `ROOST_TEST_REQUIRE_KEYRING=1`: then an unusable
//! keyring fails the test. Run bare (`cargo test`) they are skipped with a message instead.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use reqwest::StatusCode;
use roost_api::auth::LoginRequest;
use roost_core::secrets::{SecretId, SecretName};
use roost_core::{Account, Cache, KeyringStore, SecretStore, Session, SignOut};
use roost_tests::{Backend, TestServer, listings_csv};
use sqlx::Connection;

/// The real keyring under a service name of its own, so runs never see each other's entries.
fn keyring() -> Option<Arc<dyn SecretStore>> {
    let service = format!("app.roost.test.{}", uuid::Uuid::new_v4());
    match KeyringStore::open(&service) {
        Ok(store) => Some(Arc::new(store)),
        Err(e) if std::env::var("ROOST_TEST_REQUIRE_KEYRING").as_deref() == Ok("1") => {
            panic!("ROOST_TEST_REQUIRE_KEYRING=1 but the OS keyring is unusable: {e}")
        }
        Err(e) => {
            eprintln!("skipped: {e}; `cargo xtask test` provides a keyring");
            None
        }
    }
}

struct Setup {
    server: TestServer,
    tenant_id: String,
    login: LoginRequest,
}

async fn setup(slug: &str, listings: usize) -> Setup {
    let server = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let t = server.register("Secret Homes", slug, "professional").await;
    let email = format!("agent@{slug}.test");
    server.add_user(&t, &email, &["agent"]).await;
    if listings > 0 {
        let r = server
            .import(&t.admin.access, "l.csv", listings_csv(listings).into(), "")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    Setup {
        tenant_id: t.id,
        login: LoginRequest {
            tenant: slug.into(),
            password: format!("{email}-pass"),
            email,
            device_name: "keyring test".into(),
        },
        server,
    }
}

fn secret(account: &Account, name: SecretName) -> SecretId {
    SecretId::new(&account.tenant, &account.user, name)
}

fn file_contains(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_file_is_unreadable_without_the_key() {
    let Some(store) = keyring() else { return };
    let s = setup("secretcache", 12).await;
    let root = tempfile::tempdir().unwrap();
    let session = Session::sign_in(&s.server.base, root.path(), store.clone(), &s.login)
        .await
        .expect("sign in");
    assert_eq!(session.account().tenant, s.tenant_id);

    let mut cache = session.open_cache().expect("open the encrypted cache");
    let report = session
        .sync_client()
        .unwrap()
        .sync(&mut cache, |_| ControlFlow::Continue(()))
        .await
        .expect("sync");
    assert!(report.finished && report.changes > 0);
    session.check_store().unwrap();
    let ids = cache.listing_ids().unwrap();
    let title = cache
        .listing(ids[0])
        .unwrap()
        .unwrap()
        .title
        .expect("title");
    let path = cache.path().to_path_buf();
    drop(cache);

    // Neither the file nor its WAL holds the text (a plain SQLite cache would hold it as is).
    let wal = path.with_extension("sqlite3-wal");
    for file in [&path, &wal] {
        assert!(
            !file_contains(file, &title),
            "{} holds {title:?}",
            file.display()
        );
    }
    assert!(!file_contains(&path, "SQLite format 3"));

    // SQLite without the key, through rusqlite and through sqlx.
    let err = Cache::open_file(&path).unwrap_err().to_string();
    assert!(err.contains("file is not a database"), "{err}");
    let url = format!("sqlite://{}", path.display());
    let read = async {
        let mut conn = sqlx::SqliteConnection::connect(&url).await?;
        sqlx::query("SELECT count(*) FROM listings")
            .fetch_one(&mut conn)
            .await
    };
    let err = read
        .await
        .expect_err("sqlx read without the key")
        .to_string();
    assert!(err.contains("file is not a database"), "{err}");

    // With the key from the keyring it opens again, even in a new store handle.
    let account = session.account().clone();
    let reopened = account
        .open_cache(root.path(), &*store)
        .expect("reopen with the stored key");
    assert_eq!(reopened.listing_count().unwrap(), ids.len() as u64);
    drop(reopened);

    session.sign_out(SignOut::WipeCache).await.unwrap();
    assert!(
        store
            .get(&secret(&account, SecretName::CacheKey))
            .unwrap()
            .is_none()
    );
    assert!(!path.exists() && !wal.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_removes_the_secrets() {
    let Some(store) = keyring() else { return };
    let s = setup("secretsignout", 0).await;
    let root = tempfile::tempdir().unwrap();
    let base = s.server.base.as_str();
    let session = Session::sign_in(base, root.path(), store.clone(), &s.login)
        .await
        .expect("sign in");
    let account = session.account().clone();
    let token_id = secret(&account, SecretName::RefreshToken);
    let key_id = secret(&account, SecretName::CacheKey);
    let first = store.get(&token_id).unwrap().expect("refresh token stored");
    drop(session.open_cache().unwrap());
    assert!(store.get(&key_id).unwrap().is_some(), "cache key stored");

    // Start-up: the stored token is spent for a new one, which replaces it.
    let restored = Session::restore(base, root.path(), store.clone(), &account)
        .await
        .expect("restore")
        .expect("a session");
    let second = store.get(&token_id).unwrap().expect("rotated token stored");
    assert_ne!(first, second);

    // Sign-out keeping the cache: the token goes, the key stays for the next sign-in.
    assert!(
        restored
            .sign_out(SignOut::KeepCache)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.get(&token_id).unwrap().is_none());
    assert!(store.get(&key_id).unwrap().is_some());
    let none = Session::restore(base, root.path(), store.clone(), &account)
        .await
        .unwrap();
    assert!(none.is_none(), "nobody is signed in");
    // The server revoked the device: the last token no longer refreshes.
    let r = s
        .server
        .post(
            "/api/v1/auth/refresh",
            None,
            serde_json::json!({ "refresh_token": String::from_utf8(second.to_vec()).unwrap() }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);

    // Sign in again, then sign out wiping the cache: nothing is left in the keyring or on disk.
    let session = Session::sign_in(base, root.path(), store.clone(), &s.login)
        .await
        .unwrap();
    let path = session.open_cache().unwrap().path().to_path_buf();
    assert!(path.exists());
    session.sign_out(SignOut::WipeCache).await.unwrap();
    assert!(store.get(&token_id).unwrap().is_none());
    assert!(store.get(&key_id).unwrap().is_none());
    assert!(!path.exists());
}
