//! Delimited text (CSV, semicolon, tab, pipe).

use csv::{ReaderBuilder, StringRecord};

use super::{Cell, Row, Table, into_table};
use crate::error::FileErrorKind;

const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
const SAMPLE_RECORDS: usize = 20;

pub fn read(text: &str) -> Result<(char, Table), FileErrorKind> {
    let delimiter = detect_delimiter(text);
    let mut rows = Vec::new();
    // The csv crate skips blank lines and counts lines inside quoted cells; a
    // spreadsheet shows a blank line as a row and a multi-line cell as one row.
    // Row numbers in errors must match what the user sees, so count ourselves.
    let mut scanned = 0usize;
    let mut breaks = 0usize;
    let mut embedded = 0usize;
    for record in reader(text, delimiter).records() {
        let record = record.map_err(|e| FileErrorKind::Csv(e.to_string()))?;
        let start = record.position().map_or(scanned, |p| p.byte() as usize);
        let content = text.get(start..).map_or(start, |rest| {
            start + rest.len() - rest.trim_start_matches(['\r', '\n']).len()
        });
        if let Some(between) = text.get(scanned..content) {
            breaks += line_breaks(between);
            scanned = content;
        }
        rows.push(Row {
            number: breaks + 1 - embedded.min(breaks),
            cells: record.iter().map(Cell::text).collect(),
        });
        embedded += record.iter().map(line_breaks).sum::<usize>();
    }
    Ok((char::from(delimiter), into_table(rows)?))
}

/// Counts `\r\n`, `\n` and lone `\r` as one line break each.
fn line_breaks(text: &str) -> usize {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count()
}

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
}

/// Picks the delimiter whose first records agree with the header's column
/// count most often, preferring more columns; a single column never wins.
fn detect_delimiter(text: &str) -> u8 {
    let mut best = (b',', 0usize, 0usize);
    for delimiter in CANDIDATES {
        let counts: Vec<usize> = reader(text, delimiter)
            .records()
            .take(SAMPLE_RECORDS)
            .map_while(Result::ok)
            .map(|r: StringRecord| r.len())
            .collect();
        let Some((&header, rest)) = counts.split_first() else {
            continue;
        };
        if header < 2 {
            continue;
        }
        let agreeing = rest.iter().filter(|&&n| n == header).count();
        // Percentage so files with one data row compare fairly.
        let score = if rest.is_empty() {
            100
        } else {
            agreeing * 100 / rest.len()
        };
        if (score, header) > (best.1, best.2) {
            best = (delimiter, score, header);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_delimiters() {
        assert_eq!(detect_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter("a;b;c\n1,5;2;3\n"), b';');
        assert_eq!(detect_delimiter("a\tb\n\"x,y\"\t2\n"), b'\t');
        assert_eq!(detect_delimiter("a|b|c\n1|2|3\n"), b'|');
        // Commas inside the data do not outvote the real delimiter.
        assert_eq!(detect_delimiter("id;note\n1;a,b,c\n2;d,e\n"), b';');
        assert_eq!(detect_delimiter("just one column\nvalue\n"), b',');
    }

    #[test]
    fn row_numbers_count_blank_lines_and_multiline_cells() {
        let text = "id,desc\r\n1,\"two\r\nlines\"\r\n\r\n2,x\r\n";
        let (_, table) = read(text).unwrap();
        let numbers: Vec<usize> = table.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![2, 4]);
        assert_eq!(table.rows[0].cells[1].text, "two\r\nlines");

        let (_, table) = read("a,b\n\n\n1,\"x\ny\nz\"\n2,3\n\n4,5").unwrap();
        let numbers: Vec<usize> = table.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![4, 5, 7]);
        assert_eq!(table.header_row, 1);
    }
}
