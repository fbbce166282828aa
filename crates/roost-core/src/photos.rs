//! Listing photos on the device: files beside the cache, fetched when first shown and kept
//! for offline use.
//!
//! A listing's photo is an absolute `http(s)` URL (a company's CDN, fetched without any
//! credentials) or a Roost media path `/api/v1/media/<id>` (fetched from the server the app
//! signed in to, with its access token; the token never goes to another host). Each photo is
//! one file, `<cache folder>/photos/<sha256 of the reference>.<jpg|png|webp>`, written to a
//! temporary file and renamed into place once its first bytes proved it a JPEG, PNG or WebP
//! image, so a reader never sees half a file.
//!
//! Beside an encrypted cache the files are sealed too (XChaCha20-Poly1305 under a key derived
//! from the cache's, the file's name as associated data): read them with [`PhotoStore::read`].
//! A file that does not open (written before encryption, under another key, or altered) is
//! removed and fetched again.
//!
//! [`PhotoStore`] is `Send + Sync` and its futures are `Send`, so a Tauri command can await
//! them. It holds no [`Cache`] (which is not `Sync`): read the references from the cache
//! first, let go of it, then fetch:
//!
//! ```text
//! let reference = cache.lock()?.listing_photo(listing_id, 0)?;   // the cache guard ends here
//! let path = photos.fetch(&reference.ok_or(NoSuchPhoto)?).await?;
//! ```
//!
//! The store never refreshes tokens: a refresh token is spent on use and belongs to the
//! [`SyncClient`](crate::SyncClient). A 401 is [`PhotoError::Unauthorized`]; the app refreshes
//! and hands the new access token to [`PhotoStore::set_access_token`] (e.g. from
//! [`SyncClient::on_token_refresh`](crate::SyncClient::on_token_refresh)).

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use reqwest::StatusCode;
use roost_api::media::{ImageKind, media_path, parse_media_path};
use roost_api::{API_VERSION, API_VERSION_HEADER};
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::cache::Cache;
use crate::error::{CoreError, SqlContext};

/// The folder beside the cache file that holds the photos.
pub const PHOTOS_DIR: &str = "photos";

/// Largest photo the device downloads, in bytes.
pub const MAX_PHOTO_BYTES: usize = 25 * 1024 * 1024;

/// Downloads at once when the caller asks for 0.
pub const DEFAULT_PREFETCH_CONCURRENCY: usize = 4;

/// Leftover temporary files (a crash mid-write) older than this are removed by `prune`.
const STALE_TEMP: Duration = Duration::from_secs(600);

/// Why a photo could not be had, in words the app can show.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhotoError {
    #[error("offline: could not reach {url} ({source})")]
    Offline {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("photo not found: {url} answered {status}")]
    NotFound { url: String, status: u16 },
    #[error("not an image: {url} sent {what}, not a JPEG, PNG or WebP file")]
    NotAnImage { url: String, what: String },
    #[error("not signed in: the server refused the photo {url} ({status}); sign in again")]
    Unauthorized { url: String, status: u16 },
    #[error("the photo {url} is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("the photo host answered {status} for {url}")]
    Server { url: String, status: u16 },
    #[error("{reference:?} is neither an http(s) URL nor a Roost media path")]
    BadReference { reference: String },
    #[error("the photo folder failed at {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Cache(#[from] CoreError),
    #[error("could not set up the HTTP client: {0}")]
    Setup(#[source] reqwest::Error),
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> PhotoError + '_ {
    move |source| PhotoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Counters of a prefetch so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefetchProgress {
    /// Distinct photos asked for.
    pub total: u64,
    /// Photos dealt with: found on disk, fetched, or failed.
    pub done: u64,
    pub fetched: u64,
    pub failed: u64,
    /// Bytes downloaded.
    pub bytes: u64,
}

#[derive(Debug)]
pub struct PrefetchReport {
    pub total: u64,
    /// Already on disk; not fetched again.
    pub already_cached: u64,
    pub fetched: u64,
    pub bytes: u64,
    /// Each photo that could not be fetched, with the reason.
    pub failed: Vec<(String, PhotoError)>,
    /// False when the progress callback stopped the prefetch early.
    pub finished: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneReport {
    pub removed_files: u64,
    pub removed_bytes: u64,
    pub kept_files: u64,
}

/// Where a reference is fetched from.
enum Source {
    Roost(Uuid),
    External(String),
}

fn source(reference: &str) -> Result<Source, PhotoError> {
    if let Some(id) = parse_media_path(reference) {
        return Ok(Source::Roost(id));
    }
    match url::Url::parse(reference) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Ok(Source::External(u.to_string()))
        }
        _ => Err(PhotoError::BadReference {
            reference: reference.to_string(),
        }),
    }
}

