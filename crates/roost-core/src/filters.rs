//! Exact structured filters, from the filter controls or parsed from the query text, applied
//! before any ranking. Search evaluates them over in-memory columns (`columns.rs`); the SQL
//! form here defines what they mean, and the tests check the columns against it.

#[cfg(test)]
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

/// Inclusive bounds; an unset side is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Bounds<T> {
    pub min: Option<T>,
    pub max: Option<T>,
}

impl<T> Bounds<T> {
    pub fn is_open(&self) -> bool {
        self.min.is_none() && self.max.is_none()
    }
}

/// A price range in one currency's minor units (fils, cents). Listings priced in another
/// currency, or unpriced, do not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRange {
    pub currency: String,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
}

/// Every condition must hold. Text conditions compare case-insensitively; a list matches any
/// of its values; an empty list or `None` is no condition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    pub price: Option<PriceRange>,
    pub bedrooms: Bounds<u16>,
    pub bathrooms_min: Option<f32>,
    pub property_types: Vec<String>,
    pub communities: Vec<String>,
    pub size_sqft: Bounds<f64>,
    pub statuses: Vec<String>,
    pub furnished: Option<bool>,
    /// Source columns without a field of their own, e.g. `("View", "Sea")`.
    pub attributes: Vec<(String, String)>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    /// These filters, with each condition they leave unset taken from `fallback`. The filter
    /// controls win over what the query text says.
    pub fn or(self, fallback: Filters) -> Filters {
        fn list(a: Vec<String>, b: Vec<String>) -> Vec<String> {
            if a.is_empty() { b } else { a }
        }
        fn bounds<T>(a: Bounds<T>, b: Bounds<T>) -> Bounds<T> {
            if a.is_open() { b } else { a }
        }
        Filters {
            price: self.price.or(fallback.price),
            bedrooms: bounds(self.bedrooms, fallback.bedrooms),
            bathrooms_min: self.bathrooms_min.or(fallback.bathrooms_min),
            property_types: list(self.property_types, fallback.property_types),
            communities: list(self.communities, fallback.communities),
            size_sqft: bounds(self.size_sqft, fallback.size_sqft),
            statuses: list(self.statuses, fallback.statuses),
            furnished: self.furnished.or(fallback.furnished),
            attributes: if self.attributes.is_empty() {
                fallback.attributes
            } else {
                self.attributes
            },
        }
    }

    /// A SQL condition over the listings table aliased `l`, and its parameters in order.
    #[cfg(test)]
    pub(crate) fn to_sql(&self) -> (String, Vec<Value>) {
        let mut sql = Sql::default();
        if let Some(p) = &self.price {
            sql.cond("l.currency = ?", [Value::Text(p.currency.clone())]);
            if let Some(min) = p.min_minor {
                sql.cond("l.price_minor >= ?", [Value::Integer(min)]);
            }
            if let Some(max) = p.max_minor {
                sql.cond("l.price_minor <= ?", [Value::Integer(max)]);
            }
        }
        if let Some(min) = self.bedrooms.min {
            sql.cond("l.bedrooms >= ?", [Value::Integer(min.into())]);
        }
        if let Some(max) = self.bedrooms.max {
            sql.cond("l.bedrooms <= ?", [Value::Integer(max.into())]);
        }
        if let Some(min) = self.bathrooms_min {
            sql.cond("l.bathrooms >= ?", [Value::Real(min.into())]);
        }
        sql.any_of("l.property_type", &self.property_types);
        sql.any_of("l.community", &self.communities);
        sql.any_of("l.status", &self.statuses);
        if let Some(min) = self.size_sqft.min {
            sql.cond("l.size_sqft >= ?", [Value::Real(min)]);
        }
        if let Some(max) = self.size_sqft.max {
            sql.cond("l.size_sqft <= ?", [Value::Real(max)]);
        }
        if let Some(f) = self.furnished {
            sql.cond("l.furnished = ?", [Value::Integer(f.into())]);
        }
        for (key, value) in &self.attributes {
            sql.cond(
                "EXISTS (SELECT 1 FROM json_each(l.attributes) a WHERE a.key = ? AND a.value = ? COLLATE NOCASE)",
                [Value::Text(key.clone()), Value::Text(value.clone())],
            );
        }
        if sql.conditions.is_empty() {
            return ("1 = 1".into(), vec![]);
        }
        (sql.conditions.join(" AND "), sql.params)
    }
}

#[cfg(test)]
#[derive(Default)]
struct Sql {
    conditions: Vec<String>,
    params: Vec<Value>,
}

#[cfg(test)]
impl Sql {
    fn cond<const N: usize>(&mut self, condition: &str, params: [Value; N]) {
        self.conditions.push(condition.to_string());
        self.params.extend(params);
    }

    /// `column IN (?, …)`; the columns are declared `COLLATE NOCASE`, so `IN` ignores case.
    fn any_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let marks = vec!["?"; values.len()].join(", ");
        self.conditions.push(format!("{column} IN ({marks})"));
        self.params
            .extend(values.iter().map(|v| Value::Text(v.clone())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_filters_match_everything() {
        assert_eq!(Filters::default().to_sql(), ("1 = 1".to_string(), vec![]));
        assert!(Filters::default().is_empty());
    }

    #[test]
    fn conditions_and_parameters_line_up() {
        let f = Filters {
            bedrooms: Bounds {
                min: Some(2),
                max: Some(4),
            },
            communities: vec!["JVC".into(), "Dubai Marina".into()],
            furnished: Some(true),
            ..Filters::default()
        };
        let (sql, params) = f.to_sql();
        assert_eq!(
            sql,
            "l.bedrooms >= ? AND l.bedrooms <= ? AND l.community IN (?, ?) AND l.furnished = ?"
        );
        assert_eq!(params.len(), 5);
    }

    #[test]
    fn controls_win_over_text() {
        let controls = Filters {
            communities: vec!["JVC".into()],
            ..Filters::default()
        };
        let text = Filters {
            communities: vec!["Dubai Marina".into()],
            bedrooms: Bounds {
                min: Some(3),
                max: Some(3),
            },
            ..Filters::default()
        };
        let merged = controls.or(text);
        assert_eq!(merged.communities, vec!["JVC".to_string()]);
        assert_eq!(merged.bedrooms.min, Some(3));
    }
}
