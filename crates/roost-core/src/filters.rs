//! Exact structured filters, from the filter controls or parsed from the query text, applied
//! before any ranking. The types live in `roost_api::search` (the UI edits them); search
//! evaluates them over in-memory columns (`columns.rs`), and the SQL form here, used by the
//! tests as the reference, defines what they mean.

#[cfg(test)]
use rusqlite::types::Value;

pub use roost_api::search::{Bounds, Filters, PriceRange};

/// The SQL meaning of the filters, for checking the in-memory columns against.
#[cfg(test)]
pub(crate) trait FiltersSql {
    fn to_sql(&self) -> (String, Vec<Value>);
}

#[cfg(test)]
impl FiltersSql for Filters {
    /// A SQL condition over the listings table aliased `l`, and its parameters in order.
    fn to_sql(&self) -> (String, Vec<Value>) {
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
}
