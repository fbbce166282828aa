use axum::extract::State;
use axum::http::StatusCode;
use roost_api::auth::{LoginRequest, RefreshRequest, TokenResponse};
use roost_api::{ErrorBody, ErrorCode};
use roost_db::{Actor, Ctx, RefreshOutcome, TenantId};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::extract::{Authed, ClientIp, Json};
use crate::state::AppState;
use crate::tokens::{
    dummy_hash, new_refresh_token, refresh_token_tenant, sha256_hex, verify_password_async,
};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Sign in on a device: returns a short-lived access token and a rotating refresh token.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "wrong email or password, or account deactivated", body = ErrorBody),
        (status = 404, description = "no company with that slug", body = ErrorBody),
        (status = 429, description = "too many attempts; see Retry-After", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<LoginRequest>,
) -> AppResult<axum::Json<TokenResponse>> {
    let slug = req.tenant.trim().to_lowercase();
    let email = req.email.trim().to_lowercase();
    let device_name = req.device_name.trim();
    if device_name.is_empty() || device_name.chars().count() > 100 {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            "device_name must be 1 to 100 characters",
        )
        .with_field("device_name"));
    }
    state
        .limiter
        .check(&format!("{slug}\n{email}"), ip.as_deref())
        .map_err(|secs| {
            let mut e = AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                format!("too many sign-in attempts; try again in {secs} s"),
            );
            e.retry_after_secs = Some(secs);
            e
        })?;
    let tenant = state.db.tenant_by_slug(&slug).await?.ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("no company with the slug '{slug}'"),
        )
        .with_field("tenant")
    })?;
    let candidate = state.db.login_candidate(tenant.id, &email).await?;
    let hash = candidate
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let password_ok = verify_password_async(req.password.clone(), hash).await;
    let wrong = || AppError::unauthorized("wrong email or password");
    let user = match candidate {
        Some(c) if password_ok => c.user,
        _ => {
            let ctx = Ctx {
                tenant: tenant.id,
                actor: Actor {
                    user_id: None,
                    device_id: None,
                    ip,
                },
            };
            state
                .db
                .audit(
                    &ctx,
                    roost_db::AuditEntry {
                        action: "auth.login_failed",
                        target_type: "user",
                        target_id: None,
                        details: serde_json::json!({ "email": email }),
                    },
                )
                .await?;
            return Err(wrong());
        }
    };
    if !user.active {
        return Err(AppError::unauthorized("this account has been deactivated"));
    }
    let device_id = Uuid::now_v7();
    let refresh = new_refresh_token(tenant.id.uuid());
    let ctx = Ctx {
        tenant: tenant.id,
        actor: Actor {
            user_id: Some(user.id),
            device_id: Some(device_id),
            ip,
        },
    };
    state
        .db
        .start_session(
            &ctx,
            user.id,
            device_name,
            &sha256_hex(&refresh),
            refresh_ttl_ms(&state),
            device_id,
        )
        .await?;
    Ok(axum::Json(tokens(
        &state, tenant.id, user.id, device_id, refresh,
    )))
}

/// Trade a refresh token for a new pair. Each refresh token works once: presenting a spent
/// one signs the device out (someone else holds a copy).
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "invalid or expired, or reused (code token_reused)", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<RefreshRequest>,
) -> AppResult<axum::Json<TokenResponse>> {
    let invalid =
        || AppError::unauthorized("the refresh token is invalid or expired; sign in again");
    let tenant = refresh_token_tenant(req.refresh_token.trim()).ok_or_else(invalid)?;
    let tenant = TenantId::from_verified(tenant);
    let next = new_refresh_token(tenant.uuid());
    let outcome = state
        .db
        .rotate_refresh(
            tenant,
            &sha256_hex(req.refresh_token.trim()),
            &sha256_hex(&next),
            refresh_ttl_ms(&state),
            ip,
        )
        .await?;
    match outcome {
        RefreshOutcome::Rotated { user_id, device_id } => {
            Ok(axum::Json(tokens(&state, tenant, user_id, device_id, next)))
        }
        RefreshOutcome::Reused { device_id, .. } => {
            tracing::warn!(tenant = %tenant.uuid(), device = %device_id, "refresh token reused; device revoked");
            Err(AppError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::TokenReused,
                "this sign-in was used from somewhere else; the device has been signed out for safety",
            ))
        }
        RefreshOutcome::Invalid => Err(invalid()),
    }
}

/// Sign out this device: its access and refresh tokens stop working at once.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn logout(State(state): State<AppState>, auth: Authed) -> AppResult<StatusCode> {
    state
        .db
        .revoke_own_device(&auth.ctx(), auth.device_id, "auth.logout")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn refresh_ttl_ms(state: &AppState) -> i64 {
    state.settings.refresh_token_ttl_days as i64 * DAY_MS
}

fn tokens(
    state: &AppState,
    tenant: TenantId,
    user: Uuid,
    device: Uuid,
    refresh: String,
) -> TokenResponse {
    let ttl = state.settings.access_token_ttl_secs;
    TokenResponse {
        access_token: state.keys.issue(user, tenant.uuid(), device, ttl),
        token_type: "Bearer".into(),
        expires_in: ttl,
        refresh_token: refresh,
        refresh_expires_in: state.settings.refresh_token_ttl_days * 24 * 3600,
        device_id: device,
    }
}
