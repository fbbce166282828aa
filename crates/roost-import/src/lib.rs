//! Parsing of tenant data imports, with every problem reported per row or item
//! rather than failing the whole file:
//!
//! - listings, clients and employees from CSV/TSV or Excel;
//! - market intelligence and agent resources from JSON;
//! - documents (PDF, DOCX, Markdown, text) into text chunks for retrieval.
//!
//! Pure: bytes in, typed records and errors out; no I/O, no async. The server
//! calls these from its import endpoints and decides what to store.
//!
//! ```
//! use roost_import::{ImportOptions, parse_properties};
//!
//! let csv = "Ref,Title,Price\nA-1,Marina flat,\"AED 1.2M\"\n";
//! let parsed = parse_properties(csv.as_bytes(), "listings.csv", &ImportOptions::default()).unwrap();
//! assert_eq!(parsed.records[0].price.minor_units, 120_000_000);
//! ```

mod client;
mod document;
mod employee;
mod error;
mod import;
mod json;
mod mapping;
mod options;
mod property;
mod row;
mod source;
pub mod values;

pub use client::{ClientField, ClientRecord, ClientStage};
pub use document::{Chunk, Document, DocumentFormat, DocumentOptions};
pub use employee::{EmployeeField, EmployeeRecord, Role};
pub use error::{FileError, FileErrorKind, ItemError, RowError};
pub use import::ParsedImport;
pub use json::ParsedItems;
pub use json::market::MarketRecord;
pub use json::resources::ResourceRecord;
pub use mapping::{ColumnBinding, Field, Target, normalise_header};
pub use options::{ColumnMapping, ImportOptions, MappingError};
pub use property::{Attribute, ListingStatus, PropertyField, PropertyRecord};
pub use source::{SourceFormat, TextEncoding};
pub use values::{Currency, DateOrder, DecimalMark, Period, Phone, Price, Size, SizeUnit};

/// Parses a listings file (CSV/TSV in any common encoding, XLSX or XLS, detected
/// by content). `file_name` is only used in error messages.
pub fn parse_properties(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedImport<PropertyRecord, PropertyField>, FileError> {
    import::run::<property::Properties>(bytes, file_name, opts)
}

/// Parses a clients file (CSV/TSV or Excel). Each row needs an id, a name and
/// at least one of email, phone or WhatsApp; emails and phones are checked.
///
/// ```
/// use roost_import::{ImportOptions, parse_clients};
///
/// let csv = "Client Ref;Full Name;Mobile;Budget (AED);Assigned Agent\n\
///            C-1;Layla Haddad;+971 50 123 4567;1.5M - 2M;sara@agency.ae\n";
/// let parsed = parse_clients(csv.as_bytes(), "clients.csv", &ImportOptions::default()).unwrap();
/// let c = &parsed.records[0];
/// assert_eq!(c.phone.as_ref().unwrap().number, "+971501234567");
/// assert_eq!(c.budget_max.unwrap().minor_units, 200_000_000);
/// assert_eq!(c.agent_email.as_deref(), Some("sara@agency.ae"));
/// ```
pub fn parse_clients(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedImport<ClientRecord, ClientField>, FileError> {
    import::run::<client::Clients>(bytes, file_name, opts)
}

/// Parses an employees (agent profiles) file (CSV/TSV or Excel). The email is
/// the key and must be unique ignoring case; the role defaults to agent.
pub fn parse_employees(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedImport<EmployeeRecord, EmployeeField>, FileError> {
    import::run::<employee::Employees>(bytes, file_name, opts)
}

/// Parses market intelligence JSON: `{ "items": [...] }` (optionally with
/// document-wide `currency` and `source`) or a bare array. Every problem names
/// its JSON path, e.g. `$.items[3].median_price_per_sqft`; bad items are left
/// out and reported, the rest import. `opts.default_currency` applies to
/// amounts that name none; `opts.max_bytes` caps the file.
///
/// ```
/// use roost_import::{ImportOptions, parse_market_intelligence};
///
/// let json = r#"{"currency": "AED", "items": [
///     {"area": "JVC", "city": "Dubai", "period": "2026-Q3", "property_type": "Apartment",
///      "bedrooms": 2, "median_price_per_sqft": 1210, "transactions": 312}
/// ]}"#;
/// let parsed = parse_market_intelligence(json.as_bytes(), "mi.json", &ImportOptions::default()).unwrap();
/// assert_eq!(
///     parsed.records[0].text,
///     "JVC, Dubai, Q3 2026, 2-bedroom apartment: median AED 1,210 per sq ft; 312 sales."
/// );
/// ```
pub fn parse_market_intelligence(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedItems<MarketRecord>, FileError> {
    json::market::parse(bytes, file_name, opts)
}

/// Parses agent resources JSON: `{ "resources": [...] }` or a bare array.
/// Problems name their JSON path; bad items are left out and reported.
pub fn parse_agent_resources(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedItems<ResourceRecord>, FileError> {
    json::resources::parse(bytes, file_name, opts)
}

/// Reads a document (PDF, DOCX, Markdown or plain text, detected by content;
/// the file name's extension only decides Markdown versus plain text) into its
/// text and chunks. A document without text, such as a scanned PDF, is an
/// error: OCR is not supported.
pub fn parse_document(
    bytes: &[u8],
    file_name: &str,
    opts: &DocumentOptions,
) -> Result<Document, FileError> {
    document::parse(bytes, file_name, opts)
}
