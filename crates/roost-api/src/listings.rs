use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;

/// An amount in the currency's minor units (ISO 4217 exponent: fils, cents), so sums and
/// comparisons are exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Price {
    pub amount_minor: i64,
    /// ISO 4217 code, e.g. `AED`.
    pub currency: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AreaUnit {
    Sqft,
    Sqm,
}

/// A size as the source gave it; `sqft` is the same size in square feet, for filtering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Area {
    pub value: f64,
    pub unit: AreaUnit,
    pub sqft: f64,
}

pub const SQFT_PER_SQM: f64 = 10.763_910_416_709_722;

impl Area {
    pub fn new(value: f64, unit: AreaUnit) -> Area {
        let sqft = match unit {
            AreaUnit::Sqft => value,
            AreaUnit::Sqm => value * SQFT_PER_SQM,
        };
        Area { value, unit, sqft }
    }
}

/// One property listing of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Listing {
    /// Roost's id, stable across re-imports.
    pub id: Uuid,
    /// The company's own reference (the file's id column).
    pub external_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub price: Option<Price>,
    pub bedrooms: Option<u16>,
    pub bathrooms: Option<f32>,
    pub size: Option<Area>,
    pub property_type: Option<String>,
    /// Community or area, e.g. "Arabian Ranches".
    pub community: Option<String>,
    pub city: Option<String>,
    /// e.g. "for sale", "for rent", "sold", "off-plan".
    pub status: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub furnished: Option<bool>,
    pub photos: Vec<String>,
    /// ISO date `YYYY-MM-DD`.
    pub listed_at: Option<String>,
    /// Columns of the source that have no field of their own, by their original header.
    pub attributes: BTreeMap<String, String>,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListingPage {
    pub listings: Vec<Listing>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
    /// Live listings of the tenant.
    pub total: u64,
}
