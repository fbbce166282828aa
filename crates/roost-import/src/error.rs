use serde::Serialize;

/// The whole file was rejected. Displays as `"listings.csv: <what is wrong>"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {kind}")]
pub struct FileError {
    pub file: String,
    pub kind: FileErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileErrorKind {
    #[error("file is {size} bytes, over the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    #[error("file is empty")]
    Empty,
    #[error("file has a header row but no data rows")]
    NoDataRows,
    #[error("not a CSV or Excel file: {0}")]
    Binary(String),
    #[error("{0}")]
    Workbook(String),
    #[error("cannot read as CSV: {0}")]
    Csv(String),
    #[error("missing required columns: {}", .0.join("; "))]
    MissingColumns(Vec<String>),
    #[error("columns {} all map to `{field}`; keep one or map the others in the column mapping", quoted(.columns))]
    DuplicateColumns { field: String, columns: Vec<String> },
    #[error("column mapping: {0}")]
    Mapping(String),
    /// The JSON is not well-formed, or its outer shape is wrong.
    #[error("invalid JSON at line {line}, column {column}: {reason}")]
    JsonSyntax {
        line: usize,
        column: usize,
        reason: String,
    },
    /// The JSON is well-formed but a value is wrong; `path` is like `$.items[3].area`.
    #[error("{path}: {reason}")]
    Json { path: String, reason: String },
    /// A document (PDF, DOCX, text) that cannot be read or has no text.
    #[error("{0}")]
    Document(String),
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One problem with one item of a JSON array. Items with any error are left out
/// of the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemError {
    /// 0-based position in the array.
    pub index: usize,
    /// JSON path of the offending value, e.g. `$.items[3].median_price_per_sqft`.
    pub path: String,
    pub reason: String,
}

/// One problem with one row. Rows with any error are left out of the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based row as a spreadsheet shows it; the header is row 1.
    pub row: usize,
    /// Source header of the offending cell; `None` for whole-row problems.
    pub column: Option<String>,
    /// Canonical field the column maps to, if any.
    pub field: Option<String>,
    /// The cell text as found, or `None` when the value is missing.
    pub value: Option<String>,
    pub reason: String,
}
