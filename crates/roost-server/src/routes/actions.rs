//! Actions: send listings to a client, create a lead — performed once per idempotency key —
//! and the connector settings they use.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roost_api::actions::{
    ActionList, ActionRecord, ActionRequest, Channel, ClientRef, CrmWebhookSettings,
    CrmWebhookStatus, EmailSettings, EmailStatus, HubSpotSettings, IDEMPOTENCY_KEY_HEADER,
    IntegrationsStatus, MAX_SHOWCASE_LISTINGS, WhatsAppSettings, WhatsAppStatus,
};
use roost_api::users::Role;
use roost_api::{ErrorBody, ErrorCode};
use roost_connectors::whatsapp::{GRAPH_BASE_URL, normalize_number};
use roost_db::{Claim, ClaimRequest, DbError, NewActionClient};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::actions::{
    CRM_WEBHOOK_SECRET, DEFAULT_API_VERSION, EMAIL_SECRET, HUBSPOT_SECRET, Opened, Prepared,
    STALE_CLAIM_MS, WHATSAPP_SECRET, open_settings, perform,
};
use crate::error::{AppError, AppResult};
use crate::extract::{Authed, Json, Path, Query};
use crate::state::AppState;

/// Longest message of a showcase, in characters (WhatsApp's text limit).
const MAX_MESSAGE_CHARS: usize = 4096;
/// Shown in errors about the key.
const KEY_HEADER: &str = "Idempotency-Key";

fn unprocessable(field: &str, message: impl Into<String>) -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
        message,
    )
    .with_field(field)
}

fn idempotency_key(headers: &HeaderMap) -> AppResult<String> {
    let bad = |m: &str| {
        AppError::bad_request(ErrorCode::ValidationFailed, format!("{KEY_HEADER}: {m}"))
            .with_field(KEY_HEADER)
    };
    let v = headers.get(IDEMPOTENCY_KEY_HEADER).ok_or_else(|| {
        bad("send a key made when the agent acted (8–200 visible ASCII characters)")
    })?;
    let key = v
        .to_str()
        .map_err(|_| bad("the key must be visible ASCII characters"))?;
    if !(8..=200).contains(&key.len()) || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(bad("the key must be 8–200 visible ASCII characters"));
    }
    Ok(key.to_string())
}

