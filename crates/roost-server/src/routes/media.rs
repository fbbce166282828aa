//! Images a company hosts on Roost (listing photos): upload, and read back by id.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use roost_api::media::{ImageKind, MAX_MEDIA_BYTES, Media, media_path};
use roost_api::users::Role;
use roost_api::{ErrorBody, ErrorCode};
use roost_db::{Ctx, MediaInfo, NewMedia};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::extract::{Authed, Path};
use crate::state::AppState;

/// Image bytes, as the OpenAPI document describes a binary body.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ImageBytes(pub Vec<u8>);

/// An id names the same bytes forever, so a device may keep them without asking again.
/// `private`: the answer depends on the caller's token, no shared cache may keep it.
const CACHE_FOREVER: &str = "private, max-age=31536000, immutable";

/// Upload an image (admins and managers): the request body is the file itself. JPEG, PNG and
/// WebP are accepted, told by their first bytes (the Content-Type header is not trusted), up
/// to 10 MiB. Put the answer's `url` in a listing's photos. The same bytes uploaded again
/// answer 200 with the image stored before.
#[utoipa::path(
    post, path = "/api/v1/media", tag = "media",
    request_body(
        description = "the image file (JPEG, PNG or WebP; at most 10 MiB)",
        content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"), (ImageBytes = "image/webp")),
    ),
    responses(
        (status = 201, description = "stored; `Location` is its URL", body = Media, headers(("Location" = String))),
        (status = 200, description = "these bytes were stored before; that image", body = Media),
        (status = 403, body = ErrorBody),
        (status = 413, description = "over 10 MiB", body = ErrorBody),
        (status = 415, description = "not a JPEG, PNG or WebP image", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    auth: Authed,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    auth.require(&[Role::Admin, Role::Manager])?;
    let bytes = read_image_body(&headers, body).await?;
    let (media, created) = store_image(&state, &auth.ctx(), &bytes).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = HeaderValue::from_str(&media.url).expect("ascii path");
    Ok((status, [(header::LOCATION, location)], axum::Json(media)).into_response())
}

/// Bodies up to this size are read to their end even when over the limit, so the client
/// has finished sending and reads the 413 (closing on a client still sending resets the
/// connection, and it would see a network error instead). Larger ones are cut off.
const DRAIN_LIMIT: usize = 4 * MAX_MEDIA_BYTES;

/// The body, or 413 when it is over [`MAX_MEDIA_BYTES`] (announced or streamed).
async fn read_image_body(headers: &HeaderMap, mut body: Body) -> AppResult<Vec<u8>> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            AppError::bad_request(
                ErrorCode::MalformedBody,
                format!("could not read the body: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen += data.len();
        if seen > DRAIN_LIMIT {
            return Err(too_large());
        }
        if seen <= MAX_MEDIA_BYTES {
            bytes.extend_from_slice(&data);
        }
    }
    if seen > MAX_MEDIA_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

fn too_large() -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("the image is over the {MAX_MEDIA_BYTES} byte limit"),
    )
}

/// Checks that `bytes` are a JPEG, PNG or WebP image and stores them in the tenant (audited;
/// the same bytes stored before return that image, `false`). The upload route and the demo
/// seed share it.
pub async fn store_image(state: &AppState, ctx: &Ctx, bytes: &[u8]) -> AppResult<(Media, bool)> {
    let kind = ImageKind::sniff(bytes).ok_or_else(|| {
        AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "the body is not a JPEG, PNG or WebP image; send the image file itself as the body",
        )
    })?;
    let sha256 = hex(&Sha256::digest(bytes));
    let (info, created) = state
        .db
        .put_media(
            ctx,
            NewMedia {
                kind,
                bytes,
                sha256: &sha256,
            },
        )
        .await?;
    Ok((to_api(info), created))
}

