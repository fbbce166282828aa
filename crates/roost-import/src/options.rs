use std::collections::BTreeMap;

use serde::Deserialize;

use crate::values::{Currency, DateOrder, DecimalMark, SizeUnit};

/// Per-import settings: tenant defaults plus an optional saved column mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// Uploads larger than this are rejected before parsing.
    pub max_bytes: usize,
    /// Currency for prices that name none (the tenant's currency).
    pub default_currency: Option<Currency>,
    /// Unit for sizes that name none and whose header does not either.
    pub default_size_unit: Option<SizeUnit>,
    pub decimal_mark: DecimalMark,
    pub date_order: DateOrder,
    pub mapping: Option<ColumnMapping>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            max_bytes: 20 * 1024 * 1024,
            default_currency: None,
            default_size_unit: None,
            decimal_mark: DecimalMark::Auto,
            date_order: DateOrder::Auto,
            mapping: None,
        }
    }
}

/// A saved mapping for files whose headers we cannot guess, e.g.
///
/// ```toml
/// default_currency = "AED"
/// size_unit = "sqm"
///
/// [columns]
/// "Asking (AED)" = "price"
/// "Internal notes" = "attribute"
/// ```
///
/// Settings here override the tenant defaults in [`ImportOptions`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// Source header (exact, or equal after normalisation) → field name or `attribute`.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    pub default_currency: Option<Currency>,
    pub size_unit: Option<SizeUnit>,
    pub decimal_mark: Option<DecimalMark>,
    pub date_order: Option<DateOrder>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid column mapping: {0}")]
pub struct MappingError(String);

impl ColumnMapping {
    pub fn from_toml(text: &str) -> Result<ColumnMapping, MappingError> {
        toml::from_str(text).map_err(|e| MappingError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml() {
        let m = ColumnMapping::from_toml(
            r#"
            default_currency = "aed"
            size_unit = "sqm"
            decimal_mark = "comma"
            [columns]
            "Asking (AED)" = "price"
            "#,
        )
        .unwrap();
        assert_eq!(m.columns["Asking (AED)"], "price");
        assert_eq!(m.default_currency, Currency::parse("AED"));
        assert_eq!(m.size_unit, Some(SizeUnit::Sqm));
        assert_eq!(m.decimal_mark, Some(DecimalMark::Comma));
    }

    #[test]
    fn rejects_unknown_settings() {
        assert!(ColumnMapping::from_toml("currency = \"AED\"").is_err());
        let err = ColumnMapping::from_toml("default_currency = \"XYZ\"").unwrap_err();
        assert!(err.to_string().contains("unknown currency"), "{err}");
    }
}