fn request_hash(req: &ActionRequest) -> String {
    let bytes = serde_json::to_vec(req).unwrap_or_default();
    hex(&Sha256::digest(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sees_all_clients(auth: &Authed) -> bool {
    auth.acting
        .iter()
        .any(|r| matches!(r, Role::Admin | Role::Manager))
}

fn valid_email(e: &str) -> bool {
    roost_api::actions::looks_like_email(e)
}

/// Checks what can be checked before claiming the key; returns the client to create (for a
/// new client or a lead) or the existing client's id.
async fn check(
    state: &AppState,
    auth: &Authed,
    req: &ActionRequest,
) -> AppResult<(Option<NewActionClient>, Option<Uuid>)> {
    let (listings, listings_field) = match req {
        ActionRequest::SendShowcase {
            listings, message, ..
        } => {
            if listings.is_empty() || listings.len() > MAX_SHOWCASE_LISTINGS {
                return Err(unprocessable(
                    "listings",
                    format!("a showcase has 1 to {MAX_SHOWCASE_LISTINGS} listings"),
                ));
            }
            if message.chars().count() > MAX_MESSAGE_CHARS {
                return Err(unprocessable(
                    "message",
                    format!("the message may have at most {MAX_MESSAGE_CHARS} characters"),
                ));
            }
            (listings, "listings")
        }
        ActionRequest::CreateLead { lead } => {
            if lead.listings.len() > MAX_SHOWCASE_LISTINGS {
                return Err(unprocessable(
                    "lead.listings",
                    format!("a lead links at most {MAX_SHOWCASE_LISTINGS} listings"),
                ));
            }
            (&lead.listings, "lead.listings")
        }
    };
    for (i, id) in listings.iter().enumerate() {
        match state.db.listing(auth.tenant, *id).await {
            Ok(_) => {}
            Err(DbError::NotFound) => {
                return Err(unprocessable(
                    &format!("{listings_field}[{i}]"),
                    "no such listing in this company",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    match req {
        ActionRequest::SendShowcase {
            client, channel, ..
        } => match client {
            ClientRef::Existing { id } => {
                let (c, _) = state
                    .db
                    .client_for_action(auth.tenant, *id)
                    .await
                    .map_err(client_not_found)?;
                if !sees_all_clients(auth) && c.agent_user_id != Some(auth.user_id) {
                    return Err(AppError::not_found("client"));
                }
                if *channel == Channel::Email && c.email_address().is_none() {
                    return Err(unprocessable(
                        "client.id",
                        "the client has no email address: add one first",
                    ));
                }
                if *channel == Channel::Whatsapp && crate::actions::whatsapp_number(&c).is_none() {
                    return Err(unprocessable(
                        "client.id",
                        "the client has no valid phone number for WhatsApp: add one first",
                    ));
                }
                Ok((None, Some(*id)))
            }
            ClientRef::New { name, phone, email } => {
                let name = name.trim();
                if name.is_empty() || name.chars().count() > 200 {
                    return Err(unprocessable(
                        "client.name",
                        "the client needs a name (up to 200 characters)",
                    ));
                }
                let phone = phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
                if phone.is_none() && *channel == Channel::Whatsapp {
                    return Err(unprocessable(
                        "client.phone",
                        "a WhatsApp showcase needs the client's phone number",
                    ));
                }
                if phone.is_some_and(|p| normalize_number(p).is_none()) {
                    return Err(unprocessable(
                        "client.phone",
                        "expected a phone number with its country code, like +971 50 123 4567",
                    ));
                }
                let email = email.as_deref().map(str::trim).filter(|e| !e.is_empty());
                if email.is_none() && *channel == Channel::Email {
                    return Err(unprocessable(
                        "client.email",
                        "an email showcase needs the client's email address",
                    ));
                }
                if email.is_some_and(|e| !valid_email(e)) {
                    return Err(unprocessable("client.email", "not an email address"));
                }
                Ok((
                    Some(NewActionClient {
                        name: name.to_string(),
                        email: email.map(str::to_string),
                        phone: phone.map(str::to_string),
                        data: json!({ "source": "showcase" }),
                    }),
                    None,
                ))
            }
        },
        ActionRequest::CreateLead { lead } => {
            let name = lead.name.trim();
            if name.is_empty() || name.chars().count() > 200 {
                return Err(unprocessable(
                    "lead.name",
                    "the lead needs a name (up to 200 characters)",
                ));
            }
            let phone = lead
                .phone
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty());
            if phone.is_some_and(|p| normalize_number(p).is_none()) {
                return Err(unprocessable(
                    "lead.phone",
                    "expected a phone number with its country code, like +971 50 123 4567",
                ));
            }
            let email = lead
                .email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty());
            if email.is_some_and(|e| !valid_email(e)) {
                return Err(unprocessable("lead.email", "not an email address"));
            }
            if let Some(b) = &lead.budget
                && (b.amount_minor < 0
                    || b.currency.len() != 3
                    || !b.currency.bytes().all(|c| c.is_ascii_uppercase()))
            {
                return Err(unprocessable(
                    "lead.budget",
                    "a budget is a positive amount with an ISO currency such as AED",
                ));
            }
            if lead
                .interests
                .as_ref()
                .is_some_and(|i| i.chars().count() > 4_000)
            {
                return Err(unprocessable("lead.interests", "at most 4000 characters"));
            }
            let mut data = json!({ "source": "lead" });
            if let Some(b) = &lead.budget {
                data["budget"] = json!(b);
            }
            if let Some(i) = lead.interests.as_deref().filter(|i| !i.trim().is_empty()) {
                data["interests"] = json!(i.trim());
            }
            if !lead.listings.is_empty() {
                data["listings"] = json!(lead.listings);
            }
            Ok((
                Some(NewActionClient {
                    name: name.to_string(),
                    email: email.map(str::to_string),
                    phone: phone.map(str::to_string),
                    data,
                }),
                None,
            ))
        }
    }
}

fn client_not_found(e: DbError) -> AppError {
    match e {
        DbError::NotFound => AppError::not_found("client"),
        other => other.into(),
    }
}

fn record_response(status: StatusCode, record: ActionRecord) -> Response {
    let mut res = (status, axum::Json(&record)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        let secs = record
            .retry_after_s
            .unwrap_or(crate::actions::DEFAULT_RETRY_S);
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}

fn in_flight() -> AppError {
    let mut e = AppError::new(
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
        "this action is being performed by another request; retry shortly with the same key",
    );
    e.retry_after_secs = Some(2);
    e
}

fn reused() -> AppError {
    unprocessable(
        KEY_HEADER,
        "idempotency key reused with another request: make a new key for a new action",
    )
}

fn finished_status(record: &ActionRecord) -> StatusCode {
    if record.status == roost_api::actions::ActionStatus::Sending {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

/// Performs an action once per `Idempotency-Key` (8–200 visible ASCII characters, made on
/// the device when the agent acted; unique per user). The first request performs it and
/// answers the record: `delivered`, or `failed` with a reason the agent (or an admin) can act
/// on. A repeat answers the stored record without performing anything; the same key with
/// another body is refused (422). While another request with the key is performing it: 409
/// with `Retry-After`. A temporary failure (rate limit, service down) answers 503 with
/// `Retry-After` and the record: retry later with the same key. Agents act for their own
/// clients; a new client (or a lead) becomes a Roost client assigned to the caller.
#[utoipa::path(
    post, path = "/api/v1/actions", tag = "actions",
    request_body = ActionRequest,
    params(("Idempotency-Key" = String, Header, description = "8–200 visible ASCII characters, unique per action")),
    responses(
        (status = 200, description = "performed now or before: delivered or failed", body = ActionRecord),
        (status = 400, description = "missing or bad Idempotency-Key", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "no such client of the caller", body = ErrorBody),
        (status = 409, description = "another request with this key is performing it; retry after Retry-After", body = ErrorBody),
        (status = 422, description = "invalid request, unknown listing, or the key reused for another request", body = ErrorBody),
        (status = 503, description = "temporary failure; retry with the same key after Retry-After", body = ActionRecord),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Authed,
    headers: HeaderMap,
    Json(req): Json<ActionRequest>,
) -> AppResult<Response> {
    auth.require(&Role::ALL)?;
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&req);
    // A repeat is answered from the record, before any check that could have changed since.
    if let Some(found) = state
        .db
        .action_by_key(auth.tenant, auth.user_id, &key)
        .await?
    {
        if found.request_hash != hash {
            return Err(reused());
        }
        if found.finished() {
            return Ok(record_response(StatusCode::OK, found.record));
        }
        let fresh = found.state == "sending"
            && found
                .claimed_at
                .is_some_and(|t| t >= roost_db::now_millis() - STALE_CLAIM_MS);
        if fresh {
            return Err(in_flight());
        }
    }
    let (new_client, existing_client) = check(&state, &auth, &req).await?;
    let ctx = auth.ctx();
    let claimed = match state
        .db
        .claim_action(
            &ctx,
            &ClaimRequest {
                key: &key,
                request: &req,
                request_hash: &hash,
                client: new_client,
                existing_client,
                stale_before: roost_db::now_millis() - STALE_CLAIM_MS,
            },
        )
        .await
    {
        Ok(Claim::Claimed(a)) => a,
        Ok(Claim::Done(a)) => return Ok(record_response(finished_status(&a.record), a.record)),
        Ok(Claim::InFlight(_)) | Err(DbError::Conflict(_)) => return Err(in_flight()),
        Ok(Claim::Mismatch) => return Err(reused()),
        Err(e) => return Err(e.into()),
    };
    let client_id = claimed
        .record
        .client_id
        .ok_or_else(|| AppError::internal("a claimed action has no client"))?;
    let listing_ids = match &req {
        ActionRequest::SendShowcase { listings, .. } => listings.clone(),
        ActionRequest::CreateLead { lead } => lead.listings.clone(),
    };
    let prepared = async {
        let (client, recorded_inbound) = state.db.client_for_action(auth.tenant, client_id).await?;
        // The window is the number's: the last time it wrote, as the webhook recorded.
        let by_number = match crate::actions::whatsapp_number(&client) {
            Some(n) => state.db.whatsapp_last_inbound(auth.tenant, &n).await?,
            None => None,
        };
        let last_inbound = by_number.max(recorded_inbound);
        let mut listings = Vec::with_capacity(listing_ids.len());
        for id in &listing_ids {
            listings.push(state.db.listing(auth.tenant, *id).await?);
        }
        let agent = state.db.user(auth.tenant, auth.user_id).await?;
        Ok::<_, DbError>(Prepared {
            client,
            last_inbound,
            listings,
            agent,
        })
    }
    .await;
    let outcome = match prepared {
        Ok(p) => perform(&state, auth.tenant, claimed.record.id, &req, &p).await,
        // Removed between the check and now (a re-import): nothing was sent.
        Err(DbError::NotFound) => roost_db::ActionOutcome::Failed {
            reason: "The client or a listing was removed meanwhile: check them and send again."
                .into(),
        },
        Err(e) => {
            tracing::error!(error = %e, "loading an action's client and listings");
            roost_db::ActionOutcome::Retry {
                reason: "The server could not load the action's data: it will be retried.".into(),
                after_s: crate::actions::DEFAULT_RETRY_S,
            }
        }
    };
    let stored = state
        .db
        .finish_action(&ctx, claimed.record.id, claimed.claimed_at, &outcome)
        .await?;
    Ok(record_response(
        finished_status(&stored.record),
        stored.record,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `next_before` of the previous page.
    pub before: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// The caller's actions, newest first, in pages.
#[utoipa::path(
    get, path = "/api/v1/actions", tag = "actions",
    params(ListQuery),
    responses((status = 200, body = ActionList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authed,
    Query(q): Query<ListQuery>,
) -> AppResult<axum::Json<ActionList>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(
            AppError::bad_request(ErrorCode::ValidationFailed, "limit must be 1–200")
                .with_field("limit"),
        );
    }
    let before = match q.before.as_deref() {
        None => None,
        Some(b) => {
            let bad = || {
                AppError::bad_request(
                    ErrorCode::ValidationFailed,
                    "before must be the next_before of a previous page",
                )
                .with_field("before")
            };
            let (at, id) = b.split_once('.').ok_or_else(bad)?;
            Some((
                at.parse::<i64>().map_err(|_| bad())?,
                Uuid::parse_str(id).map_err(|_| bad())?,
            ))
        }
    };
    let page = state
        .db
        .actions_page(auth.tenant, auth.user_id, before, limit)
        .await?;
    Ok(axum::Json(page))
}

/// One of the caller's actions.
#[utoipa::path(
    get, path = "/api/v1/actions/{id}", tag = "actions",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ActionRecord), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<ActionRecord>> {
    let record = state
        .db
        .action(auth.tenant, auth.user_id, id)
        .await
        .map_err(|e| match e {
            DbError::NotFound => AppError::not_found("action"),
            other => other.into(),
        })?;
    Ok(axum::Json(record))
}

fn printable(field: &str, value: &str, max: usize) -> AppResult<()> {
    let v = value.trim();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(unprocessable(
            field,
            format!("{field} must be 1–{max} printable characters"),
        ));
    }
    Ok(())
}

fn http_url(field: &str, url: Option<&str>) -> AppResult<()> {
    if let Some(u) = url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        return Err(unprocessable(field, "expected an http(s) URL"));
    }
    Ok(())
}

/// What the company has connected (admins): WhatsApp, email, HubSpot, CRM webhook, with the
/// settings an admin may see again and never a secret.
#[utoipa::path(
    get, path = "/api/v1/integrations", tag = "actions",
    responses((status = 200, body = IntegrationsStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_integrations(
    State(state): State<AppState>,
    auth: Authed,
) -> AppResult<axum::Json<IntegrationsStatus>> {
    auth.require(&[Role::Admin])?;
    let mut unreadable = Vec::new();
    let whatsapp = read::<WhatsAppSettings>(&state, &auth, WHATSAPP_SECRET, &mut unreadable);
    let whatsapp = whatsapp.await?.map(|w| WhatsAppStatus {
        phone_number_id: w.phone_number_id,
        template_name: w.template_name,
        template_language: w.template_language,
        template_photo_header: w.template_photo_header,
        api_version: w.api_version,
        base_url: w.base_url,
        webhook_verify_token_set: w.webhook_verify_token.is_some(),
    });
    let email = read::<EmailSettings>(&state, &auth, EMAIL_SECRET, &mut unreadable);
    let email = email.await?.map(|e| EmailStatus {
        host: e.host,
        port: e.port,
        security: e.security,
        from_address: e.from_address,
        from_name: e.from_name,
        username: e.username,
    });
    let hubspot = read::<HubSpotSettings>(&state, &auth, HUBSPOT_SECRET, &mut unreadable);
    let hubspot = hubspot.await?.is_some();
    let crm = read::<CrmWebhookSettings>(&state, &auth, CRM_WEBHOOK_SECRET, &mut unreadable);
    let crm_webhook = crm.await?.map(|c| CrmWebhookStatus { url: c.url });
    Ok(axum::Json(IntegrationsStatus {
        whatsapp,
        email,
        hubspot,
        crm_webhook,
        unreadable,
    }))
}

/// The caller's company's settings `name`; when they cannot be read, `None` and the name
/// noted in `unreadable`.
async fn read<T: serde::de::DeserializeOwned>(
    state: &AppState,
    auth: &Authed,
    name: &str,
    unreadable: &mut Vec<String>,
) -> AppResult<Option<T>> {
    Ok(match open_settings(state, auth.tenant, name).await? {
        Opened::Settings(t) => Some(t),
        Opened::Absent => None,
        Opened::Unreadable => {
            unreadable.push(name.to_string());
            None
        }
    })
}

/// Connects the company's WhatsApp Business number (admins). The access token and app secret
/// are stored encrypted and never returned by any endpoint or sent to devices. Without a
/// template, showcases reach only clients who wrote in the last 24 hours. A webhook verify
/// token left out keeps the stored one.
#[utoipa::path(
    put, path = "/api/v1/integrations/whatsapp", tag = "actions",
    request_body = WhatsAppSettings,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_whatsapp(
    State(state): State<AppState>,
    auth: Authed,
    Json(mut req): Json<WhatsAppSettings>,
) -> AppResult<StatusCode> {
    auth.require(&[Role::Admin])?;
    req.phone_number_id = req.phone_number_id.trim().to_string();
    if req.phone_number_id.is_empty()
        || req.phone_number_id.len() > 64
        || !req.phone_number_id.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(unprocessable(
            "phone_number_id",
            "the phone number id is the Cloud API's numeric id",
        ));
    }
    printable("access_token", &req.access_token, 4096)?;
    printable("app_secret", &req.app_secret, 512)?;
    if let Some(v) = &req.api_version
        && !(v.starts_with('v')
            && v.len() <= 10
            && v[1..]
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
    {
        return Err(unprocessable(
            "api_version",
            "expected a version such as v21.0",
        ));
    }
    http_url("base_url", req.base_url.as_deref())?;
    if let Some(t) = &req.template_name
        && (t.is_empty()
            || t.len() > 512
            || !t
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
    {
        return Err(unprocessable(
            "template_name",
            "template names are lowercase letters, digits and underscores",
        ));
    }
    if let Some(l) = &req.template_language {
        printable("template_language", l, 16)?;
    }
    if req.template_photo_header && req.template_name.is_none() {
        return Err(unprocessable(
            "template_photo_header",
            "a photo header needs the approved template it belongs to (template_name)",
        ));
    }
    match &req.webhook_verify_token {
        Some(v) => printable("webhook_verify_token", v, 256)?,
        // Kept from the stored settings: re-saving the others must not break Meta's handshake.
        None => {
            if let Opened::Settings(stored) =
                open_settings::<WhatsAppSettings>(&state, auth.tenant, WHATSAPP_SECRET).await?
            {
                req.webhook_verify_token = stored.webhook_verify_token;
            }
        }
    }
    // The client accepts them (this checks what the connector checks).
    roost_connectors::WhatsApp::new(
        reqwest::Client::new(),
        req.base_url.as_deref().unwrap_or(GRAPH_BASE_URL),
        req.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION),
        &req.phone_number_id,
        req.access_token.trim(),
    )
    .map_err(|e| unprocessable("base_url", e.to_string()))?;
    req.access_token = req.access_token.trim().to_string();
    req.app_secret = req.app_secret.trim().to_string();
    seal(&state, &auth, WHATSAPP_SECRET, &req).await
}

/// Connects the company's HubSpot portal (admins) with a private app token, stored encrypted
/// and never returned. Without it, leads are kept in Roost's own client records only.
#[utoipa::path(
    put, path = "/api/v1/integrations/hubspot", tag = "actions",
    request_body = HubSpotSettings,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_hubspot(
    State(state): State<AppState>,
    auth: Authed,
    Json(mut req): Json<HubSpotSettings>,
) -> AppResult<StatusCode> {
    auth.require(&[Role::Admin])?;
    printable("private_app_token", &req.private_app_token, 4096)?;
    http_url("base_url", req.base_url.as_deref())?;
    req.private_app_token = req.private_app_token.trim().to_string();
    seal(&state, &auth, HUBSPOT_SECRET, &req).await
}

/// Connects the company's outgoing mail server (admins), for showcases by email. The password
/// is stored encrypted and never returned. Without TLS only a relay on the server's own
/// machine is accepted.
#[utoipa::path(
    put, path = "/api/v1/integrations/email", tag = "actions",
    request_body = EmailSettings,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_email(
    State(state): State<AppState>,
    auth: Authed,
    Json(mut req): Json<EmailSettings>,
) -> AppResult<StatusCode> {
    auth.require(&[Role::Admin])?;
    req.host = req.host.trim().to_string();
    if req.host.is_empty() {
        return Err(unprocessable(
            "host",
            "the mail server's host name is missing",
        ));
    }
    printable("host", &req.host, 255)?;
    req.from_address = req.from_address.trim().to_string();
    if !valid_email(&req.from_address) {
        return Err(unprocessable("from_address", "not an email address"));
    }
    if let Some(n) = &req.from_name {
        printable("from_name", n, 200)?;
    }
    match (&req.username, &req.password) {
        (Some(u), Some(p)) => {
            printable("username", u, 512)?;
            printable("password", p, 1024)?;
        }
        (None, None) => {}
        (None, Some(_)) => return Err(unprocessable("username", "a password needs a username")),
        (Some(_), None) => return Err(unprocessable("password", "a username needs a password")),
    }
    if req.port == Some(0) {
        return Err(unprocessable("port", "expected a port from 1 to 65535"));
    }
    // The connector accepts them (this checks what it checks, e.g. TLS off only on loopback).
    roost_connectors::email::Mailer::new(crate::actions::email_settings(&req, "Roost"))
        .map_err(|e| unprocessable("security", e.to_string()))?;
    seal(&state, &auth, EMAIL_SECRET, &req).await
}

/// Connects a CRM other than HubSpot through a signed webhook (admins): every lead is POSTed
/// to `url`, signed with `secret` (stored encrypted, never returned).
#[utoipa::path(
    put, path = "/api/v1/integrations/crm-webhook", tag = "actions",
    request_body = CrmWebhookSettings,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_crm_webhook(
    State(state): State<AppState>,
    auth: Authed,
    Json(mut req): Json<CrmWebhookSettings>,
) -> AppResult<StatusCode> {
    auth.require(&[Role::Admin])?;
    req.url = req.url.trim().to_string();
    http_url("url", Some(&req.url))?;
    if req.secret.chars().count() < 16 {
        return Err(unprocessable(
            "secret",
            "the signing secret needs at least 16 characters",
        ));
    }
    printable("secret", &req.secret, 512)?;
    seal(&state, &auth, CRM_WEBHOOK_SECRET, &req).await
}

async fn seal<T: serde::Serialize>(
    state: &AppState,
    auth: &Authed,
    name: &str,
    settings: &T,
) -> AppResult<StatusCode> {
    let plain = serde_json::to_string(settings).map_err(AppError::internal)?;
    let (nonce, sealed) = state.secret_box.seal(auth.tenant, name, &plain);
    state
        .db
        .put_integration_secret(&auth.ctx(), name, &nonce, &sealed)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
