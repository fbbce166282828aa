use serde::{Deserialize, Serialize};

/// Machine-readable error codes. Apps branch on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON, or a value has the wrong type.
    MalformedBody,
    /// The body parsed but a field's value is not acceptable.
    ValidationFailed,
    /// A field the schema does not know.
    UnknownField,
    /// Content-Type is not `application/json`.
    UnsupportedMediaType,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// No valid credentials (missing, expired, revoked or forged token; wrong password).
    Unauthorized,
    /// Authenticated, but the role does not allow this.
    Forbidden,
    /// No such resource in the caller's tenant.
    NotFound,
    /// No such route or method.
    RouteNotFound,
    MethodNotAllowed,
    /// The resource already exists (e.g. an email taken in this tenant).
    Conflict,
    /// `If-Match` names a version that is no longer current.
    PreconditionFailed,
    /// The request must carry `If-Match`.
    PreconditionRequired,
    /// Too many attempts; retry after the `Retry-After` seconds.
    RateLimited,
    /// The tenant's tier does not include this, or a tier limit is reached.
    TierLimit,
    /// An uploaded file cannot be read as a whole (empty, binary, missing columns …).
    InvalidFile,
    /// Strict import refused: some rows are invalid. The report is at `Location`.
    ImportRejected,
    /// A refresh token was presented twice; the device has been signed out.
    TokenReused,
    /// The app is older than the server supports.
    ClientOutdated,
    /// The sync cursor is older than the server keeps history for: sync again from 0.
    ResyncRequired,
    /// Something failed on the server; details are in its log, not here.
    Internal,
    /// The database or another dependency is not ready.
    Unavailable,
}

/// The body of every error response: `{ "error": { "code", "message", "field"? } }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ApiError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Dotted path of the offending field, e.g. `company_info.primary_color`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A validation failure that names its field; the server turns it into a 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}
