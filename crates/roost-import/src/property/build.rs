//! One row → one `PropertyRecord`, or the list of what is wrong with it.

use super::{Attribute, ListingStatus, PropertyField as F, PropertyRecord};
use crate::error::RowError;
use crate::import::{Entity, Settings};
use crate::mapping::{ColumnBinding, Field, Target, currency_in_header};
use crate::source::{Cell, Row};
use crate::values::{
    Currency, DecimalMark, ParsedPrice, Price, SizeUnit, is_absent, parse_bathrooms,
    parse_bedrooms, parse_bool, parse_date, parse_latitude, parse_longitude, parse_photos,
    parse_price, parse_size,
};

pub(crate) struct Properties;

impl Entity for Properties {
    type Field = F;
    type Record = PropertyRecord;
    const REQUIRED: &'static [&'static [F]] =
        &[&[F::Id], &[F::Price], &[F::Title, F::PropertyType]];
    const KEY: F = F::Id;

    fn build(
        settings: &Settings,
        row: &Row,
        columns: &[ColumnBinding<F>],
    ) -> Result<PropertyRecord, Vec<RowError>> {
        let mut draft = Draft {
            settings,
            row: row.number,
            errors: Vec::new(),
            record: PropertyRecord {
                row: row.number,
                id: String::new(),
                title: None,
                description: None,
                price: Price {
                    minor_units: 0,
                    // Overwritten by `resolve_price`; a row without a price fails.
                    currency: Currency::USD,
                },
                bedrooms: None,
                bathrooms: None,
                half_bathrooms: None,
                size: None,
                property_type: None,
                community: None,
                city: None,
                status: None,
                latitude: None,
                longitude: None,
                furnished: None,
                photos: Vec::new(),
                listed_at: None,
                attributes: Vec::new(),
            },
            price: None,
            currency: None,
        };
        for column in columns {
            let Some(cell) = row.cells.get(column.index) else {
                continue;
            };
            if is_absent(&cell.text) {
                continue;
            }
            match column.target {
                Target::Attribute => draft.record.attributes.push(Attribute {
                    column: column.column.clone(),
                    value: cell.text.trim().to_string(),
                }),
                Target::Field(field) => {
                    if let Err(reason) = draft.apply(field, column, cell) {
                        draft.error(Some(column), Some(field), Some(&cell.text), reason);
                    }
                }
            }
        }
        draft.finish(columns)
    }
}

struct Draft<'a> {
    settings: &'a Settings,
    row: usize,
    errors: Vec<RowError>,
    record: PropertyRecord,
    /// Price and currency are combined at the end, whichever column comes first.
    price: Option<(ParsedPrice, Option<Currency>, String)>,
    currency: Option<Currency>,
}

