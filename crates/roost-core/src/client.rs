//! Pulls the change feed into a [`Cache`]: page after page from the stored cursor until the
//! server has no more. Each page is verified and applied with its cursor in one transaction,
//! so a sync stopped anywhere resumes from the last applied page.

use std::ops::ControlFlow;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use roost_api::auth::{LoginRequest, RefreshRequest, TokenResponse};
use roost_api::sync::{ChangePage, NEXT_CURSOR_HEADER, SCOPE_HEADER};
use roost_api::{API_PREFIX, API_VERSION, API_VERSION_HEADER, ErrorBody, ErrorCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::Cache;
use crate::error::{CoreError, CoreResult};

/// Changes per page asked for; the server allows up to 2,000. 1,000 listings with vectors are
/// about 1.6 MB on the wire. Against 500: half the round trips and transactions (an initial
/// sync of 10k listings took about 0.75 s here instead of 1.1 s).
pub const DEFAULT_PAGE_SIZE: u32 = 1000;

/// The credentials of this device. Keyring storage is the app's job (a follow-up).
#[derive(Clone)]
pub struct Tokens {
    pub access: String,
    /// When present, a 401 spends it for a new pair and the request is retried once.
    pub refresh: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens([redacted])")
    }
}

impl From<&TokenResponse> for Tokens {
    fn from(t: &TokenResponse) -> Self {
        Tokens {
            access: t.access_token.clone(),
            refresh: Some(t.refresh_token.clone()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPhase {
    /// About to fetch the next page.
    Fetching,
    /// A page was applied; the counters include it.
    Applied,
    /// The server or a model change asked for a full resync: the cache was emptied.
    Resyncing,
    /// The feed has no more changes.
    Done,
}

/// Counters since the start of this sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    pub pages: u32,
    pub changes: u64,
    /// Feed bytes received (after decompression).
    pub bytes: u64,
    /// About how many changes are still to come, once a page said where the feed ends.
    pub remaining: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    pub pages: u32,
    pub changes: u64,
    pub bytes: u64,
    /// The cursor after the last applied page.
    pub cursor: i64,
    /// False when the progress callback stopped the sync early.
    pub finished: bool,
    /// The cache was emptied and filled again from 0.
    pub resynced: bool,
}

type OnRefresh = Box<dyn FnMut(&TokenResponse) + Send>;

pub struct SyncClient {
    http: reqwest::Client,
    base: String,
    tokens: Tokens,
    on_refresh: Option<OnRefresh>,
    page_size: u32,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("base", &self.base)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

fn http_client(base: &str) -> CoreResult<reqwest::Client> {
    // zstd is decoded here, in one go ([`read_json`]); reqwest would decode it in small
    // steps as it streams in. gzip (older servers) reqwest still decodes.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_ENCODING,
        reqwest::header::HeaderValue::from_static("zstd, gzip"),
    );
    reqwest::Client::builder()
        .no_zstd()
        .default_headers(headers)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|source| CoreError::Http {
            url: base.to_string(),
            source,
        })
}

impl SyncClient {
    /// `base_url` is the server's origin, e.g. `https://roost.example.com`.
    pub fn new(base_url: &str, tokens: Tokens) -> CoreResult<SyncClient> {
        let base = base_url.trim_end_matches('/').to_string();
        Ok(SyncClient {
            http: http_client(&base)?,
            base,
            tokens,
            on_refresh: None,
            page_size: DEFAULT_PAGE_SIZE,
        })
    }

    pub fn with_page_size(mut self, page_size: u32) -> SyncClient {
        self.page_size = page_size.max(1);
        self
    }

    /// Called with the new pair whenever the client refreshes its tokens, so the app can
    /// store them (the old refresh token is spent).
    pub fn on_token_refresh(mut self, f: impl FnMut(&TokenResponse) + Send + 'static) -> Self {
        self.on_refresh = Some(Box::new(f));
        self
    }

    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Signs in (`POST /auth/login`) and returns the device's tokens.
    pub async fn login(base_url: &str, request: &LoginRequest) -> CoreResult<TokenResponse> {
        let base = base_url.trim_end_matches('/');
        let url = format!("{base}{API_PREFIX}/auth/login");
        let resp = http_client(base)?
            .post(&url)
            .header(API_VERSION_HEADER, API_VERSION.to_string())
            .json(request)
            .send()
            .await
            .map_err(|source| CoreError::Http {
                url: url.clone(),
                source,
            })?;
        read_json(&url, resp).await.map(|(t, _)| t)
    }

    /// One page of the feed after `since`, unverified, with its size in bytes. `scope` is the
    /// one the cursor was synced under: the server accepts an old cursor only with the scope
    /// it currently issues (a full resync that started after a purge keeps paging).
    pub async fn fetch_page(
        &mut self,
        since: i64,
        scope: Option<&str>,
    ) -> CoreResult<(ChangePage, u64)> {
        let path = self.page_path(since, scope);
        self.send_json::<(), ChangePage>(Method::GET, &path, None)
            .await
    }

    fn page_path(&self, since: i64, scope: Option<&str>) -> String {
        let mut path = format!(
            "{API_PREFIX}/sync/changes?since={since}&limit={}",
            self.page_size
        );
        if let Some(scope) = scope {
            path.push_str("&scope=");
            path.extend(url::form_urlencoded::byte_serialize(scope.as_bytes()));
        }
        path
    }

    /// Starts fetching (and parsing) the page after `since` on another task, with the current
    /// access token and no refresh: the caller retries a 401 through [`SyncClient::fetch_page`].
    /// As soon as the answer's headers arrive, [`Prefetch::hint`] tells what page follows.
    fn prefetch(&self, since: i64, scope: Option<&str>) -> Prefetch {
        let url = format!("{}{}", self.base, self.page_path(since, scope));
        let request = self
            .http
            .get(&url)
            .bearer_auth(&self.tokens.access)
            .header(API_VERSION_HEADER, API_VERSION.to_string());
        let (hint_tx, hint) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let resp = request.send().await.map_err(|source| CoreError::Http {
                url: url.clone(),
                source,
            })?;
            if resp.status().is_success() {
                let _ = hint_tx.send(next_page_hint(resp.headers()));
            }
            read_json(&url, resp).await
        });
        Prefetch {
            since,
            scope: scope.map(str::to_string),
            hint: Some(hint),
            task: AbortOnDrop(task),
        }
    }

