//! Parsing of tenant data imports: listings from CSV or Excel, with every
//! problem reported per row rather than failing the whole file.
//!
//! Pure: bytes in, typed records and errors out; no I/O, no async. The server
//! calls [`parse_properties`] from its import endpoint and decides what to store.
//!
//! ```
//! use roost_import::{ImportOptions, parse_properties};
//!
//! let csv = "Ref,Title,Price\nA-1,Marina flat,\"AED 1.2M\"\n";
//! let parsed = parse_properties(csv.as_bytes(), "listings.csv", &ImportOptions::default()).unwrap();
//! assert_eq!(parsed.records[0].price.minor_units, 120_000_000);
//! ```

mod error;
mod import;
mod mapping;
mod options;
mod property;
mod source;
pub mod values;

pub use error::{FileError, FileErrorKind, RowError};
pub use import::ParsedImport;
pub use mapping::{ColumnBinding, Field, Target, normalise_header};
pub use options::{ColumnMapping, ImportOptions, MappingError};
pub use property::{Attribute, ListingStatus, PropertyField, PropertyRecord};
pub use source::{SourceFormat, TextEncoding};
pub use values::{Currency, DateOrder, DecimalMark, Price, Size, SizeUnit};

/// Parses a listings file (CSV/TSV in any common encoding, XLSX or XLS, detected
/// by content). `file_name` is only used in error messages.
pub fn parse_properties(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedImport<PropertyRecord, PropertyField>, FileError> {
    import::run::<property::Properties>(bytes, file_name, opts)
}
