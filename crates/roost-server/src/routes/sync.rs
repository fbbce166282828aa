use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use roost_api::sync::{Change, ChangePage, EmbeddingModel, NEXT_CURSOR_HEADER, SCOPE_HEADER};
use roost_api::{ErrorBody, ErrorCode};
use roost_db::StoredChange;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::extract::{Authed, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// The cursor from the previous page (`next_cursor`); 0 for a full sync.
    #[serde(default)]
    pub since: i64,
    /// Page size, 1 to 2,000 (default 500).
    pub limit: Option<u32>,
    /// The `scope` of the page the cursor came from.
    pub scope: Option<String>,
}

/// The changes a device applies to its offline cache, after a cursor: listings (with their
/// embeddings), removals, and config. Every role sees listings and config; private data
/// (clients) joins with role filtering when it exists. Answers are compressed when the client
/// accepts gzip or zstd.
#[utoipa::path(
    get, path = "/api/v1/sync/changes", tag = "sync",
    params(ChangesQuery),
    responses(
        (status = 200, body = ChangePage),
        (status = 410, description = "cursor older than the kept history; sync again from 0 (code resync_required)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn changes(
    State(state): State<AppState>,
    auth: Authed,
    headers: HeaderMap,
    Query(q): Query<ChangesQuery>,
) -> AppResult<Response> {
    if q.since < 0 {
        return Err(
            AppError::bad_request(ErrorCode::ValidationFailed, "since must be 0 or more")
                .with_field("since"),
        );
    }
    let limit = q.limit.unwrap_or(500).clamp(1, 2000);
    let scope = scope(&auth, state.db.purge_horizon(auth.tenant).await?);
    let cursor_current = q.scope.as_deref() == Some(scope.as_str());
    let model = state.embedder.as_ref().map(|e| e.model_id().to_string());
    let batch = state
        .db
        .changes(
            auth.tenant,
            auth.user_id,
            &auth.acting,
            q.since,
            limit,
            model.as_deref(),
            cursor_current,
        )
        .await?
        .map_err(|too_old| {
            AppError::new(
                StatusCode::GONE,
                ErrorCode::ResyncRequired,
                format!(
                    "the cursor {} is older than the server keeps (oldest {}); sync again from 0",
                    q.since, too_old.oldest
                ),
            )
        })?;
    let next_cursor = batch
        .changes
        .last()
        .map(StoredChange::seq)
        .unwrap_or(q.since);
    let changes = batch
        .changes
        .into_iter()
        .map(|c| match c {
            StoredChange::Listing {
                seq,
                listing,
                embedding,
            } => Change::Listing {
                seq,
                listing,
                embedding: embedding.map(|v| STANDARD.encode(v)),
            },
            StoredChange::ListingDeleted { seq, id } => Change::ListingDeleted { seq, id },
            StoredChange::Config { seq, config } => Change::Config { seq, config },
            StoredChange::Knowledge {
                seq,
                item,
                embedding,
            } => Change::Knowledge {
                seq,
                item,
                embedding: embedding.map(|v| STANDARD.encode(v)),
            },
            StoredChange::KnowledgeDeleted { seq, id } => Change::KnowledgeDeleted { seq, id },
            StoredChange::Client { seq, client } => Change::Client { seq, client },
            StoredChange::ClientDeleted { seq, id } => Change::ClientDeleted { seq, id },
            StoredChange::Action { seq, action } => Change::Action { seq, action },
        })
        .collect();
    let page = ChangePage {
        changes,
        next_cursor,
        has_more: batch.has_more,
        head: batch.head,
        scope,
        embedding_model: state.embedder.as_ref().map(|e| EmbeddingModel {
            id: e.model_id().to_string(),
            dim: e.dim() as u32,
            encoding: "f32le".into(),
        }),
    };
    let mut hints = HeaderMap::new();
    if page.has_more {
        hints.insert(NEXT_CURSOR_HEADER, page.next_cursor.into());
    }
    if let Ok(scope) = HeaderValue::from_str(&page.scope) {
        hints.insert(SCOPE_HEADER, scope);
    }
    if !accepts_zstd(&headers) {
        // The compression layer answers other clients (gzip) as it does every route.
        return Ok((hints, axum::Json(page)).into_response());
    }
    // A page is megabytes: encoded and compressed in one go off the async workers. The layer
    // would compress it in 4 KB frames, each a write here and a read on the device.
    let body = tokio::task::spawn_blocking(move || {
        let json = serde_json::to_vec(&page)?;
        zstd::bulk::compress(&json, ZSTD_LEVEL)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    Ok((
        hints,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_ENCODING, "zstd"),
            (header::VARY, "accept-encoding"),
        ],
        body,
    )
        .into_response())
}

/// zstd's fastest level: a page of listings with base64 vectors comes out ~0.6× its size,
/// about what the slowest levels give (the vectors do not compress much further).
const ZSTD_LEVEL: i32 = 1;

/// Whether `Accept-Encoding` lists zstd without refusing it (`q=0`).
fn accepts_zstd(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case("zstd") && !refused
        })
}

/// What a page was made under: the user, the roles acted in, and the purge horizon. It
/// changes when any of them does, and a device then syncs again from 0.
fn scope(auth: &Authed, purged_before: i64) -> String {
    let mut roles: Vec<&str> = auth.acting.iter().map(|r| r.as_str()).collect();
    roles.sort_unstable();
    format!(
        "{}:{}:{purged_before}",
        auth.user_id.simple(),
        roles.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zstd_is_taken_only_when_offered() {
        let accepts = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            accepts_zstd(&h)
        };
        assert!(accepts("zstd"));
        assert!(accepts("gzip, zstd"));
        assert!(accepts("gzip;q=1.0, ZSTD;q=0.5"));
        assert!(!accepts("gzip"));
        assert!(!accepts("zstd;q=0"));
        assert!(!accepts("gzip, zstd; q=0.0"));
        assert!(!accepts("identity"));
        assert!(!accepts_zstd(&HeaderMap::new()));
    }
}
