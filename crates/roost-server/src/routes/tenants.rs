use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use roost_api::ErrorBody;
use roost_api::tenants::{RegisterTenantRequest, RegisterTenantResponse, slugify};
use roost_db::{DbError, NewTenant};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::extract::{ClientIp, Json};
use crate::settings::Registration;
use crate::state::AppState;
use crate::tokens::hash_password_async;

/// Register a company: creates the tenant, its initial config and its first admin (the
/// contact person, with the password given).
#[utoipa::path(
    post, path = "/api/v1/tenants", tag = "tenants",
    request_body = RegisterTenantRequest,
    responses(
        (status = 201, body = RegisterTenantResponse),
        (status = 401, description = "operator token required", body = ErrorBody),
        (status = 409, description = "slug taken", body = ErrorBody),
        (status = 422, description = "invalid field", body = ErrorBody),
    ),
    security((), ("operator_token" = []))
)]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(req): Json<RegisterTenantRequest>,
) -> AppResult<(StatusCode, axum::Json<RegisterTenantResponse>)> {
    if state.settings.registration == Registration::Operator {
        check_operator(&state, &headers)?;
    }
    req.validate()?;
    let slug = match &req.slug {
        Some(s) => s.clone(),
        None => free_slug(&state, &slugify(&req.company_name)).await?,
    };
    let hash = hash_password_async(req.admin_password.clone()).await;
    let (tenant, admin_id) = state
        .db
        .create_tenant(
            NewTenant {
                slug: &slug,
                company_name: req.company_name.trim(),
                industry: req.industry.trim(),
                region: req.region.trim(),
                employee_count: req.employee_count,
                contact: &req.contact_person,
                tier: req.tier,
                admin_password_hash: &hash,
            },
            ip,
        )
        .await
        .map_err(|e| match e {
            DbError::Conflict(m) => AppError::from(DbError::Conflict(m)).with_field("slug"),
            other => other.into(),
        })?;
    tracing::info!(tenant = %tenant.id.uuid(), slug = %tenant.slug, "tenant registered");
    Ok((
        StatusCode::CREATED,
        axum::Json(RegisterTenantResponse {
            tenant_id: tenant.id.uuid(),
            slug: tenant.slug,
            admin_user_id: admin_id,
        }),
    ))
}

pub(crate) fn check_operator(state: &AppState, headers: &HeaderMap) -> AppResult<()> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let expected = state.settings.operator_token.as_ref();
    // Compare digests so the comparison time does not depend on how much of the token matched.
    let ok = match (presented, expected) {
        (Some(p), Some(e)) => Sha256::digest(p.trim()) == Sha256::digest(e.0.as_str()),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::unauthorized(
            "this needs the operator token of this server",
        ))
    }
}

/// `base`, or `base-2`, `base-3`, … whichever is free first.
async fn free_slug(state: &AppState, base: &str) -> AppResult<String> {
    for n in 1..100 {
        let candidate = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        if !state.db.slug_taken(&candidate).await? {
            return Ok(candidate);
        }
    }
    Ok(format!(
        "{base}-{}",
        &crate::tokens::random_b64(6).to_lowercase()
    ))
}
