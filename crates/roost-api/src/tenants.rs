use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::FieldError;

/// Commercial tier; decides limits and which features a tenant may switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Starter,
    Professional,
    Enterprise,
    Custom,
}

impl Tier {
    pub const ALL: [Tier; 4] = [
        Tier::Starter,
        Tier::Professional,
        Tier::Enterprise,
        Tier::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Starter => "starter",
            Tier::Professional => "professional",
            Tier::Enterprise => "enterprise",
            Tier::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Most listings a tenant of this tier may hold; `None` is unlimited.
    pub fn property_limit(self) -> Option<u64> {
        match self {
            Tier::Starter => Some(1_000),
            Tier::Professional => Some(10_000),
            Tier::Enterprise | Tier::Custom => None,
        }
    }

    /// Starter is basic chat and search; the rest come with Professional and up.
    pub fn allows_advanced_features(self) -> bool {
        !matches!(self, Tier::Starter)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactPerson {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
}

/// Company registration (`POST /api/v1/tenants`). The contact person becomes the first admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterTenantRequest {
    pub company_name: String,
    pub industry: String,
    pub region: String,
    pub employee_count: u32,
    pub contact_person: ContactPerson,
    pub tier: Tier,
    /// The first admin's password, chosen by the registrant.
    pub admin_password: String,
    /// Wanted slug; derived from the company name when absent.
    #[serde(default)]
    pub slug: Option<String>,
}

impl RegisterTenantRequest {
    pub fn validate(&self) -> Result<(), FieldError> {
        non_blank("company_name", &self.company_name, 200)?;
        non_blank("industry", &self.industry, 100)?;
        non_blank("region", &self.region, 100)?;
        if self.employee_count == 0 {
            return Err(FieldError::new("employee_count", "must be at least 1"));
        }
        non_blank("contact_person.name", &self.contact_person.name, 200)?;
        validate_email("contact_person.email", &self.contact_person.email)?;
        if let Some(phone) = &self.contact_person.phone {
            validate_phone("contact_person.phone", phone)?;
        }
        validate_password("admin_password", &self.admin_password)?;
        if let Some(slug) = &self.slug {
            validate_slug("slug", slug)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterTenantResponse {
    pub tenant_id: Uuid,
    pub slug: String,
    pub admin_user_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantSummary {
    pub id: Uuid,
    pub slug: String,
    pub company_name: String,
    pub tier: Tier,
}

pub(crate) fn non_blank(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// A deliberately plain check: one `@`, something on both sides, a dot in the domain.
pub fn validate_email(field: &str, email: &str) -> Result<(), FieldError> {
    let bad = || FieldError::new(field, format!("'{email}' is not an email address"));
    if email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty() || domain.contains('@') || !domain.contains('.') {
        return Err(bad());
    }
    if domain.starts_with('.') || domain.ends_with('.') {
        return Err(bad());
    }
    Ok(())
}

pub fn validate_phone(field: &str, phone: &str) -> Result<(), FieldError> {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !allowed || !(6..=15).contains(&digits) {
        return Err(FieldError::new(
            field,
            format!("'{phone}' is not a phone number (6 to 15 digits, optional +)"),
        ));
    }
    Ok(())
}

pub const MIN_PASSWORD_LEN: usize = 10;

pub fn validate_password(field: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if n > 256 {
        return Err(FieldError::new(field, "must be at most 256 characters"));
    }
    Ok(())
}

/// Slugs are what agents type at sign-in: lowercase letters, digits and single hyphens.
pub fn validate_slug(field: &str, slug: &str) -> Result<(), FieldError> {
    let ok = (2..=48).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "'{slug}' is not a valid slug (2-48 lowercase letters, digits and single hyphens)"
            ),
        ))
    }
}

/// Turns a company name into a slug candidate: "Emaar Properties PJSC" -> "emaar-properties-pjsc".
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(40).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.len() < 2 {
        out = format!("company-{out}").trim_end_matches('-').to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_makes_valid_slugs() {
        for (name, want) in [
            ("Emaar Properties PJSC", "emaar-properties-pjsc"),
            ("  Döner & Sons!! ", "d-ner-sons"),
            ("X", "company-x"),
            ("محمد", "company"),
        ] {
            let got = slugify(name);
            assert_eq!(got, want, "{name}");
            validate_slug("slug", &got).unwrap();
        }
    }

    #[test]
    fn email_checks() {
        assert!(validate_email("e", "a@b.co").is_ok());
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.co", "a@.co"] {
            let err = validate_email("e", bad).unwrap_err();
            assert_eq!(err.field, "e");
        }
    }

    #[test]
    fn phone_checks() {
        assert!(validate_phone("p", "+971 50 123 4567").is_ok());
        assert!(validate_phone("p", "12345").is_err());
        assert!(validate_phone("p", "call me").is_err());
    }
}
