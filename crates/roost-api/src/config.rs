//! The tenant configuration: branding, features, integrations, knowledge base.
//!
//! Every struct rejects unknown keys so a typo ("primary_colour") is an error that names the
//! field rather than a setting silently ignored.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::tenants::{Tier, non_blank};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub company_info: CompanyInfo,
    pub features: Features,
    pub integrations: Integrations,
    pub knowledge_base: KnowledgeBase,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompanyInfo {
    pub name: String,
    /// An `https://` (or `http://`) URL of the logo image.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// `#RRGGBB` or `#RGB`.
    pub primary_color: String,
    pub secondary_color: String,
    /// ISO 4217 code used for prices that name no currency, e.g. `AED`.
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Features {
    pub chat: bool,
    pub property_search: bool,
    pub client_management: bool,
    pub analytics: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Integrations {
    #[serde(default)]
    pub mls_provider: Option<String>,
    #[serde(default)]
    pub crm_system: Option<String>,
    #[serde(default)]
    pub email_provider: Option<String>,
    #[serde(default)]
    pub whatsapp: Option<String>,
    /// The model chat answers with; the built-in grounded answerer when absent.
    #[serde(default)]
    pub llm: crate::chat::LlmConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBase {
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub property_types: Vec<String>,
    /// BCP 47 language tags, e.g. `en`, `ar`, `ru`.
    #[serde(default)]
    pub languages: Vec<String>,
}

/// `GET /api/v1/config` answer; `version` is also the ETag (`"<version>"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionedConfig {
    pub version: i64,
    pub tier: Tier,
    pub config: TenantConfig,
}

impl TenantConfig {
    /// What a newly registered company starts with.
    pub fn initial(company_name: &str, tier: Tier) -> TenantConfig {
        let advanced = tier.allows_advanced_features();
        TenantConfig {
            company_info: CompanyInfo {
                name: company_name.to_string(),
                logo_url: None,
                primary_color: "#1F4E79".into(),
                secondary_color: "#F2A900".into(),
                currency: None,
            },
            features: Features {
                chat: true,
                property_search: true,
                client_management: advanced,
                analytics: advanced,
            },
            integrations: Integrations::default(),
            knowledge_base: KnowledgeBase {
                regions: vec![],
                property_types: vec![],
                languages: vec!["en".into()],
            },
        }
    }

    pub fn validate(&self, tier: Tier) -> Result<(), FieldError> {
        let ci = &self.company_info;
        non_blank("company_info.name", &ci.name, 200)?;
        if let Some(logo) = &ci.logo_url {
            validate_http_url("company_info.logo_url", logo)?;
        }
        parse_hex_color(&ci.primary_color)
            .ok_or_else(|| bad_color("company_info.primary_color", &ci.primary_color))?;
        parse_hex_color(&ci.secondary_color)
            .ok_or_else(|| bad_color("company_info.secondary_color", &ci.secondary_color))?;

        if let Some(cur) = &ci.currency
            && !(cur.len() == 3 && cur.chars().all(|c| c.is_ascii_uppercase()))
        {
            return Err(FieldError::new(
                "company_info.currency",
                format!("'{cur}' is not an ISO 4217 code such as AED or USD"),
            ));
        }

        if !tier.allows_advanced_features() {
            for (on, field) in [
                (
                    self.features.client_management,
                    "features.client_management",
                ),
                (self.features.analytics, "features.analytics"),
            ] {
                if on {
                    return Err(FieldError::new(
                        field,
                        "not included in the starter tier; upgrade to professional",
                    ));
                }
            }
        }

        let i = &self.integrations;
        for (value, field) in [
            (&i.mls_provider, "integrations.mls_provider"),
            (&i.crm_system, "integrations.crm_system"),
            (&i.email_provider, "integrations.email_provider"),
            (&i.whatsapp, "integrations.whatsapp"),
        ] {
            if let Some(v) = value {
                non_blank(field, v, 100)?;
            }
        }

        match &i.llm {
            crate::chat::LlmConfig::Grounded => {}
            crate::chat::LlmConfig::Gemini { model, base_url } => {
                non_blank("integrations.llm.model", model, 100)?;
                if let Some(url) = base_url {
                    llm_url("integrations.llm.base_url", url)?;
                }
            }
            crate::chat::LlmConfig::OpenaiCompatible { model, base_url } => {
                non_blank("integrations.llm.model", model, 100)?;
                llm_url("integrations.llm.base_url", base_url)?;
            }
        }

        let kb = &self.knowledge_base;
        list("knowledge_base.regions", &kb.regions, 500)?;
        list("knowledge_base.property_types", &kb.property_types, 100)?;
        list("knowledge_base.languages", &kb.languages, 50)?;
        for (n, lang) in kb.languages.iter().enumerate() {
            let ok = lang.len() <= 35
                && lang.split('-').all(|p| {
                    !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric())
                })
                && lang.chars().take_while(|c| *c != '-').count() >= 2;
            if !ok {
                return Err(FieldError::new(
                    format!("knowledge_base.languages[{n}]"),
                    format!("'{lang}' is not a language tag such as 'en' or 'ar-AE'"),
                ));
            }
        }
        Ok(())
    }
}

/// An LLM endpoint: http(s) with a host. Plain http is allowed for models on the company's
/// own network (Ollama, vLLM).
fn llm_url(field: &str, value: &str) -> Result<(), FieldError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(FieldError::new(
            field,
            format!("'{value}' is not an http(s) URL such as https://api.openai.com/v1"),
        )),
    }
}

