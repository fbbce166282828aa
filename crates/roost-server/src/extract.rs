//! Extractors: a JSON body whose errors name the field, the client address, and the
//! authenticated caller.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use roost_api::ErrorCode;
use roost_api::users::Role;
use roost_db::{Actor, Ctx, TenantId};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::AppError;
use crate::state::AppState;

/// Header naming the one role the caller acts in (the app's role switcher). Absent: all the
/// roles the user holds.
pub use roost_api::ROLE_HEADER;

/// Like `axum::Json`, but every rejection is our error body, naming the field where it can.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::PayloadTooLarge,
                    "the request body is larger than the server accepts",
                )
            } else {
                AppError::bad_request(ErrorCode::MalformedBody, rej.body_text())
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Deserialises `bytes`, turning serde's error into one that names the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.inner();
        let msg = inner.to_string();
        let path = if path == "." { String::new() } else { path };
        let join = |name: &str| {
            if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            }
        };
        let between_ticks = |m: &str| m.split('`').nth(1).map(str::to_string);
        if inner.is_syntax() || inner.is_eof() {
            AppError::bad_request(ErrorCode::MalformedBody, format!("invalid JSON: {msg}"))
        } else if msg.starts_with("unknown field") {
            // The path already ends with the unknown key.
            let field = if path.is_empty() {
                between_ticks(&msg).unwrap_or_default()
            } else {
                path
            };
            AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::UnknownField,
                format!("unknown field '{field}'"),
            )
            .with_field(field)
        } else if msg.starts_with("missing field") {
            let field = between_ticks(&msg).map(|f| join(&f)).unwrap_or(path);
            AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationFailed,
                format!("missing field '{field}'"),
            )
            .with_field(field)
        } else {
            let shown = if path.is_empty() {
                "body".to_string()
            } else {
                path.clone()
            };
            AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::MalformedBody,
                format!("{shown}: {}", strip_position(&msg)),
            )
            .with_field(path)
        }
    })
}

fn strip_position(msg: &str) -> &str {
    msg.split(" at line ").next().unwrap_or(msg)
}

/// The caller's address: the socket peer, or the first `X-Forwarded-For` hop when configured.
pub fn client_ip(parts: &Parts, trust_forwarded_for: bool) -> Option<String> {
    if trust_forwarded_for
        && let Some(first) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return Some(first.trim().to_string());
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(ClientIp(client_ip(
            parts,
            state.settings.trust_forwarded_for,
        )))
    }
}

/// An authenticated caller. Handlers that take it cannot run without a valid, unrevoked
/// access token, and every query they make is scoped to `tenant`.
#[derive(Debug, Clone)]
pub struct Authed {
    pub tenant: TenantId,
    pub user_id: Uuid,
    pub device_id: Uuid,
    /// Roles the user holds now.
    pub roles: Vec<Role>,
    /// Roles this request acts in (one, when the app's role switcher is set).
    pub acting: Vec<Role>,
    pub ip: Option<String>,
}

impl Authed {
    pub fn ctx(&self) -> Ctx {
        Ctx {
            tenant: self.tenant,
            actor: Actor {
                user_id: Some(self.user_id),
                device_id: Some(self.device_id),
                ip: self.ip.clone(),
            },
        }
    }

    /// Passes when the caller acts in any of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if self.acting.iter().any(|r| roles.contains(r)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(AppError::forbidden(format!(
                "this needs the {} role",
                names.join(" or ")
            )))
        }
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| AppError::unauthorized("sign in first: missing bearer token"))?;
        let claims = state
            .keys
            .verify(token.trim())
            .ok_or_else(|| AppError::unauthorized("the access token is invalid or expired"))?;
        let tenant = TenantId::from_verified(claims.tid);
        let access = state
            .db
            .check_access(tenant, claims.sub, claims.dev)
            .await?
            .ok_or_else(|| AppError::unauthorized("this device has been signed out"))?;
        let acting = match parts.headers.get(ROLE_HEADER) {
            None => access.roles.clone(),
            Some(v) => {
                let name = v.to_str().unwrap_or_default();
                let role = Role::parse(name).ok_or_else(|| {
                    AppError::bad_request(
                        ErrorCode::ValidationFailed,
                        format!("unknown role '{name}' in {ROLE_HEADER}"),
                    )
                    .with_field(ROLE_HEADER)
                })?;
                if !access.roles.contains(&role) {
                    return Err(AppError::forbidden(format!(
                        "you do not hold the {name} role"
                    )));
                }
                vec![role]
            }
        };
        Ok(Authed {
            tenant,
            user_id: claims.sub,
            device_id: claims.dev,
            roles: access.roles,
            acting,
            ip: client_ip(parts, state.settings.trust_forwarded_for),
        })
    }
}

/// `axum::extract::Path` answering bad path values with our error body.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` answering bad query strings with our error body.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(rej: axum::extract::rejection::PathRejection) -> Self {
        AppError::bad_request(ErrorCode::ValidationFailed, rej.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(rej: axum::extract::rejection::QueryRejection) -> Self {
        AppError::bad_request(ErrorCode::ValidationFailed, rej.body_text())
    }
}
