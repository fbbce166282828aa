//! The JSON files `POST /imports/market_intelligence` and `/imports/agent_resources` take,
//! as documentation: the server parses them with `roost-import` (which also accepts a bare
//! array of items, amounts as numbers or strings such as `"AED 1.15M"`, and percentages as
//! `6.5` or `"6.5%"`). A test keeps these shapes and the parser in agreement.

use serde::{Deserialize, Serialize};

/// A market intelligence file: figures per area and period, what agents are asked about
/// ("what did 2-beds in JVC sell for per sqft last quarter?").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarketIntelligenceFile {
    /// ISO 4217 code for amounts that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Where the figures come from, for every item that names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub items: Vec<MarketItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarketItem {
    /// Community or area, e.g. "Jumeirah Village Circle" (required).
    pub area: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// `2026-Q3`, `2026-09`, `2026-H1`, `2026`, or `{ "from": "2026-09-01", "to": "2026-09-30" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub period: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_type: Option<String>,
    /// A count, or `"studio"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub bedrooms: Option<serde_json::Value>,
    /// Amounts: a number in `currency`, or a string such as `"AED 1.15M"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub median_price: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub median_price_per_sqft: Option<serde_json::Value>,
    /// Yearly rent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub average_rent: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Percent, e.g. `7.4` or `"7.4%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub gross_yield_pct: Option<serde_json::Value>,
    /// Sales in the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactions: Option<u32>,
    /// Change against the previous period, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub price_change_pct: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_on_market: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// An agent resources file: guides, scripts and policies for the team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentResourcesFile {
    pub resources: Vec<ResourceItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceItem {
    /// Stable id for re-imports; derived from the title when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub title: String,
    /// Markdown allowed.
    pub body: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Roles that may see it (`agent`, `manager`, `admin`); everyone when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}
