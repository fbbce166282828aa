use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;
use crate::listings::Listing;

/// What a file holds: listings and clients (CSV/Excel), employees (CSV/Excel), market
/// intelligence and agent resources (JSON), documents (PDF, DOCX, Markdown, text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Properties,
    Clients,
    Employees,
    MarketIntelligence,
    AgentResources,
    Documents,
}

impl ImportKind {
    pub const ALL: [ImportKind; 6] = [
        ImportKind::Properties,
        ImportKind::Clients,
        ImportKind::Employees,
        ImportKind::MarketIntelligence,
        ImportKind::AgentResources,
        ImportKind::Documents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Properties => "properties",
            ImportKind::Clients => "clients",
            ImportKind::Employees => "employees",
            ImportKind::MarketIntelligence => "market_intelligence",
            ImportKind::AgentResources => "agent_resources",
            ImportKind::Documents => "documents",
        }
    }

    pub fn parse(s: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `strict` (the default) stores nothing when any row is invalid; `lenient` stores the valid
/// rows and reports the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    #[default]
    Strict,
    Lenient,
}

/// `upsert` (the default) adds and updates by the file's id; `replace` also removes listings
/// absent from the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    #[default]
    Upsert,
    Replace,
}

/// How one source column was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnMapping {
    pub column: String,
    /// The listing field, or `attribute` for a column kept as a listing attribute.
    pub field: String,
}

/// One problem with one cell or row. Rows count as a spreadsheet user counts them: the header
/// is row 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowProblem {
    pub row: u64,
    pub column: Option<String>,
    pub field: Option<String>,
    pub value: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Removed by `replace` (kept as tombstones for sync).
    pub deleted: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Dry run: parsed and checked, nothing stored.
    Previewed,
    /// Stored.
    Committed,
    /// Refused as a whole (strict mode with problems, a tier limit); nothing stored.
    Rejected,
}

/// The answer to an import, dry run or not; also kept and served at `GET /imports/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub id: Uuid,
    pub kind: ImportKind,
    pub file_name: String,
    pub status: ImportStatus,
    pub dry_run: bool,
    pub validation: Validation,
    pub mode: ImportMode,
    /// e.g. `csv (delimiter ';', windows-1252)` or `xlsx (sheet "Listings")`.
    pub format: String,
    pub mapping: Vec<ColumnMapping>,
    pub rows_total: u64,
    pub rows_valid: u64,
    pub rows_rejected: u64,
    /// Every problem found (capped at 1,000; `problems_total` has the full count).
    pub problems: Vec<RowProblem>,
    pub problems_total: u64,
    /// The first listings as they will be stored (property imports).
    pub preview: Vec<Listing>,
    /// The first records of other kinds, as parsed.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub records_preview: Vec<serde_json::Value>,
    pub stored: Option<StoreCounts>,
    /// Why the whole file was refused, when `status` is `rejected`.
    pub rejected_because: Option<String>,
    /// How far the stored listings are through embedding (filled in when the report is read).
    #[serde(default)]
    pub embedding: Option<EmbeddingProgress>,
    pub created_at: Millis,
}

/// Embedding runs after the import commits, off the request path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmbeddingProgress {
    /// The model the vectors are made with, e.g. `all-MiniLM-L6-v2-w8a8`.
    pub model: String,
    /// Live listings this import wrote.
    pub total: u64,
    /// Of those, how many have their embedding.
    pub embedded: u64,
}
