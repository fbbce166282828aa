use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;
use crate::tenants::TenantSummary;
use crate::users::{Role, User};

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The company's slug.
    pub tenant: String,
    pub email: String,
    pub password: String,
    /// Shown in the user's device list, e.g. "Sara's MacBook".
    pub device_name: String,
}

/// Tokens for one device. The refresh token rotates on every use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
    /// Seconds until the refresh token expires unless used.
    pub refresh_expires_in: u64,
    pub device_id: Uuid,
}

/// `POST /api/v1/auth/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeResponse {
    pub user: User,
    pub tenant: TenantSummary,
    pub roles: Vec<Role>,
    pub device_id: Uuid,
}

/// A signed-in device of the current user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    pub id: Uuid,
    pub name: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    /// True for the device making the request.
    pub current: bool,
}
