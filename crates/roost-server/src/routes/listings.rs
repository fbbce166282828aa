use axum::extract::State;
use roost_api::ErrorBody;
use roost_api::listings::{Listing, ListingPage};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::extract::{Authed, Path, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListingQuery {
    /// The previous page's `next_after`.
    pub after: Option<String>,
    /// 1 to 500 (default 100).
    pub limit: Option<u32>,
}

/// The company's live listings, by their own reference (every role).
#[utoipa::path(
    get, path = "/api/v1/listings", tag = "listings",
    params(ListingQuery),
    responses((status = 200, body = ListingPage), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authed,
    Query(q): Query<ListingQuery>,
) -> AppResult<axum::Json<ListingPage>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    Ok(axum::Json(
        state
            .db
            .listings_page(auth.tenant, q.after.as_deref(), limit)
            .await?,
    ))
}

/// One listing (every role).
#[utoipa::path(
    get, path = "/api/v1/listings/{id}", tag = "listings",
    params(("id" = Uuid, Path, description = "listing id")),
    responses((status = 200, body = Listing), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Listing>> {
    state
        .db
        .listing(auth.tenant, id)
        .await
        .map(axum::Json)
        .map_err(|e| match e {
            roost_db::DbError::NotFound => AppError::not_found("listing"),
            other => other.into(),
        })
}
