//! WhatsApp Cloud API webhooks, one address per company:
//! `/api/v1/webhooks/whatsapp/{company}`.
//!
//! `GET` answers Meta's subscription handshake with the company's verify token. `POST`
//! carries statuses of sent messages and the clients' own messages; the `X-Hub-Signature-256`
//! HMAC of the raw body under the company's app secret is checked before anything is
//! parsed, and each event is applied once however often it is delivered.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use roost_api::ErrorCode;
use roost_api::actions::WhatsAppSettings;
use roost_connectors::ConnectorError;
use roost_connectors::whatsapp::{
    SignatureError, WebhookEvent, parse_webhook, verify_handshake, verify_signature,
};
use roost_db::{Actor, Ctx, Tenant, WhatsAppEvent};

use crate::actions::{WHATSAPP_SECRET, settings};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The company and its WhatsApp settings; 404 when either is missing (a webhook for a
/// company that has not connected WhatsApp is not ours to take).
async fn company_settings(state: &AppState, slug: &str) -> AppResult<(Tenant, WhatsAppSettings)> {
    let tenant = state
        .db
        .tenant_by_slug(slug)
        .await?
        .ok_or_else(|| AppError::not_found("company"))?;
    let cfg = settings::<WhatsAppSettings>(state, tenant.id, WHATSAPP_SECRET, "WhatsApp")
        .await
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::not_found("WhatsApp connection"))?;
    Ok((tenant, cfg))
}

/// Meta's subscription check: echoes `hub.challenge` when `hub.verify_token` is the
/// company's, else 403.
#[utoipa::path(
    get, path = "/api/v1/webhooks/whatsapp/{company}", tag = "actions",
    params(("company" = String, Path, description = "the company's slug")),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 403), (status = 404))
)]
pub async fn whatsapp_verify(
    State(state): State<AppState>,
    Path(company): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> AppResult<Response> {
    let (_, cfg) = company_settings(&state, &company).await?;
    let expected = cfg.webhook_verify_token.unwrap_or_default();
    match verify_handshake(
        params.get("hub.mode").map(String::as_str),
        params.get("hub.verify_token").map(String::as_str),
        params.get("hub.challenge").map(String::as_str),
        &expected,
    ) {
        Some(challenge) => Ok((
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            challenge,
        )
            .into_response()),
        None => Err(AppError::forbidden(
            "the verify token does not match this company's WhatsApp settings",
        )),
    }
}

/// A delivery of WhatsApp events. Signed deliveries answer 200 once stored (Meta retries
/// anything else for days); repeats of events already applied change nothing.
#[utoipa::path(
    post, path = "/api/v1/webhooks/whatsapp/{company}", tag = "actions",
    params(("company" = String, Path, description = "the company's slug")),
    request_body(content = String, content_type = "application/json",
        description = "the Cloud API's webhook payload, signed in X-Hub-Signature-256"),
    responses((status = 200), (status = 400), (status = 401), (status = 403), (status = 404))
)]
pub async fn whatsapp_events(
    State(state): State<AppState>,
    Path(company): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (tenant, cfg) = company_settings(&state, &company).await?;
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if let Err(e) = verify_signature(cfg.app_secret.as_bytes(), &body, signature) {
        tracing::warn!(tenant = %tenant.id.uuid(), "WhatsApp webhook refused: {e}");
        return Err(match e {
            SignatureError::Missing => AppError::unauthorized(e.to_string()),
            SignatureError::Malformed | SignatureError::Mismatch => {
                AppError::forbidden(e.to_string())
            }
        });
    }
    let events = parse_webhook(&body)
        .map_err(|e| AppError::bad_request(ErrorCode::MalformedBody, e.to_string()))?;
    // Only the company's own number: one Meta app may serve several.
    let ours = |n: &Option<String>| n.as_deref().is_none_or(|n| n == cfg.phone_number_id);
    let events: Vec<WhatsAppEvent> = events
        .into_iter()
        .filter_map(|e| match e {
            WebhookEvent::Status(s) if ours(&s.phone_number_id) => {
                let failure = s.error().map(|e| ConnectorError::from(e).to_string());
                Some(WhatsAppEvent::Status {
                    wamid: s.wamid,
                    status: s.status.as_str().to_string(),
                    failure,
                })
            }
            WebhookEvent::Inbound(m) if ours(&m.phone_number_id) => Some(WhatsAppEvent::Inbound {
                wamid: m.wamid,
                wa_id: m.from,
                at: m.timestamp,
                profile_name: m.profile_name,
            }),
            _ => None,
        })
        .collect();
    let ctx = Ctx {
        tenant: tenant.id,
        actor: Actor {
            user_id: None,
            device_id: None,
            ip: None,
        },
    };
    let applied = state.db.apply_whatsapp_events(&ctx, &events).await?;
    tracing::info!(
        tenant = %tenant.id.uuid(),
        new = applied.new,
        repeated = applied.repeated,
        actions = applied.actions_updated,
        "WhatsApp webhook"
    );
    Ok(StatusCode::OK.into_response())
}
