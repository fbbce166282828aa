use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use roost_api::sync::{Change, ChangePage, EmbeddingModel};
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
    Query(q): Query<ChangesQuery>,
) -> AppResult<axum::Json<ChangePage>> {
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
    Ok(axum::Json(ChangePage {
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
    }))
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
