use axum::extract::State;
use roost_api::ErrorBody;
use roost_api::audit::AuditPage;
use roost_api::users::Role;
use serde::Deserialize;

use crate::error::AppResult;
use crate::extract::{Authed, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only events with a sequence number below this (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<u32>,
}

/// The company's append-only audit log, newest first (admins).
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authed,
    Query(q): Query<AuditQuery>,
) -> AppResult<axum::Json<AuditPage>> {
    auth.require(&[Role::Admin])?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    Ok(axum::Json(
        state.db.audit_page(auth.tenant, q.before, limit).await?,
    ))
}
