use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;
use crate::error::FieldError;
use crate::tenants::{non_blank, validate_email, validate_password};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Agent,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Agent];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub created_at: Millis,
}

/// `POST /api/v1/users` (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// Initial password, handed to the user by the admin.
    pub password: String,
}

impl CreateUserRequest {
    pub fn validate(&self) -> Result<(), FieldError> {
        validate_email("email", &self.email)?;
        non_blank("name", &self.name, 200)?;
        validate_roles("roles", &self.roles)?;
        validate_password("password", &self.password)
    }
}

/// `PATCH /api/v1/users/{id}` (admins). Absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
    /// `false` deactivates the user and signs out all their devices.
    #[serde(default)]
    pub active: Option<bool>,
}

impl UpdateUserRequest {
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(name) = &self.name {
            non_blank("name", name, 200)?;
        }
        if let Some(roles) = &self.roles {
            validate_roles("roles", roles)?;
        }
        if self.name.is_none() && self.roles.is_none() && self.active.is_none() {
            return Err(FieldError::new("", "nothing to change"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserList {
    pub users: Vec<User>,
}

fn validate_roles(field: &str, roles: &[Role]) -> Result<(), FieldError> {
    if roles.is_empty() {
        return Err(FieldError::new(field, "a user needs at least one role"));
    }
    Ok(())
}

/// Sorted, without repeats: the form roles are stored and compared in.
pub fn normalize_roles(roles: &[Role]) -> Vec<Role> {
    let mut r = roles.to_vec();
    r.sort();
    r.dedup();
    r
}
