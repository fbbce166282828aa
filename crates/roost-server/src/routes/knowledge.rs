use axum::extract::State;
use roost_api::ErrorBody;
use roost_api::knowledge::{Client, KnowledgeItem};

use crate::error::AppResult;
use serde::Deserialize;

use crate::extract::{Authed, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeQuery {
    /// Also list the operator's shared knowledge base (after the company's own).
    #[serde(default)]
    pub include_shared: bool,
}

/// The company's knowledge the caller's roles may see (market intelligence, resources,
/// document chunks, team profiles), newest first, up to 1,000.
#[utoipa::path(
    get, path = "/api/v1/knowledge", tag = "knowledge",
    params(KnowledgeQuery),
    responses((status = 200, body = Vec<KnowledgeItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authed,
    Query(q): Query<KnowledgeQuery>,
) -> AppResult<axum::Json<Vec<KnowledgeItem>>> {
    let items = state
        .db
        .knowledge_items(auth.tenant, &auth.acting, 1000, q.include_shared)
        .await?;
    Ok(axum::Json(items))
}

/// Clients: all of them for managers and admins, an agent's own otherwise.
#[utoipa::path(
    get, path = "/api/v1/clients", tag = "knowledge",
    responses((status = 200, body = Vec<Client>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn clients(
    State(state): State<AppState>,
    auth: Authed,
) -> AppResult<axum::Json<Vec<Client>>> {
    Ok(axum::Json(
        state
            .db
            .clients(auth.tenant, auth.user_id, &auth.acting)
            .await?,
    ))
}