impl Draft<'_> {
    fn apply(&mut self, field: F, column: &ColumnBinding<F>, cell: &Cell) -> Result<(), String> {
        let text = cell.text.trim();
        let mark = if cell.from_number {
            DecimalMark::Point
        } else {
            self.settings.decimal_mark
        };
        let r = &mut self.record;
        match field {
            F::Id => r.id = text.to_string(),
            F::Title => r.title = Some(one_line_breaks(text)),
            F::Description => r.description = Some(one_line_breaks(text)),
            F::PropertyType => r.property_type = Some(text.to_string()),
            F::Community => r.community = Some(text.to_string()),
            F::City => r.city = Some(text.to_string()),
            F::Price => {
                let parsed = parse_price(text, mark)?;
                self.price = Some((parsed, currency_in_header(&column.column), text.to_string()));
            }
            F::Currency => {
                self.currency =
                    Some(Currency::parse(text).ok_or(format!("unknown currency {text:?}"))?);
            }
            F::Bedrooms => r.bedrooms = Some(parse_bedrooms(text)?),
            F::Bathrooms => {
                let b = parse_bathrooms(text)?;
                r.bathrooms = Some(b.full);
                r.half_bathrooms = Some(b.half);
            }
            F::Size => {
                let unit = unit_in_header(&column.column).or(self.settings.size_unit);
                r.size = Some(parse_size(text, unit, mark)?);
            }
            F::Status => {
                r.status = Some(ListingStatus::parse(text).ok_or(
                    "unknown status; expected for sale, for rent, off-plan, under offer, sold, rented or withdrawn",
                )?);
            }
            F::Latitude => r.latitude = Some(parse_latitude(text)?),
            F::Longitude => r.longitude = Some(parse_longitude(text)?),
            F::Furnished => r.furnished = Some(parse_bool(text)?),
            F::Photos => r.photos = parse_photos(text)?,
            F::ListedAt => r.listed_at = Some(parse_date(text, self.settings.date_order)?),
        }
        Ok(())
    }

    fn error(
        &mut self,
        column: Option<&ColumnBinding<F>>,
        field: Option<F>,
        value: Option<&str>,
        reason: impl Into<String>,
    ) {
        self.errors.push(RowError {
            row: self.row,
            column: column.map(|c| c.column.clone()),
            field: field.map(|f| f.name().to_string()),
            value: value.map(str::to_string),
            reason: reason.into(),
        });
    }

    fn finish(mut self, columns: &[ColumnBinding<F>]) -> Result<PropertyRecord, Vec<RowError>> {
        let column_of = |f: F| columns.iter().find(|c| c.target == Target::Field(f));
        let failed =
            |errors: &[RowError], f: F| errors.iter().any(|e| e.field.as_deref() == Some(f.name()));

        if self.record.id.is_empty() && !failed(&self.errors, F::Id) {
            self.error(column_of(F::Id), Some(F::Id), None, "id is required");
        }
        match self.price.take() {
            Some((parsed, header_currency, text)) => {
                self.resolve_price(parsed, header_currency, column_of(F::Price), &text)
            }
            None if !failed(&self.errors, F::Price) => {
                self.error(
                    column_of(F::Price),
                    Some(F::Price),
                    None,
                    "price is required",
                );
            }
            None => {}
        }
        let r = &self.record;
        if r.title.is_none() && r.property_type.is_none() {
            self.error(
                None,
                Some(F::Title),
                None,
                "needs a title or a property type",
            );
        }
        let r = &self.record;
        match (r.latitude, r.longitude) {
            (Some(_), None) | (None, Some(_))
                if !failed(&self.errors, F::Latitude) && !failed(&self.errors, F::Longitude) =>
            {
                self.error(
                    None,
                    Some(F::Latitude),
                    None,
                    "latitude and longitude must be given together",
                );
            }
            (Some(lat), Some(lng)) if lat == 0.0 && lng == 0.0 => {
                self.error(
                    column_of(F::Latitude),
                    Some(F::Latitude),
                    Some("0"),
                    "coordinates 0,0 are a placeholder, not a location",
                );
            }
            _ => {}
        }

        if self.errors.is_empty() {
            Ok(self.record)
        } else {
            Err(self.errors)
        }
    }

    /// The price cell's own currency wins; a currency column or header that
    /// disagrees with it is an error; otherwise the first of currency column,
    /// header, mapping default, tenant default.
    fn resolve_price(
        &mut self,
        parsed: ParsedPrice,
        header: Option<Currency>,
        column: Option<&ColumnBinding<F>>,
        text: &str,
    ) {
        let cell_text = Some(text);
        let stated = [parsed.currency, self.currency, header];
        let mut found: Option<Currency> = None;
        for c in stated.into_iter().flatten() {
            match found {
                Some(f) if f != c => {
                    self.error(
                        column,
                        Some(F::Price),
                        cell_text,
                        format!("conflicting currencies {f} and {c}"),
                    );
                    return;
                }
                _ => found = Some(c),
            }
        }
        let Some(currency) = found.or(self.settings.currency) else {
            self.error(
                column,
                Some(F::Price),
                cell_text,
                "price has no currency and no default currency is set",
            );
            return;
        };
        match Price::new(parsed.amount, currency) {
            Ok(price) => self.record.price = price,
            Err(reason) => self.error(column, Some(F::Price), cell_text, reason),
        }
    }
}

/// Windows line breaks inside quoted cells become `\n`.
fn one_line_breaks(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// `Size (sqm)`, `Area m2`, `Sq Ft`, `BUA sqft`.
fn unit_in_header(header: &str) -> Option<SizeUnit> {
    let key: String = header
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '²')
        .flat_map(char::to_lowercase)
        .collect();
    let sqm = ["sqm", "m2", "m²", "sqmt", "squaremet", "metre", "meter"];
    let sqft = ["sqft", "ft2", "ft²", "squarefe", "squarefoot", "feet"];
    if sqft.iter().any(|s| key.contains(s)) {
        Some(SizeUnit::Sqft)
    } else if sqm.iter().any(|s| key.contains(s)) {
        Some(SizeUnit::Sqm)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_hints() {
        assert_eq!(unit_in_header("Size (sqm)"), Some(SizeUnit::Sqm));
        assert_eq!(unit_in_header("Area m2"), Some(SizeUnit::Sqm));
        assert_eq!(unit_in_header("Sq Ft"), Some(SizeUnit::Sqft));
        assert_eq!(unit_in_header("Size (m²)"), Some(SizeUnit::Sqm));
        assert_eq!(unit_in_header("Size"), None);
    }
}