fn to_api(info: MediaInfo) -> Media {
    Media {
        id: info.id,
        url: media_path(info.id),
        kind: info.kind,
        content_type: info.kind.mime().to_string(),
        size_bytes: info.size_bytes,
        sha256: info.sha256,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An uploaded image (every role of the company; another company's id is a 404). Immutable:
/// answered with a one-year `Cache-Control` and its SHA-256 as the ETag; `If-None-Match`
/// with that ETag answers 304.
#[utoipa::path(
    get, path = "/api/v1/media/{id}", tag = "media",
    params(("id" = Uuid, Path, description = "media id")),
    responses(
        (status = 200, description = "the image", headers(("ETag" = String), ("Cache-Control" = String)),
            content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"), (ImageBytes = "image/webp"))),
        (status = 304, description = "not modified"),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Authed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let not_found = |e: roost_db::DbError| match e {
        roost_db::DbError::NotFound => AppError::not_found("media"),
        other => other.into(),
    };
    let cache_control = HeaderValue::from_static(CACHE_FOREVER);
    if let Some(tags) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        let info = state
            .db
            .media_info(auth.tenant, id)
            .await
            .map_err(not_found)?;
        let tag = etag(&info.sha256);
        if tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == tag || t == "*")
        {
            return Ok((
                StatusCode::NOT_MODIFIED,
                [
                    (header::ETAG, HeaderValue::from_str(&tag).expect("hex")),
                    (header::CACHE_CONTROL, cache_control),
                ],
            )
                .into_response());
        }
    }
    let (info, bytes) = state.db.media(auth.tenant, id).await.map_err(not_found)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(info.kind.mime()),
            ),
            (
                header::ETAG,
                HeaderValue::from_str(&etag(&info.sha256)).expect("hex"),
            ),
            (header::CACHE_CONTROL, cache_control),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn etag(sha256: &str) -> String {
    format!("\"{sha256}\"")
}

/// How long a photo link in a message to a client stays valid.
pub const LINK_TTL_SECS: i64 = 90 * 24 * 3600;

fn link_message(tenant: Uuid, id: Uuid, exp: i64) -> String {
    format!("media\0{tenant}\0{id}\0{exp}")
}

/// A link to one of the tenant's photos that works without signing in, for a client's
/// phone or mail program: signed by the server, valid for [`LINK_TTL_SECS`]. `None` when the
/// server's public address is not configured.
pub fn public_link(state: &AppState, tenant: roost_db::TenantId, id: Uuid) -> Option<String> {
    let base = state.settings.public_url.as_deref()?.trim_end_matches('/');
    let exp = roost_db::now_millis() / 1000 + LINK_TTL_SECS;
    let sig = state
        .secret_box
        .sign_link(&link_message(tenant.uuid(), id, exp));
    Some(format!(
        "{base}/api/v1/public/media/{id}?t={}&exp={exp}&sig={sig}",
        tenant.uuid()
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct LinkQuery {
    /// The company the photo belongs to.
    pub t: Uuid,
    /// Unix seconds after which the link no longer works.
    pub exp: i64,
    /// The server's signature of the three.
    pub sig: String,
}

/// A photo by a signed link from a message to a client (no sign-in). Refused when the
/// signature does not cover this photo of this company, or the link has expired.
#[utoipa::path(
    get, path = "/api/v1/public/media/{id}", tag = "media",
    params(("id" = Uuid, Path, description = "media id"), LinkQuery),
    responses(
        (status = 200, description = "the image",
            content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"), (ImageBytes = "image/webp"))),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn public_get(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    crate::extract::Query(q): crate::extract::Query<LinkQuery>,
) -> AppResult<Response> {
    if !state
        .secret_box
        .link_signed(&link_message(q.t, id, q.exp), &q.sig)
    {
        return Err(AppError::forbidden("this link is not valid"));
    }
    if q.exp < roost_db::now_millis() / 1000 {
        return Err(AppError::forbidden("this link has expired"));
    }
    // The signature vouches for the company.
    let tenant = roost_db::TenantId::from_verified(q.t);
    let (info, bytes) = state.db.media(tenant, id).await.map_err(|e| match e {
        roost_db::DbError::NotFound => AppError::not_found("media"),
        other => other.into(),
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(info.kind.mime()),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}
