//! Listing photos on the device: fetched once into files beside the cache, served from disk
//! when offline, never sent a Roost token to another host, pruned after sync removes
//! listings, counted and cleared.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::{Method, StatusCode};
use roost_core::photos::PrefetchProgress;
use roost_core::{Cache, PhotoError, PhotoStore};
use roost_server::demo::photos::{Scene, render};
use roost_tests::{Backend, TestServer};
use uuid::Uuid;

use crate::{open_cache, sync_all};

/// Uploads `bytes` as an image and returns its media path.
async fn upload(s: &TestServer, token: &str, bytes: Vec<u8>) -> String {
    let r = s
        .req(Method::POST, "/api/v1/media", Some(token))
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: serde_json::Value = r.json().await.unwrap();
    body["url"].as_str().unwrap().to_string()
}

/// Listing id by the company's reference.
fn ids(cache: &Cache) -> HashMap<String, Uuid> {
    cache
        .listing_ids()
        .unwrap()
        .into_iter()
        .map(|id| (cache.listing(id).unwrap().unwrap().external_id, id))
        .collect()
}

fn photos_csv(rows: &[(&str, &[&str])]) -> String {
    let mut csv = String::from("Ref,Title,Price,Photos\n");
    for (reference, photos) in rows {
        csv.push_str(&format!(
            "{reference},Listing {reference},AED 2M,{}\n",
            photos.join("|")
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roost_photos_are_kept_and_served_offline() {
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let t = s.register("Photo Sync", "photo-sync", "professional").await;
    let (_, agent) = s.add_user(&t, "agent@photo-sync.test", &["agent"]).await;
    let jpegs = [
        render(Scene::Villa, 1),
        render(Scene::Interior, 2),
        render(Scene::Tower, 3),
    ];
    let mut media = Vec::new();
    for j in &jpegs {
        media.push(upload(&s, &t.admin.access, j.clone()).await);
    }
    let csv = photos_csv(&[("P-1", &[&media[0], &media[1]]), ("P-2", &[&media[2]])]);
    let r = s.import(&t.admin.access, "p.csv", csv.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), &t.id, "agent");
    sync_all(&s, &agent, &mut cache).await;
    let ids = ids(&cache);
    let (p1, p2) = (ids["P-1"], ids["P-2"]);
    assert_eq!(cache.listing_photo(p1, 1).unwrap(), Some(media[1].clone()));
    assert_eq!(cache.listing_photo(p1, 2).unwrap(), None, "P-1 has two");
    assert_eq!(cache.listing_photo(Uuid::new_v4(), 0).unwrap(), None);

    let store = PhotoStore::new(&cache, &s.base, &agent.access).unwrap();
    assert_eq!(
        store.dir(),
        dir.path().join(&t.id).join("agent").join("photos"),
        "beside the cache file"
    );
    let cover = cache.listing_photo(p1, 0).unwrap().unwrap();
    assert_eq!(store.cached(&cover), None);
    let path = store.fetch(&cover).await.unwrap();
    assert_eq!(path.parent(), Some(store.dir()));
    assert_eq!(path.extension().unwrap(), "jpg");
    assert_eq!(std::fs::read(&path).unwrap(), jpegs[0]);
    assert_eq!(store.cached(&cover), Some(path.clone()));
    assert_eq!(store.bytes_used().unwrap(), jpegs[0].len() as u64);

    // A stale token is refused in words; the store takes the refreshed one.
    store.set_access_token("not-a-token");
    let err = store.fetch(&media[1]).await.unwrap_err();
    assert!(
        matches!(err, PhotoError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("not signed in"), "{err}");
    store.set_access_token(&agent.access);
    store.fetch(&media[1]).await.unwrap();

    // The server goes away: what was fetched still opens, the rest says offline.
    drop(s);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.fetch(&cover).await.unwrap(), path);
    let other = cache.listing_photo(p2, 0).unwrap().unwrap();
    let err = store.fetch(&other).await.unwrap_err();
    assert!(matches!(err, PhotoError::Offline { .. }), "{err}");
    assert!(err.to_string().starts_with("offline"), "{err}");
    assert_eq!(
        store.bytes_used().unwrap(),
        (jpegs[0].len() + jpegs[1].len()) as u64
    );
}

/// Beside an encrypted cache the photo files are sealed: the image is not on disk as such,
/// it reads back whole, a file sealed for another photo or under another key does not open,
/// and a file that does not open (an older plain one, say) is fetched again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_beside_an_encrypted_cache_are_sealed() {
    use roost_core::CacheKey;
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let t = s.register("Sealed Photos", "sealed", "professional").await;
    let (_, agent) = s.add_user(&t, "agent@sealed.test", &["agent"]).await;
    let jpegs = [render(Scene::Villa, 4), render(Scene::Interior, 5)];
    let mut media = Vec::new();
    for j in &jpegs {
        media.push(upload(&s, &t.admin.access, j.clone()).await);
    }
    let csv = photos_csv(&[("S-1", &[&media[0], &media[1]])]);
    let r = s.import(&t.admin.access, "p.csv", csv.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let dir = tempfile::tempdir().unwrap();
    let key = CacheKey::generate().unwrap();
    let mut cache = Cache::open_encrypted(dir.path(), &t.id, "agent", &key).unwrap();
    sync_all(&s, &agent, &mut cache).await;
    let store = PhotoStore::new(&cache, &s.base, &agent.access).unwrap();
    let (bytes, kind) = store.read(&media[0]).await.unwrap();
    assert_eq!(bytes, jpegs[0]);
    assert_eq!(kind.mime(), "image/jpeg");
    let path = store.cached(&media[0]).expect("kept on disk");
    let file = std::fs::read(&path).unwrap();
    assert!(!file.starts_with(&[0xFF, 0xD8]), "no JPEG header on disk");
    assert!(
        !file.windows(64).any(|w| w == &jpegs[0][100..164]),
        "none of the image in the clear"
    );
    assert_eq!(
        store.read(&media[0]).await.unwrap().0,
        jpegs[0],
        "from disk"
    );
    assert_eq!(store.read(&media[1]).await.unwrap().0, jpegs[1]);
    let second = store.cached(&media[1]).expect("kept on disk");

    // Offline from here: what opens comes from disk, what does not must be fetched.
    drop(s);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.read(&media[0]).await.unwrap().0, jpegs[0]);

    // The first photo's sealed bytes under the second's name: refused, removed, and
    // (offline) not to be had.
    std::fs::write(&second, &file).unwrap();
    let err = store.read(&media[1]).await.unwrap_err();
    assert!(matches!(err, PhotoError::Offline { .. }), "{err}");
    assert!(!second.exists(), "the file that did not open is gone");

    // A cache under another key in the same folder opens nothing of this one's photos.
    let other = Cache::open_file_encrypted(
        &store.dir().with_file_name("other.sqlite3"),
        &CacheKey::generate().unwrap(),
    )
    .unwrap();
    let other_store = PhotoStore::new(&other, "http://127.0.0.1:9", "").unwrap();
    assert_eq!(other_store.dir(), store.dir());
    let err = other_store.read(&media[0]).await.unwrap_err();
    assert!(matches!(err, PhotoError::Offline { .. }), "{err}");
    assert!(
        store.cached(&media[0]).is_none(),
        "removed: it did not open"
    );

    // Nor is a plain image file trusted (one left by a version that did not seal).
    std::fs::write(&path, &jpegs[0]).unwrap();
    let err = store.read(&media[0]).await.unwrap_err();
    assert!(matches!(err, PhotoError::Offline { .. }), "{err}");
}

type Route = (u16, &'static str, Vec<u8>);

/// Each request's path and headers (names in lower case).
type Seen = Arc<Mutex<Vec<(String, HashMap<String, String>)>>>;

/// A tiny HTTP/1.1 host on 127.0.0.1 that records each request's path and headers.
struct FakeHost {
    base: String,
    seen: Seen,
}

impl FakeHost {
    /// Serves the routes `routes(base)` makes (path → status, content type, body); a `302`
    /// body is the Location.
    fn start(routes: impl FnOnce(&str) -> HashMap<String, Route>) -> FakeHost {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes = routes(&base);
        let seen: Seen = Arc::default();
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let mut headers = HashMap::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.trim().split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
                log.lock().unwrap().push((path.clone(), headers));
                let (status, content_type, body) = routes.get(&path).cloned().unwrap_or((
                    404,
                    "text/plain",
                    b"no such file".to_vec(),
                ));
                let head = if status == 302 {
                    format!(
                        "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        String::from_utf8_lossy(&body)
                    )
                } else {
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                };
                let _ = conn.write_all(head.as_bytes());
                if status != 302 {
                    let _ = conn.write_all(&body);
                }
            }
        });
        FakeHost { base, seen }
    }

    fn headers_of(&self, path: &str) -> Vec<HashMap<String, String>> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_hosts_never_get_the_token_and_bad_answers_are_named() {
    let (a, b) = (render(Scene::Villa, 4), render(Scene::Tower, 5));
    let (media_ok, media_redirect) = (Uuid::new_v4(), Uuid::new_v4());
    // The fake host is also the "Roost server", and redirects one image to itself.
    let host = FakeHost::start(|base| {
        let mut routes: HashMap<String, Route> = HashMap::new();
        routes.insert("/a.jpg".into(), (200, "image/jpeg", a.clone()));
        routes.insert("/b.jpg".into(), (200, "image/jpeg", b.clone()));
        routes.insert("/steal".into(), (200, "image/jpeg", a.clone()));
        routes.insert(
            "/page.html".into(),
            (
                200,
                "text/html; charset=utf-8",
                b"<!doctype html><p>hi</p>".to_vec(),
            ),
        );
        routes.insert(
            format!("/api/v1/media/{media_ok}"),
            (200, "image/jpeg", b.clone()),
        );
        routes.insert(
            format!("/api/v1/media/{media_redirect}"),
            (302, "", format!("{base}/steal").into_bytes()),
        );
        routes
    });

    let dir = tempfile::tempdir().unwrap();
    let store =
        PhotoStore::in_dir(dir.path().join("photos"), &host.base, "roost-token-123").unwrap();

    let external = format!("{}/a.jpg", host.base);
    let path = store.fetch(&external).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), a);
    let sent = host.headers_of("/a.jpg");
    assert_eq!(sent.len(), 1);
    assert!(
        !sent[0].contains_key("authorization") && !sent[0].contains_key("x-roost-api-version"),
        "a third-party host got Roost headers: {:?}",
        sent[0]
    );
    store.fetch(&external).await.unwrap();
    assert_eq!(
        host.headers_of("/a.jpg").len(),
        1,
        "kept, not fetched again"
    );

    let roost = format!("/api/v1/media/{media_ok}");
    store.fetch(&roost).await.unwrap();
    let sent = host.headers_of(&roost);
    assert_eq!(
        sent[0].get("authorization").map(String::as_str),
        Some("Bearer roost-token-123")
    );

    // The server's redirect is not followed: the token would go along to another URL.
    let err = store
        .fetch(&format!("/api/v1/media/{media_redirect}"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PhotoError::Server { status: 302, .. }),
        "{err}"
    );
    assert!(host.headers_of("/steal").is_empty());

    let used = store.bytes_used().unwrap();
    let err = store
        .fetch(&format!("{}/page.html", host.base))
        .await
        .unwrap_err();
    assert!(matches!(err, PhotoError::NotAnImage { .. }), "{err}");
    assert!(
        err.to_string().starts_with("not an image") && err.to_string().contains("text/html"),
        "{err}"
    );
    let err = store
        .fetch(&format!("{}/missing.jpg", host.base))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PhotoError::NotFound { status: 404, .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("photo not found"), "{err}");
    let err = store.fetch("/photos/1.jpg").await.unwrap_err();
    assert!(matches!(err, PhotoError::BadReference { .. }), "{err}");
    assert_eq!(
        store.bytes_used().unwrap(),
        used,
        "nothing written for refusals"
    );

    // Prefetch: each distinct photo once, the ones on disk skipped, failures listed.
    let refs: Vec<String> = ["/a.jpg", "/b.jpg", "/a.jpg", "/missing.jpg", "/page.html"]
        .iter()
        .map(|p| format!("{}{p}", host.base))
        .collect();
    let mut seen: Vec<PrefetchProgress> = Vec::new();
    let report = store
        .prefetch(&refs, 2, |p| {
            seen.push(*p);
            ControlFlow::Continue(())
        })
        .await;
    assert!(report.finished);
    assert_eq!(
        (report.total, report.already_cached, report.fetched),
        (4, 1, 1)
    );
    assert_eq!(report.bytes, b.len() as u64);
    let mut failed: Vec<&str> = report.failed.iter().map(|(r, _)| r.as_str()).collect();
    failed.sort();
    assert_eq!(failed, [refs[3].as_str(), refs[4].as_str()]);
    let done: Vec<u64> = seen.iter().map(|p| p.done).collect();
    assert_eq!(done, [1, 2, 3, 4]);
    assert!(store.cached(&refs[1]).is_some());

    // Stopped by the callback: nothing more is fetched.
    store.clear().unwrap();
    let before = host.seen.lock().unwrap().len();
    let report = store.prefetch(&refs, 1, |_| ControlFlow::Break(())).await;
    assert!(!report.finished);
    assert_eq!(report.fetched, 0);
    assert_eq!(host.seen.lock().unwrap().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_drops_photos_of_removed_listings_and_clear_empties() {
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let t = s.register("Prune Homes", "prune", "professional").await;
    let (_, agent) = s.add_user(&t, "agent@prune.test", &["agent"]).await;
    let jpegs: Vec<Vec<u8>> = (0..4)
        .map(|i| render(Scene::ALL[i % 3], 20 + i as u64))
        .collect();
    let mut m = Vec::new();
    for j in &jpegs {
        m.push(upload(&s, &t.admin.access, j.clone()).await);
    }
    let csv = photos_csv(&[
        ("P-1", &[&m[0], &m[1]]),
        ("P-2", &[&m[2]]),
        ("P-3", &[&m[3], &m[0]]),
    ]);
    let r = s.import(&t.admin.access, "p.csv", csv.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), &t.id, "agent");
    sync_all(&s, &agent, &mut cache).await;
    let ids = ids(&cache);
    assert_eq!(
        cache.listing_photos(&[ids["P-1"], ids["P-3"]]).unwrap(),
        [m[0].clone(), m[1].clone(), m[3].clone()],
        "in order, each once"
    );
    let store = PhotoStore::new(&cache, &s.base, &agent.access).unwrap();
    let all = cache.all_listing_photos().unwrap();
    assert_eq!(all.len(), 4);
    let report = store.prefetch(&all, 3, |_| ControlFlow::Continue(())).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.fetched, 4);
    let total: u64 = jpegs.iter().map(|j| j.len() as u64).sum();
    assert_eq!(store.bytes_used().unwrap(), total);

    // A crash left temporary files: an old one goes, a fresh one (a write in flight) stays.
    let old_temp = store.dir().join(".deadbeef.0000000000000001.tmp");
    let new_temp = store.dir().join(".deadbeef.0000000000000002.tmp");
    for p in [&old_temp, &new_temp] {
        std::fs::write(p, b"partial").unwrap();
    }
    std::fs::File::options()
        .write(true)
        .open(&old_temp)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();

    // P-3 leaves the feed and P-2 changes its photo: m[3] and m[2] are no longer used;
    // m[0] still is (P-1).
    let csv = photos_csv(&[("P-1", &[&m[0], &m[1]]), ("P-2", &[&m[1]])]);
    let r = s
        .import(&t.admin.access, "p.csv", csv.into(), "mode=replace")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    sync_all(&s, &agent, &mut cache).await;
    assert_eq!(cache.listing_count().unwrap(), 2);
    let pruned = store.prune(&cache).unwrap();
    assert_eq!(
        pruned.removed_files, 3,
        "two photos and the old temporary file"
    );
    assert_eq!(
        pruned.removed_bytes,
        (jpegs[2].len() + jpegs[3].len() + "partial".len()) as u64
    );
    assert_eq!(
        pruned.kept_files, 3,
        "two photos and the fresh temporary file"
    );
    assert!(store.cached(&m[2]).is_none() && store.cached(&m[3]).is_none());
    assert!(store.cached(&m[0]).is_some() && store.cached(&m[1]).is_some());
    assert!(!old_temp.exists() && new_temp.exists());
    let kept = (jpegs[0].len() + jpegs[1].len() + "partial".len()) as u64;
    assert_eq!(store.bytes_used().unwrap(), kept);
    assert_eq!(store.prune(&cache).unwrap().removed_files, 0, "idempotent");

    assert_eq!(store.clear().unwrap(), kept);
    assert_eq!(store.bytes_used().unwrap(), 0);
    assert!(store.cached(&m[0]).is_none());
    assert!(!store.dir().exists());
    // Cleared photos come back when shown again.
    let path = store.fetch(&m[0]).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), jpegs[0]);
}
