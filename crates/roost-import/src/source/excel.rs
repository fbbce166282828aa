//! XLSX and legacy XLS through calamine.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{Data, Range, Reader, Xls, Xlsx};

use super::{Cell, Row, SourceFormat, Table, into_table};
use crate::error::FileErrorKind;
use crate::values::Date;

pub fn read_xlsx(bytes: &[u8]) -> Result<(SourceFormat, Table), FileErrorKind> {
    let (sheet, table) = guarded(|| {
        let book: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
            .map_err(|e| FileErrorKind::Workbook(format!("not a readable XLSX workbook: {e}")))?;
        first_sheet(book)
    })?;
    Ok((SourceFormat::Xlsx { sheet }, table))
}

pub fn read_xls(bytes: &[u8]) -> Result<(SourceFormat, Table), FileErrorKind> {
    let (sheet, table) = guarded(|| {
        let book: Xls<_> = Xls::new(Cursor::new(bytes))
            .map_err(|e| FileErrorKind::Workbook(format!("not a readable XLS workbook: {e}")))?;
        first_sheet(book)
    })?;
    Ok((SourceFormat::Xls { sheet }, table))
}

/// calamine parses untrusted binary formats; a panic inside it must become an
/// error for this upload, not take down the request.
fn guarded<T>(f: impl FnOnce() -> Result<T, FileErrorKind>) -> Result<T, FileErrorKind> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(FileErrorKind::Workbook(
            "the workbook is malformed".to_string(),
        ))
    })
}

/// The first worksheet with any text in it.
fn first_sheet<RS, R>(mut book: R) -> Result<(String, Table), FileErrorKind>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| FileErrorKind::Workbook(format!("cannot read sheet {name:?}: {e}")))?;
        match into_table(to_rows(&range)) {
            Ok(table) => return Ok((name, table)),
            Err(FileErrorKind::Empty) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(FileErrorKind::Empty)
}

fn to_rows(range: &Range<Data>) -> Vec<Row> {
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    range
        .rows()
        .enumerate()
        .map(|(i, cells)| Row {
            number: first_row + i + 1,
            cells: cells.iter().map(cell).collect(),
        })
        .collect()
}

fn cell(data: &Data) -> Cell {
    match data {
        Data::Int(i) => number(i.to_string()),
        Data::Float(f) => number(format_float(*f)),
        Data::String(s) => Cell::text(s.clone()),
        Data::Bool(b) => Cell::text(if *b { "true" } else { "false" }),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
            let date =
                Date::new(y, m, d).map_or_else(|| format_float(dt.as_f64()), |d| d.to_string());
            if (hh, mm, ss) == (0, 0, 0) {
                Cell::text(date)
            } else {
                Cell::text(format!("{date}T{hh:02}:{mm:02}:{ss:02}"))
            }
        }
        Data::DateTime(dt) => number(format_float(dt.as_f64())),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::text(s.clone()),
        Data::Error(e) => Cell::text(e.to_string()),
        Data::Empty => Cell::default(),
    }
}

fn number(text: String) -> Cell {
    Cell {
        text,
        from_number: true,
    }
}

/// Formats like Excel shows a General cell: integers without `.0`, and at most 15
/// significant digits so binary noise (`0.30000000000000004`) disappears.
fn format_float(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    let magnitude = if f == 0.0 {
        0
    } else {
        f.abs().log10().floor() as i32
    };
    let decimals = (14 - magnitude).clamp(0, 15) as usize;
    let s = format!("{f:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_like_excel() {
        assert_eq!(format_float(1_200_000.0), "1200000");
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(0.1 + 0.2), "0.3");
        assert_eq!(format_float(25.197_2), "25.1972");
        assert_eq!(format_float(-55.274_4), "-55.2744");
        assert_eq!(format_float(1250.5), "1250.5");
        assert_eq!(format_float(1e20), "100000000000000000000");
    }
}