fn list(field: &str, items: &[String], max: usize) -> Result<(), FieldError> {
    if items.len() > max {
        return Err(FieldError::new(
            field,
            format!("at most {max} entries allowed"),
        ));
    }
    for (n, item) in items.iter().enumerate() {
        non_blank(&format!("{field}[{n}]"), item, 100)?;
    }
    Ok(())
}

fn bad_color(field: &str, value: &str) -> FieldError {
    FieldError::new(
        field,
        format!("'{value}' is not a hex color such as #1F4E79 or #FA0"),
    )
}

fn validate_http_url(field: &str, value: &str) -> Result<(), FieldError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => Ok(()),
        Ok(_) => Err(FieldError::new(
            field,
            format!("'{value}' must be an http(s) URL"),
        )),
        Err(e) => Err(FieldError::new(
            field,
            format!("'{value}' is not a valid URL: {e}"),
        )),
    }
}

/// Parses `#RRGGBB` or `#RGB` into RGB bytes.
pub fn parse_hex_color(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).ok();
    match hex.len() {
        6 => {
            let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
            Some([byte(0)?, byte(2)?, byte(4)?])
        }
        3 => Some([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colors() {
        assert_eq!(parse_hex_color("#1F4E79"), Some([0x1F, 0x4E, 0x79]));
        assert_eq!(parse_hex_color("#fa0"), Some([0xFF, 0xAA, 0x00]));
        for bad in ["1F4E79", "#1F4E7", "#GGGGGG", "#", "", "#1F4E79AA"] {
            assert_eq!(parse_hex_color(bad), None, "{bad}");
        }
    }

    #[test]
    fn initial_config_is_valid_for_every_tier() {
        for tier in Tier::ALL {
            TenantConfig::initial("Acme Homes", tier)
                .validate(tier)
                .unwrap();
        }
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = TenantConfig::initial("Acme", Tier::Professional);
        c.company_info.secondary_color = "blue".into();
        assert_eq!(
            c.validate(Tier::Professional).unwrap_err().field,
            "company_info.secondary_color"
        );

        let mut c = TenantConfig::initial("Acme", Tier::Professional);
        c.company_info.logo_url = Some("ftp://x.com/logo.png".into());
        assert_eq!(
            c.validate(Tier::Professional).unwrap_err().field,
            "company_info.logo_url"
        );

        let mut c = TenantConfig::initial("Acme", Tier::Starter);
        c.features.analytics = true;
        assert_eq!(
            c.validate(Tier::Starter).unwrap_err().field,
            "features.analytics"
        );

        let mut c = TenantConfig::initial("Acme", Tier::Starter);
        c.knowledge_base.languages.push("english!".into());
        assert_eq!(
            c.validate(Tier::Starter).unwrap_err().field,
            "knowledge_base.languages[1]"
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let mut v = serde_json::to_value(TenantConfig::initial("Acme", Tier::Starter)).unwrap();
        v["company_info"]["primary_colour"] = "#000".into();
        let err = serde_json::from_value::<TenantConfig>(v).unwrap_err();
        assert!(err.to_string().contains("primary_colour"), "{err}");
    }
}
