use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roost_api::config::{TenantConfig, VersionedConfig};
use roost_api::users::Role;
use roost_api::{ErrorBody, ErrorCode};

use crate::error::{AppError, AppResult};
use crate::extract::{Authed, Json};
use crate::state::AppState;

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Versions named by an `If-Match` / `If-None-Match` header (`"3"`, `W/"3"`, lists, `*`).
fn header_versions(headers: &HeaderMap, name: header::HeaderName) -> Option<Vec<String>> {
    let raw = headers.get(name)?.to_str().ok()?;
    Some(
        raw.split(',')
            .map(|t| t.trim().trim_start_matches("W/").to_string())
            .collect(),
    )
}

/// The company's configuration (branding, features, integrations, knowledge base), with its
/// version as the ETag. `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    get, path = "/api/v1/config", tag = "config",
    responses(
        (status = 200, body = VersionedConfig, headers(("ETag" = String))),
        (status = 304, description = "not modified"),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Authed,
    headers: HeaderMap,
) -> AppResult<Response> {
    let cfg = state.db.config(auth.tenant).await?;
    let tag = etag(cfg.version);
    let tag_header = HeaderValue::from_str(&tag).expect("ascii");
    if let Some(tags) = header_versions(&headers, header::IF_NONE_MATCH)
        && tags.iter().any(|t| *t == tag || t == "*")
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag_header)]).into_response());
    }
    Ok(([(header::ETAG, tag_header)], axum::Json(cfg)).into_response())
}

/// Replace the configuration (admins). `If-Match` with the ETag read is required; a stale one
/// answers 412 so two admins never overwrite each other unknowingly.
#[utoipa::path(
    put, path = "/api/v1/config", tag = "config",
    request_body = TenantConfig,
    params(("If-Match" = String, Header, description = "ETag of the version being replaced")),
    responses(
        (status = 200, body = VersionedConfig, headers(("ETag" = String))),
        (status = 403, body = ErrorBody),
        (status = 412, description = "stale If-Match", body = ErrorBody),
        (status = 422, description = "invalid or unknown field, named in `field`", body = ErrorBody),
        (status = 428, description = "If-Match missing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    State(state): State<AppState>,
    auth: Authed,
    headers: HeaderMap,
    Json(config): Json<TenantConfig>,
) -> AppResult<Response> {
    auth.require(&[Role::Admin])?;
    let tags = header_versions(&headers, header::IF_MATCH).ok_or_else(|| {
        AppError::new(
            StatusCode::PRECONDITION_REQUIRED,
            ErrorCode::PreconditionRequired,
            "send If-Match with the ETag of the config you edited",
        )
    })?;
    let current = state.db.config(auth.tenant).await?;
    let expected = if tags.iter().any(|t| t == "*") {
        current.version
    } else {
        tags.iter()
            .find_map(|t| t.trim_matches('"').parse::<i64>().ok())
            .ok_or_else(|| {
                AppError::bad_request(
                    ErrorCode::PreconditionFailed,
                    "If-Match is not an ETag of this API",
                )
            })?
    };
    config.validate(current.tier)?;
    let version = state.db.put_config(&auth.ctx(), expected, &config).await?;
    let body = VersionedConfig {
        version,
        tier: current.tier,
        config,
    };
    let tag = HeaderValue::from_str(&etag(version)).expect("ascii");
    Ok(([(header::ETAG, tag)], axum::Json(body)).into_response())
}