    /// The page after `since`: the prefetched one when it was fetched for this cursor and
    /// scope, else fetched now. Once its headers say another page follows, that one is asked
    /// for at once and left in `follow`: the server builds it while this one is read,
    /// parsed and applied.
    async fn next_page(
        &mut self,
        prefetched: Option<Prefetch>,
        since: i64,
        scope: Option<&str>,
        follow: &mut Option<Prefetch>,
    ) -> CoreResult<(ChangePage, u64)> {
        let mut p = prefetched
            .filter(|p| p.since == since && p.scope.as_deref() == scope)
            .unwrap_or_else(|| self.prefetch(since, scope));
        if let Some(hint) = p.hint.take()
            && let Ok(Some((next, next_scope))) = hint.await
        {
            *follow = Some(self.prefetch(next, Some(&next_scope)));
        }
        match p.join().await {
            // The access token expired: refresh and ask again, as `send_json` does.
            Err(CoreError::Server { status: 401, .. }) if self.tokens.refresh.is_some() => {
                *follow = None;
                self.refresh().await?;
                self.fetch_page(since, scope).await
            }
            other => other,
        }
    }

    /// Pulls every change after the cache's cursor. `progress` sees each step and may stop the
    /// sync with `ControlFlow::Break`; a later sync continues where this one stopped.
    ///
    /// Pages are applied on the calling task while the next page is fetched and parsed on
    /// another: the server, the network and SQLite work at the same time. A sync stopped
    /// early drops that fetch; nothing of it was applied.
    pub async fn sync(
        &mut self,
        cache: &mut Cache,
        mut progress: impl FnMut(&SyncProgress) -> ControlFlow<()>,
    ) -> CoreResult<SyncReport> {
        let mut report = SyncReport {
            pages: 0,
            changes: 0,
            bytes: 0,
            cursor: cache.sync_state()?.cursor,
            finished: false,
            resynced: false,
        };
        let mut remaining: Option<u64> = None;
        let mut tell = |phase, r: &SyncReport, remaining: Option<u64>| {
            progress(&SyncProgress {
                phase,
                pages: r.pages,
                changes: r.changes,
                bytes: r.bytes,
                remaining,
            })
        };
        let mut prefetched: Option<Prefetch> = None;
        loop {
            if tell(SyncPhase::Fetching, &report, remaining).is_break() {
                return Ok(report);
            }
            let scope = cache.sync_state()?.scope;
            let mut follow = None;
            let fetched = self
                .next_page(
                    prefetched.take(),
                    report.cursor,
                    scope.as_deref(),
                    &mut follow,
                )
                .await;
            let applied = match fetched {
                Ok((page, bytes)) => {
                    report.bytes += bytes;
                    // Asked for with the cursor and scope this page leaves behind (from its
                    // headers, else now); used only if the page applies (`next_page` checks).
                    prefetched = page.has_more.then(|| {
                        follow
                            .filter(|f| {
                                f.since == page.next_cursor
                                    && f.scope.as_deref() == Some(page.scope.as_str())
                            })
                            .unwrap_or_else(|| self.prefetch(page.next_cursor, Some(&page.scope)))
                    });
                    apply_off_runtime(cache, &page).map(|applied| (page, applied))
                }
                Err(e) => Err(e),
            };
            let (page, applied) = match applied {
                Ok(ok) => ok,
                // The server no longer has our history, or its vectors are of another model,
                // or the user's scope changed: start again from nothing, once per sync.
                Err(CoreError::ResyncRequired { .. } | CoreError::ResyncNeeded(_)) => {
                    if report.resynced {
                        return Err(CoreError::ResyncLoop {
                            cursor: report.cursor,
                        });
                    }
                    cache.reset()?;
                    report.resynced = true;
                    report.cursor = 0;
                    if tell(SyncPhase::Resyncing, &report, None).is_break() {
                        return Ok(report);
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            report.pages += 1;
            report.changes += page.changes.len() as u64;
            report.cursor = applied.cursor;
            remaining = Some(if page.has_more {
                // Seqs left up to the head; deletions and skipped rows make it an estimate.
                page.head.saturating_sub(page.next_cursor).max(1) as u64
            } else {
                0
            });
            if tell(SyncPhase::Applied, &report, remaining).is_break() {
                return Ok(report);
            }
            if !page.has_more {
                break;
            }
        }
        report.finished = true;
        if report.changes > 0 {
            cache.optimize()?;
        }
        let _ = tell(SyncPhase::Done, &report, Some(0));
        Ok(report)
    }

    /// Sends a request with the access token; on 401, refreshes once and retries.
    async fn send_json<B: Serialize, T: DeserializeOwned>(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> CoreResult<(T, u64)> {
        let url = format!("{}{path}", self.base);
        let mut refreshed = false;
        loop {
            let mut rb = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.tokens.access)
                .header(API_VERSION_HEADER, API_VERSION.to_string());
            if let Some(b) = body {
                rb = rb.json(b);
            }
            let resp = rb.send().await.map_err(|source| CoreError::Http {
                url: url.clone(),
                source,
            })?;
            if resp.status() == StatusCode::UNAUTHORIZED
                && !refreshed
                && self.tokens.refresh.is_some()
            {
                self.refresh().await?;
                refreshed = true;
                continue;
            }
            return read_json(&url, resp).await;
        }
    }

    async fn refresh(&mut self) -> CoreResult<()> {
        let Some(refresh_token) = self.tokens.refresh.clone() else {
            return Err(CoreError::SignedOut("no refresh token".into()));
        };
        let url = format!("{}{API_PREFIX}/auth/refresh", self.base);
        let resp = self
            .http
            .post(&url)
            .header(API_VERSION_HEADER, API_VERSION.to_string())
            .json(&RefreshRequest { refresh_token })
            .send()
            .await
            .map_err(|source| CoreError::Http {
                url: url.clone(),
                source,
            })?;
        let tokens: TokenResponse = match read_json(&url, resp).await {
            Ok((t, _)) => t,
            Err(CoreError::Server {
                status: 401,
                message,
                ..
            }) => {
                self.tokens.refresh = None;
                return Err(CoreError::SignedOut(message));
            }
            Err(e) => return Err(e),
        };
        self.tokens = Tokens::from(&tokens);
        if let Some(f) = &mut self.on_refresh {
            f(&tokens);
        }
        Ok(())
    }
}

/// A page being fetched on another task for the cursor and scope it was asked with.
struct Prefetch {
    since: i64,
    scope: Option<String>,
    /// The next page's cursor and scope from this answer's headers, when more follow.
    hint: Option<tokio::sync::oneshot::Receiver<Option<(i64, String)>>>,
    task: AbortOnDrop<CoreResult<(ChangePage, u64)>>,
}

impl Prefetch {
    async fn join(mut self) -> CoreResult<(ChangePage, u64)> {
        match (&mut self.task.0).await {
            Ok(result) => result,
            // Only a panic gets here: the task is aborted only by dropping it unawaited.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// A spawned task that is aborted when dropped (a stopped or failed sync needs no more).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The page after a feed answer, from its headers: `None` when it is the last, or when the
/// server sends no hints (an older one).
fn next_page_hint(headers: &reqwest::header::HeaderMap) -> Option<(i64, String)> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let next = text(NEXT_CURSOR_HEADER)?.parse().ok()?;
    Some((next, text(SCOPE_HEADER)?.to_string()))
}

/// The body as `T` and the bytes it took on the wire (zstd) or decoded (gzip), or the
/// server's error (410 `resync_required` apart).
async fn read_json<T: DeserializeOwned>(
    url: &str,
    resp: reqwest::Response,
) -> CoreResult<(T, u64)> {
    let status = resp.status();
    let zstd = resp
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"zstd"));
    let wire = resp.bytes().await.map_err(|source| CoreError::Http {
        url: url.to_string(),
        source,
    })?;
    let wire_len = wire.len() as u64;
    let decoded;
    let bytes: &[u8] = if zstd {
        decoded = decode_zstd(&wire).map_err(|message| CoreError::BadResponse {
            url: url.to_string(),
            message,
        })?;
        &decoded
    } else {
        &wire
    };
    if !status.is_success() {
        let error = serde_json::from_slice::<ErrorBody>(bytes)
            .ok()
            .map(|b| b.error);
        if status == StatusCode::GONE
            && error
                .as_ref()
                .is_some_and(|e| e.code == ErrorCode::ResyncRequired)
        {
            return Err(CoreError::ResyncRequired {
                message: error.map(|e| e.message).unwrap_or_default(),
            });
        }
        let message = match error {
            Some(e) => format!("{:?}: {}", e.code, e.message),
            None => String::from_utf8_lossy(bytes).chars().take(200).collect(),
        };
        return Err(CoreError::Server {
            url: url.to_string(),
            status: status.as_u16(),
            message,
        });
    }
    let value = serde_json::from_slice(bytes).map_err(|e| CoreError::BadResponse {
        url: url.to_string(),
        message: e.to_string(),
    })?;
    Ok((value, wire_len))
}

/// Largest body the client decodes: a page of 2,000 listings with vectors is ~5 MB, so this
/// only stops a corrupt or hostile answer from filling the memory.
const MAX_DECODED_BODY: u64 = 256 << 20;

fn decode_zstd(wire: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::with_capacity(wire.len() * 2);
    zstd::stream::read::Decoder::new(wire)
        .and_then(|d| d.take(MAX_DECODED_BODY + 1).read_to_end(&mut out))
        .map_err(|e| format!("zstd: {e}"))?;
    if out.len() as u64 > MAX_DECODED_BODY {
        return Err(format!(
            "the answer decodes to more than {MAX_DECODED_BODY} bytes"
        ));
    }
    Ok(out)
}

/// Applies a page on this thread without holding up the runtime's other tasks (the next
/// page's fetch, the app's commands): on a multi-thread runtime the worker hands its queue to
/// another thread meanwhile. Elsewhere (a current-thread runtime) it simply applies.
fn apply_off_runtime(cache: &mut Cache, page: &ChangePage) -> CoreResult<crate::Applied> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| cache.apply_page(page)),
        _ => cache.apply_page(page),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn the_next_page_is_read_from_the_headers_only_when_both_are_there() {
        let mut h = HeaderMap::new();
        assert_eq!(next_page_hint(&h), None, "an older server sends none");
        h.insert(SCOPE_HEADER, HeaderValue::from_static("u1:agent:0"));
        assert_eq!(next_page_hint(&h), None, "the last page has no next cursor");
        h.insert(NEXT_CURSOR_HEADER, HeaderValue::from_static("1500"));
        assert_eq!(next_page_hint(&h), Some((1500, "u1:agent:0".to_string())));
        h.insert(NEXT_CURSOR_HEADER, HeaderValue::from_static("soon"));
        assert_eq!(
            next_page_hint(&h),
            None,
            "a cursor that is no number is ignored"
        );
    }

    #[test]
    fn zstd_bodies_decode_and_garbage_is_named() {
        let json = br#"{"ok":true}"#.repeat(100);
        let wire = zstd::bulk::compress(&json, 1).unwrap();
        assert_eq!(decode_zstd(&wire).unwrap(), json);
        let err = decode_zstd(b"not zstd at all").unwrap_err();
        assert!(err.starts_with("zstd: "), "{err}");
    }
}
