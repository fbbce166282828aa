use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;

/// One entry of a tenant's append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// Per-tenant, strictly increasing.
    pub seq: i64,
    pub at: Millis,
    /// The acting user; absent for self-service registration and failed sign-ins.
    pub actor_user_id: Option<Uuid>,
    pub actor_device_id: Option<Uuid>,
    /// Dotted verb, e.g. `user.create`, `config.update`, `auth.login`.
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    /// What changed, without secrets.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<AuditEvent>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}
