use axum::extract::State;
use axum::http::StatusCode;
use roost_api::ErrorBody;
use roost_api::auth::{Device, MeResponse};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::extract::{Authed, Path};
use crate::state::AppState;

/// The signed-in user, their company and roles.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn me(State(state): State<AppState>, auth: Authed) -> AppResult<axum::Json<MeResponse>> {
    let user = state.db.user(auth.tenant, auth.user_id).await?;
    let tenant = state.db.tenant(auth.tenant).await?;
    Ok(axum::Json(MeResponse {
        roles: user.roles.clone(),
        user,
        tenant: tenant.summary(),
        device_id: auth.device_id,
    }))
}

/// The devices the user is signed in on.
#[utoipa::path(
    get, path = "/api/v1/me/devices", tag = "me",
    responses((status = 200, body = Vec<Device>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn devices(
    State(state): State<AppState>,
    auth: Authed,
) -> AppResult<axum::Json<Vec<Device>>> {
    Ok(axum::Json(
        state
            .db
            .devices(auth.tenant, auth.user_id, auth.device_id)
            .await?,
    ))
}

/// Sign out one of the user's devices (e.g. a lost phone).
#[utoipa::path(
    delete, path = "/api/v1/me/devices/{id}", tag = "me",
    params(("id" = Uuid, Path, description = "device id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn revoke_device(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    state
        .db
        .revoke_own_device(&auth.ctx(), id, "device.revoke")
        .await
        .map_err(|e| match e {
            roost_db::DbError::NotFound => AppError::not_found("device"),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
