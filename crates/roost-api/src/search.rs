//! Search on the device: the exact filters (from the filter controls or read from the query
//! text), what the parser understood, and the results. The device core computes them; the UI
//! shows and edits them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
}

/// The filters found in the text and the words left over.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParsedQuery {
    pub filters: Filters,
    pub residual: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: Uuid,
    /// Fused reciprocal-rank score; 0 for listings that only passed the filters.
    pub score: f64,
    /// Matching words in context, or the title.
    pub snippet: String,
}

/// Which signals ordered the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub keyword: bool,
    pub semantic: bool,
    /// Why semantic ranking was not used although there was text, e.g. no model on the device.
    pub semantic_unavailable: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Listings passing the filters.
    pub total: u64,
    pub ranking: Ranking,
    /// What the parser read from the text, for the UI to show as chips.
    pub parsed: ParsedQuery,
    /// The filters applied: the controls', completed from the text.
    pub filters: Filters,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacetCount<T> {
    pub value: T,
    pub count: u64,
}

/// Counts over a filtered set, for the filter controls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    pub property_types: Vec<FacetCount<String>>,
    pub communities: Vec<FacetCount<String>>,
    pub bedrooms: Vec<FacetCount<u16>>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
