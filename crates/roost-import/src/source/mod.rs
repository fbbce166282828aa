//! Turns uploaded bytes into a `Table`: a header row and data rows of text cells,
//! whatever the file format.

mod delimited;
mod excel;
mod sniff;
mod text;

use serde::Serialize;

use crate::error::FileErrorKind;
pub use text::TextEncoding;
pub(crate) use text::decode as decode_text;

/// One cell as text. `from_number` marks spreadsheet numeric cells, whose text we
/// produced ourselves and which therefore has no thousands separators.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    pub text: String,
    pub from_number: bool,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            from_number: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based, as a spreadsheet shows it; the header is usually row 1.
    pub number: usize,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header_row: usize,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// What the file turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceFormat {
    Csv {
        delimiter: char,
        encoding: TextEncoding,
    },
    Xlsx {
        sheet: String,
    },
    Xls {
        sheet: String,
    },
}

pub fn read_table(bytes: &[u8]) -> Result<(SourceFormat, Table), FileErrorKind> {
    match sniff::sniff(bytes)? {
        sniff::Kind::Xlsx => excel::read_xlsx(bytes),
        sniff::Kind::Xls => excel::read_xls(bytes),
        sniff::Kind::Text => {
            let (content, encoding) = text::decode(bytes)?;
            let (delimiter, table) = delimited::read(&content)?;
            Ok((
                SourceFormat::Csv {
                    delimiter,
                    encoding,
                },
                table,
            ))
        }
    }
}

/// Builds a table from raw rows: the first row with any text is the header and
/// blank rows are dropped.
fn into_table(rows: impl IntoIterator<Item = Row>) -> Result<Table, FileErrorKind> {
    let mut rows = rows.into_iter().filter(|r| !is_blank(&r.cells));
    let header = rows.next().ok_or(FileErrorKind::Empty)?;
    let headers = header
        .cells
        .into_iter()
        .map(|c| c.text.trim().to_string())
        .collect();
    let rows: Vec<Row> = rows.collect();
    if rows.is_empty() {
        return Err(FileErrorKind::NoDataRows);
    }
    Ok(Table {
        header_row: header.number,
        headers,
        rows,
    })
}

fn is_blank(cells: &[Cell]) -> bool {
    cells.iter().all(|c| c.text.trim().is_empty())
}
