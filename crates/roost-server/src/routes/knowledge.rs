use axum::extract::State;
use roost_api::ErrorBody;
use roost_api::knowledge::{Client, KnowledgeItem};

use crate::error::AppResult;
use crate::extract::Authed;
use crate::state::AppState;

/// The company's knowledge the caller's roles may see (market intelligence, resources,
/// document chunks, team profiles), newest first, up to 1,000.
#[utoipa::path(
    get, path = "/api/v1/knowledge", tag = "knowledge",
    responses((status = 200, body = Vec<KnowledgeItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authed,
) -> AppResult<axum::Json<Vec<KnowledgeItem>>> {
    Ok(axum::Json(
        state
            .db
            .knowledge_items(auth.tenant, &auth.acting, 1000)
            .await?,
    ))
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
