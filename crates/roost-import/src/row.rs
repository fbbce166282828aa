//! Helpers shared by the row builders of clients and employees: walking a
//! row's cells and collecting what is wrong with them.

use crate::error::RowError;
use crate::import::Settings;
use crate::mapping::{ColumnBinding, Field, Target, currency_in_header};
use crate::property::Attribute;
use crate::source::{Cell, Row};
use crate::values::{Currency, DecimalMark, ParsedPrice, Price, is_absent, parse_price};

/// The problems found in one row so far.
pub(crate) struct Problems<'a, F: Field> {
    row: usize,
    columns: &'a [ColumnBinding<F>],
    pub errors: Vec<RowError>,
}

impl<'a, F: Field> Problems<'a, F> {
    pub fn new(row: usize, columns: &'a [ColumnBinding<F>]) -> Self {
        Problems {
            row,
            columns,
            errors: Vec::new(),
        }
    }

    pub fn column_of(&self, field: F) -> Option<&'a ColumnBinding<F>> {
        self.columns
            .iter()
            .find(|c| c.target == Target::Field(field))
    }

    /// Records a problem with `field`, naming its column when the file has one.
    pub fn add(&mut self, field: F, value: Option<&str>, reason: impl Into<String>) {
        let column = self.column_of(field).map(|c| c.column.clone());
        self.errors.push(RowError {
            row: self.row,
            column,
            field: Some(field.name().to_string()),
            value: value.map(str::to_string),
            reason: reason.into(),
        });
    }

    /// A problem of the whole row, such as a missing contact.
    pub fn add_row(&mut self, field: Option<F>, reason: impl Into<String>) {
        self.errors.push(RowError {
            row: self.row,
            column: None,
            field: field.map(|f| f.name().to_string()),
            value: None,
            reason: reason.into(),
        });
    }

    pub fn failed(&self, field: F) -> bool {
        self.errors
            .iter()
            .any(|e| e.field.as_deref() == Some(field.name()))
    }

    pub fn finish<R>(self, record: R) -> Result<R, Vec<RowError>> {
        if self.errors.is_empty() {
            Ok(record)
        } else {
            Err(self.errors)
        }
    }
}

/// Calls `apply` for every present mapped cell and keeps unmapped ones as
/// attributes. A failing `apply` becomes an error naming the cell.
pub(crate) fn walk<F: Field>(
    row: &Row,
    problems: &mut Problems<'_, F>,
    attributes: &mut Vec<Attribute>,
    mut apply: impl FnMut(F, &ColumnBinding<F>, &Cell) -> Result<(), String>,
) {
    for column in problems.columns {
        let Some(cell) = row.cells.get(column.index) else {
            continue;
        };
        if is_absent(&cell.text) {
            continue;
        }
        match column.target {
            Target::Attribute => attributes.push(Attribute {
                column: column.column.clone(),
                value: cell.text.trim().to_string(),
            }),
            Target::Field(field) => {
                if let Err(reason) = apply(field, column, cell) {
                    problems.errors.push(RowError {
                        row: row.number,
                        column: Some(column.column.clone()),
                        field: Some(field.name().to_string()),
                        value: Some(cell.text.clone()),
                        reason,
                    });
                }
            }
        }
    }
}

/// Numeric spreadsheet cells have a point as decimal mark whatever the locale.
pub(crate) fn decimal_mark(settings: &Settings, cell: &Cell) -> DecimalMark {
    if cell.from_number {
        DecimalMark::Point
    } else {
        settings.decimal_mark
    }
}

/// Windows line breaks inside quoted cells become `\n`.
pub(crate) fn one_line_breaks(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// A money cell read but not yet given its currency, which may come from
/// another column.
#[derive(Debug, Clone)]
pub(crate) struct PendingMoney {
    pub parsed: ParsedPrice,
    pub header_currency: Option<Currency>,
    pub text: String,
}

impl PendingMoney {
    pub fn read(text: &str, column: &str, mark: DecimalMark) -> Result<PendingMoney, String> {
        Ok(PendingMoney {
            parsed: parse_price(text, mark)?,
            header_currency: currency_in_header(column),
            text: text.to_string(),
        })
    }

    /// The cell's own currency, then a currency column, then the header, then
    /// the defaults; stated currencies that disagree are an error.
    pub fn resolve(self, column: Option<Currency>, settings: &Settings) -> Result<Price, String> {
        let mut found: Option<Currency> = None;
        for c in [self.parsed.currency, column, self.header_currency]
            .into_iter()
            .flatten()
        {
            match found {
                Some(f) if f != c => return Err(format!("conflicting currencies {f} and {c}")),
                _ => found = Some(c),
            }
        }
        let currency = found
            .or(settings.currency)
            .ok_or("amount has no currency and no default currency is set")?;
        Price::new(self.parsed.amount, currency)
    }
}