/// The file name (without extension) of a reference.
fn key(reference: &str) -> String {
    Sha256::digest(reference.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The photo files of one device cache, and the HTTP clients that fill them.
pub struct PhotoStore {
    dir: PathBuf,
    base: String,
    /// For the Roost server: never follows a redirect, so the token stays with the server.
    roost: reqwest::Client,
    /// For third-party hosts: no credentials at all.
    external: reqwest::Client,
    access: RwLock<String>,
    /// Set beside an encrypted cache: files are written sealed and opened on read.
    seal: Option<Seal>,
}

/// Seals photo files: a random 24-byte nonce, then the sealed bytes.
#[derive(Clone)]
pub(crate) struct Seal(chacha20poly1305::XChaCha20Poly1305);

const NONCE_LEN: usize = 24;

impl Seal {
    pub(crate) fn new(key: &[u8; 32]) -> Seal {
        use chacha20poly1305::KeyInit;
        Seal(chacha20poly1305::XChaCha20Poly1305::new(key.into()))
    }

    /// `plain` sealed for the file `name` (a sealed file renamed to another photo's name
    /// does not open).
    fn seal(&self, name: &str, plain: &[u8]) -> Vec<u8> {
        use chacha20poly1305::aead::{Aead, Payload};
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .0
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plain,
                    aad: name.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any photo-sized message");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plain bytes of a file sealed for `name`; `None` when it does not open.
    fn open(&self, name: &str, file: &[u8]) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, Payload};
        let (nonce, sealed) = file.split_at_checked(NONCE_LEN)?;
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.0
            .decrypt(
                nonce.into(),
                Payload {
                    msg: sealed,
                    aad: name.as_bytes(),
                },
            )
            .ok()
    }
}

impl std::fmt::Debug for PhotoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhotoStore")
            .field("dir", &self.dir)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl PhotoStore {
    /// The photos of `cache`, kept in `photos/` beside its file. `base_url` is the server's
    /// origin (as for [`SyncClient::new`](crate::SyncClient::new)); `access_token` is sent
    /// with Roost media paths only.
    pub fn new(cache: &Cache, base_url: &str, access_token: &str) -> Result<Self, PhotoError> {
        let dir = cache
            .path()
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(PHOTOS_DIR);
        let mut store = PhotoStore::in_dir(dir, base_url, access_token)?;
        store.seal = cache.photo_seal.clone();
        Ok(store)
    }

    /// Like [`PhotoStore::new`], with the folder given, its files not sealed (for what is
    /// public anyway, such as the company's logo).
    pub fn in_dir(dir: PathBuf, base_url: &str, access_token: &str) -> Result<Self, PhotoError> {
        let base = base_url.trim_end_matches('/').to_string();
        let build = |redirects: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(60))
                .redirect(redirects)
                .build()
                .map_err(PhotoError::Setup)
        };
        Ok(PhotoStore {
            roost: build(reqwest::redirect::Policy::none())?,
            external: build(reqwest::redirect::Policy::limited(5))?,
            dir,
            base,
            access: RwLock::new(access_token.to_string()),
            seal: None,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The token to send from now on (after the app refreshed its tokens).
    pub fn set_access_token(&self, access_token: &str) {
        let mut guard = self.access.write().unwrap_or_else(|e| e.into_inner());
        *guard = access_token.to_string();
    }

    /// The file of `reference` if it is on disk; never touches the network. The extension
    /// tells the format (`ImageKind::from_extension`).
    pub fn cached(&self, reference: &str) -> Option<PathBuf> {
        let key = key(reference);
        ImageKind::ALL.into_iter().find_map(|kind| {
            let path = self.dir.join(format!("{key}.{}", kind.extension()));
            std::fs::metadata(&path)
                .is_ok_and(|m| m.is_file() && m.len() > 0)
                .then_some(path)
        })
    }

    /// The image of `reference` and its kind: from disk when it is there (opened when the
    /// files are sealed), else downloaded and kept.
    pub async fn read(&self, reference: &str) -> Result<(Vec<u8>, ImageKind), PhotoError> {
        if let Some(path) = self.cached(reference) {
            let file = std::fs::read(&path).map_err(io_at(&path))?;
            let name = file_name(&path);
            let kind = path
                .extension()
                .and_then(|e| e.to_str())
                .and_then(ImageKind::from_extension);
            let plain = match &self.seal {
                Some(seal) => seal.open(&name, &file),
                None => Some(file),
            };
            if let (Some(plain), Some(kind)) = (plain, kind) {
                return Ok((plain, kind));
            }
            // Not ours to open: written unsealed before, under another key, or altered. (Gone
            // already is fine: another read of it got there first.)
            if let Err(e) = std::fs::remove_file(&path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(io_at(&path)(e));
            }
        }
        let (_, image, kind) = self.download(reference).await?;
        Ok((image, kind))
    }

    /// The file of `reference`: from disk when it is there, else downloaded and kept. Sealed
    /// files hold no image as such; [`PhotoStore::read`] opens them.
    pub async fn fetch(&self, reference: &str) -> Result<PathBuf, PhotoError> {
        match self.cached(reference) {
            Some(path) => Ok(path),
            None => self.download(reference).await.map(|(path, _, _)| path),
        }
    }

    /// Downloads every photo of `references` that is not on disk yet, `concurrency` at a time
    /// (0: [`DEFAULT_PREFETCH_CONCURRENCY`]). `progress` sees the counters after each photo
    /// and may stop with `ControlFlow::Break`; photos already fetched stay.
    pub async fn prefetch<F>(
        &self,
        references: &[String],
        concurrency: usize,
        mut progress: F,
    ) -> PrefetchReport
    where
        F: FnMut(&PrefetchProgress) -> ControlFlow<()> + Send,
    {
        let mut seen = HashSet::new();
        let distinct: Vec<&str> = references
            .iter()
            .map(String::as_str)
            .filter(|r| seen.insert(*r))
            .collect();
        // Owned, so the download futures borrow nothing but `self` (borrowed `&str` items
        // make rustc lose `Send` on the stream: its closure lifetimes are not general enough).
        let missing: Vec<String> = distinct
            .iter()
            .filter(|r| self.cached(r).is_none())
            .map(|r| r.to_string())
            .collect();
        let mut report = PrefetchReport {
            total: distinct.len() as u64,
            already_cached: (distinct.len() - missing.len()) as u64,
            fetched: 0,
            bytes: 0,
            failed: Vec::new(),
            finished: false,
        };
        let counters = |r: &PrefetchReport| PrefetchProgress {
            total: r.total,
            done: r.already_cached + r.fetched + r.failed.len() as u64,
            fetched: r.fetched,
            failed: r.failed.len() as u64,
            bytes: r.bytes,
        };
        if progress(&counters(&report)).is_break() {
            return report;
        }
        let concurrency = if concurrency == 0 {
            DEFAULT_PREFETCH_CONCURRENCY
        } else {
            concurrency
        };
        let mut downloads = futures_util::stream::iter(missing)
            .map(|r: String| async move {
                let result = self
                    .download(&r)
                    .await
                    .map(|(_, image, _)| image.len() as u64);
                (r, result)
            })
            .buffer_unordered(concurrency);
        while let Some((reference, result)) = downloads.next().await {
            match result {
                Ok(bytes) => {
                    report.fetched += 1;
                    report.bytes += bytes;
                }
                Err(e) => report.failed.push((reference, e)),
            }
            if progress(&counters(&report)).is_break() {
                return report;
            }
        }
        report.finished = true;
        report
    }

    /// Deletes the files of photos that no listing in `cache` references any more (after a
    /// sync removed or changed listings), and temporary files a crash left behind. Run it
    /// after a sync has finished: during a full resync the cache is briefly empty.
    pub fn prune(&self, cache: &Cache) -> Result<PruneReport, PhotoError> {
        let keep: HashSet<String> = cache.all_listing_photos()?.iter().map(|r| key(r)).collect();
        let mut report = PruneReport::default();
        for (path, meta) in self.files()? {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let remove = if name.starts_with('.') {
                meta.modified()
                    .ok()
                    .and_then(|m| SystemTime::now().duration_since(m).ok())
                    .is_some_and(|age| age > STALE_TEMP)
            } else {
                let stem = name.split('.').next().unwrap_or("");
                !keep.contains(stem)
            };
            if remove {
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        report.removed_files += 1;
                        report.removed_bytes += meta.len();
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_at(&path)(e)),
                }
            } else {
                report.kept_files += 1;
            }
        }
        Ok(report)
    }

    /// Bytes the photo files take, for a settings screen.
    pub fn bytes_used(&self) -> Result<u64, PhotoError> {
        Ok(self.files()?.iter().map(|(_, m)| m.len()).sum())
    }

    /// Deletes every photo file; returns the bytes freed. Photos are fetched again when shown.
    pub fn clear(&self) -> Result<u64, PhotoError> {
        let used = self.bytes_used()?;
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_at(&self.dir)(e)),
            _ => Ok(used),
        }
    }

    /// The files in the folder (none when it does not exist yet).
    fn files(&self) -> Result<Vec<(PathBuf, std::fs::Metadata)>, PhotoError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_at(&self.dir)(e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_at(&self.dir))?;
            let meta = match entry.metadata() {
                Ok(m) => m,
                // Renamed or removed since the listing: not ours to count.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_at(&entry.path())(e)),
            };
            if meta.is_file() {
                files.push((entry.path(), meta));
            }
        }
        Ok(files)
    }

    /// Fetches `reference`, checks it is an image and stores it; returns its file, the image
    /// and its kind.
    async fn download(&self, reference: &str) -> Result<(PathBuf, Vec<u8>, ImageKind), PhotoError> {
        let (url, request, is_roost) = match source(reference)? {
            Source::Roost(id) => {
                let url = format!("{}{}", self.base, media_path(id));
                let token = self
                    .access
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                let request = self
                    .roost
                    .get(&url)
                    .bearer_auth(token)
                    .header(API_VERSION_HEADER, API_VERSION.to_string());
                (url, request, true)
            }
            Source::External(url) => {
                let request = self.external.get(&url);
                (url, request, false)
            }
        };
        let offline = |source| PhotoError::Offline {
            url: url.clone(),
            source,
        };
        let mut resp = request.send().await.map_err(offline)?;
        let status = resp.status();
        if !status.is_success() {
            let status_u16 = status.as_u16();
            return Err(match status {
                StatusCode::NOT_FOUND | StatusCode::GONE => PhotoError::NotFound {
                    url,
                    status: status_u16,
                },
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if is_roost => {
                    PhotoError::Unauthorized {
                        url,
                        status: status_u16,
                    }
                }
                _ => PhotoError::Server {
                    url,
                    status: status_u16,
                },
            });
        }
        let declared = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(offline)? {
            if body.len() + chunk.len() > MAX_PHOTO_BYTES {
                return Err(PhotoError::TooLarge {
                    url,
                    limit: MAX_PHOTO_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let Some(kind) = ImageKind::sniff(&body) else {
            let what = match (body.is_empty(), declared) {
                (true, _) => "an empty body".to_string(),
                (false, Some(ct)) => format!("{ct} content"),
                (false, None) => "content of no declared type".to_string(),
            };
            return Err(PhotoError::NotAnImage { url, what });
        };
        let path = self.write(&key(reference), kind, &body)?;
        Ok((path, body, kind))
    }

    /// Writes `bytes` as `<key>.<ext>` through a temporary file and a rename.
    fn write(&self, key: &str, kind: ImageKind, bytes: &[u8]) -> Result<PathBuf, PhotoError> {
        std::fs::create_dir_all(&self.dir).map_err(io_at(&self.dir))?;
        let temp = self
            .dir
            .join(format!(".{key}.{:016x}.tmp", rand::random::<u64>()));
        let path = self.dir.join(format!("{key}.{}", kind.extension()));
        let sealed;
        let bytes = match &self.seal {
            Some(seal) => {
                sealed = seal.seal(&file_name(&path), bytes);
                &sealed[..]
            }
            None => bytes,
        };
        std::fs::write(&temp, bytes).map_err(io_at(&temp))?;
        if let Err(e) = std::fs::rename(&temp, &path) {
            let _ = std::fs::remove_file(&temp);
            return Err(io_at(&path)(e));
        }
        Ok(path)
    }
}

/// A photo file's name, what its seal is bound to.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The content type of a photo file this store wrote, from its extension.
pub fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?;
    ImageKind::from_extension(ext).map(ImageKind::mime)
}

impl Cache {
    /// Photo `index` (0 is the cover) of a listing; `None` when the listing is not in the
    /// cache or has fewer photos.
    pub fn listing_photo(&self, listing: Uuid, index: usize) -> Result<Option<String>, CoreError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT photos FROM listings WHERE id = ?1",
                [listing.to_string()],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)?;
        match json {
            Some(json) => Ok(parse_photos(&json, &listing.to_string())?
                .into_iter()
                .nth(index)),
            None => Ok(None),
        }
    }

    /// The photos of `listings`, in order, each once (for [`PhotoStore::prefetch`]).
    pub fn listing_photos(&self, listings: &[Uuid]) -> Result<Vec<String>, CoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT photos FROM listings WHERE id = ?1")
            .at(&self.path)?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for id in listings {
            let id = id.to_string();
            let json: Option<String> = stmt
                .query_row([&id], |r| r.get(0))
                .optional()
                .at(&self.path)?;
            if let Some(json) = json {
                for photo in parse_photos(&json, &id)? {
                    if seen.insert(photo.clone()) {
                        out.push(photo);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Every photo any listing in the cache references, each once.
    pub fn all_listing_photos(&self) -> Result<Vec<String>, CoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, photos FROM listings ORDER BY rid")
            .at(&self.path)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .at(&self.path)?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row.at(&self.path)?;
            for photo in parse_photos(&json, &id)? {
                if seen.insert(photo.clone()) {
                    out.push(photo);
                }
            }
        }
        Ok(out)
    }
}

fn parse_photos(json: &str, listing: &str) -> Result<Vec<String>, CoreError> {
    serde_json::from_str(json).map_err(|e| CoreError::Corrupt {
        what: format!("photos of listing {listing}"),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_roost_media_or_http_urls() {
        let id = Uuid::now_v7();
        assert!(matches!(source(&media_path(id)), Ok(Source::Roost(x)) if x == id));
        assert!(matches!(
            source("https://cdn.example/a.jpg"),
            Ok(Source::External(u)) if u == "https://cdn.example/a.jpg"
        ));
        for bad in [
            "/photos/1.jpg",
            "file:///etc/passwd",
            "ftp://x.example/a.jpg",
            "a.jpg",
            "",
        ] {
            assert!(
                matches!(source(bad), Err(PhotoError::BadReference { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn keys_are_stable_hex_names() {
        let k = key("https://cdn.example/a.jpg");
        assert_eq!(k.len(), 64);
        assert!(k.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(k, key("https://cdn.example/a.jpg"));
        assert_ne!(k, key("https://cdn.example/b.jpg"));
    }

    #[test]
    fn the_store_and_its_futures_cross_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::in_dir(dir.path().join("p"), "http://127.0.0.1:9", "t").unwrap();
        send_sync(&store);
        send(&store.fetch("https://cdn.example/a.jpg"));
        let refs = vec!["https://cdn.example/a.jpg".to_string()];
        send(&store.prefetch(&refs, 2, |_| ControlFlow::Continue(())));
        let e = PhotoError::BadReference {
            reference: String::new(),
        };
        send_sync(&e);
    }

    #[test]
    fn a_written_photo_is_found_and_counted_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::in_dir(dir.path().join("p"), "http://127.0.0.1:9", "t").unwrap();
        assert_eq!(store.bytes_used().unwrap(), 0, "no folder yet");
        let r = "https://cdn.example/a.png";
        assert_eq!(store.cached(r), None);
        let png = b"\x89PNG\r\n\x1a\n-rest-of-file";
        let path = store.write(&key(r), ImageKind::Png, png).unwrap();
        assert_eq!(store.cached(r), Some(path.clone()));
        assert_eq!(content_type(&path), Some("image/png"));
        assert_eq!(store.bytes_used().unwrap(), png.len() as u64);
        let leftovers: Vec<_> = std::fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
        assert_eq!(store.clear().unwrap(), png.len() as u64);
        assert_eq!(store.cached(r), None);
        assert_eq!(store.bytes_used().unwrap(), 0);
    }
}
