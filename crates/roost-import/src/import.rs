//! The entity-independent part of an import: bytes → table → columns → rows.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::error::{FileError, FileErrorKind, RowError};
use crate::mapping::{self, ColumnBinding, Field, Target};
use crate::options::ImportOptions;
use crate::source::{self, Row, SourceFormat};
use crate::values::{Currency, DateOrder, DecimalMark, SizeUnit, is_absent};

/// The outcome of reading one file: what it was, how its columns were read, the
/// rows that passed and every problem with the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(bound(serialize = "R: Serialize"))]
pub struct ParsedImport<R, F: Field> {
    pub format: SourceFormat,
    /// Every source column in file order with its target.
    pub columns: Vec<ColumnBinding<F>>,
    pub records: Vec<R>,
    /// Sorted by row; a row appears here if and only if it is not in `records`.
    pub errors: Vec<RowError>,
    /// Non-blank data rows seen.
    pub rows_read: usize,
}

/// Settings after the saved mapping has overridden the tenant defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub currency: Option<Currency>,
    pub size_unit: Option<SizeUnit>,
    pub decimal_mark: DecimalMark,
    pub date_order: DateOrder,
}

impl Settings {
    fn new(opts: &ImportOptions) -> Settings {
        let m = opts.mapping.as_ref();
        Settings {
            currency: m.and_then(|m| m.default_currency).or(opts.default_currency),
            size_unit: m.and_then(|m| m.size_unit).or(opts.default_size_unit),
            decimal_mark: m.and_then(|m| m.decimal_mark).unwrap_or(opts.decimal_mark),
            date_order: m.and_then(|m| m.date_order).unwrap_or(opts.date_order),
        }
    }
}

/// What an importable entity supplies.
pub(crate) trait Entity {
    type Field: Field;
    type Record;
    /// Groups of which at least one field must be a column.
    const REQUIRED: &'static [&'static [Self::Field]];
    /// Field that must be unique within a file.
    const KEY: Self::Field;

    /// The form in which two keys are compared: emails ignore case, so
    /// `A@x.com` and `a@x.com` are one employee.
    fn key_form(text: &str) -> String {
        text.trim().to_string()
    }

    fn build(
        settings: &Settings,
        row: &Row,
        columns: &[ColumnBinding<Self::Field>],
    ) -> Result<Self::Record, Vec<RowError>>;
}

pub(crate) fn run<E: Entity>(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedImport<E::Record, E::Field>, FileError> {
    let fail = |kind| FileError {
        file: file_name.to_string(),
        kind,
    };
    if bytes.len() > opts.max_bytes {
        return Err(fail(FileErrorKind::TooLarge {
            size: bytes.len(),
            max: opts.max_bytes,
        }));
    }
    let (format, table) = source::read_table(bytes).map_err(fail)?;
    let columns = mapping::resolve::<E::Field>(&table.headers, &table.rows, opts.mapping.as_ref())
        .map_err(fail)?;
    mapping::check_required(&columns, E::REQUIRED).map_err(fail)?;

    let settings = Settings::new(opts);
    let mut built: Vec<(usize, Option<E::Record>)> = Vec::with_capacity(table.rows.len());
    let mut errors = Vec::new();
    for row in &table.rows {
        let outcome = match ragged(row, columns.len()) {
            Some(e) => Err(vec![e]),
            None => E::build(&settings, row, &columns),
        };
        match outcome {
            Ok(record) => built.push((row.number, Some(record))),
            Err(mut e) => {
                errors.append(&mut e);
                built.push((row.number, None));
            }
        }
    }

    let duplicates = duplicate_keys::<E>(&table.rows, &columns);
    let dropped: HashSet<usize> = duplicates.iter().map(|e| e.row).collect();
    for entry in &mut built {
        if dropped.contains(&entry.0) {
            entry.1 = None;
        }
    }
    errors.extend(duplicates);
    errors.sort_by_key(|e| e.row);

    Ok(ParsedImport {
        format,
        columns,
        records: built.into_iter().filter_map(|(_, r)| r).collect(),
        errors,
        rows_read: table.rows.len(),
    })
}

/// A row with more or fewer cells than the header. Extra cells that are blank
/// (a trailing delimiter) are tolerated.
fn ragged(row: &Row, width: usize) -> Option<RowError> {
    let extra_blank = row
        .cells
        .iter()
        .skip(width)
        .all(|c| c.text.trim().is_empty());
    if row.cells.len() == width || (row.cells.len() > width && extra_blank) {
        return None;
    }
    Some(RowError {
        row: row.number,
        column: None,
        field: None,
        value: None,
        reason: format!(
            "row has {} cells but the header has {width} columns",
            row.cells.len()
        ),
    })
}

/// Every row whose key is shared with another row, each naming the others, so
/// neither copy is imported by guesswork.
fn duplicate_keys<E: Entity>(rows: &[Row], columns: &[ColumnBinding<E::Field>]) -> Vec<RowError> {
    let key = E::KEY;
    let Some(col) = columns.iter().find(|c| c.target == Target::Field(key)) else {
        return Vec::new();
    };
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    for row in rows {
        if let Some(cell) = row.cells.get(col.index)
            && !is_absent(&cell.text)
        {
            seen.entry(E::key_form(&cell.text))
                .or_default()
                .push(row.number);
        }
    }
    let mut out = Vec::new();
    for (value, numbers) in seen {
        if numbers.len() < 2 {
            continue;
        }
        for &n in &numbers {
            let others: Vec<usize> = numbers.iter().copied().filter(|&o| o != n).collect();
            out.push(RowError {
                row: n,
                column: Some(col.column.clone()),
                field: Some(key.name().to_string()),
                value: Some(value.to_string()),
                reason: format!(
                    "duplicate {} {value:?}, also on {}",
                    key.name(),
                    row_list(&others)
                ),
            });
        }
    }
    out
}

/// `row 3`, `rows 3, 7`, or `rows 3, 7, 9, 12, 15 and 40 more`.
fn row_list(rows: &[usize]) -> String {
    const SHOWN: usize = 5;
    let listed: Vec<String> = rows.iter().take(SHOWN).map(ToString::to_string).collect();
    let noun = if rows.len() == 1 { "row" } else { "rows" };
    match rows.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{noun} {} and {more} more", listed.join(", ")),
        _ => format!("{noun} {}", listed.join(", ")),
    }
}
