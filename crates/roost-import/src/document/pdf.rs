//! PDF text through pdf-extract (which reads the file with lopdf).
//!
//! pdf-extract panics on fonts and encodings it does not know; a panic must
//! become an error for this upload, not take down the request, so every call
//! into it is guarded.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf_extract::{Document as Pdf, PlainTextOutput, output_doc_page};

use super::text::plain_blocks;
use super::{Block, DocumentOptions, too_much_text};
use crate::error::FileErrorKind;

const ENCRYPTED: &str = "the PDF is password-protected; remove the password and upload it again";

pub fn read(bytes: &[u8], opts: &DocumentOptions) -> Result<Vec<Block>, FileErrorKind> {
    let pages = guarded(|| pages(bytes, opts))?;
    let pages = drop_running_lines(pages);
    let mut blocks = Vec::new();
    for page in &pages {
        blocks.extend(plain_blocks(page));
    }
    Ok(blocks)
}

fn guarded<T>(f: impl FnOnce() -> Result<T, FileErrorKind>) -> Result<T, FileErrorKind> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(FileErrorKind::Document(
            "the PDF uses features we cannot read (malformed or unusual fonts); try saving it again as PDF".into(),
        ))
    })
}

/// The text of each page. Pages that fail are skipped so one odd page does
/// not lose the whole document; if every page fails, that is the error.
fn pages(bytes: &[u8], opts: &DocumentOptions) -> Result<Vec<String>, FileErrorKind> {
    let mut doc = Pdf::load_mem(bytes).map_err(|e| match e {
        pdf_extract::Error::Decryption(_) => FileErrorKind::Document(ENCRYPTED.into()),
        e => FileErrorKind::Document(format!("not a readable PDF: {e}")),
    })?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(FileErrorKind::Document(ENCRYPTED.into()));
    }
    let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    // lopdf tries the empty user password itself; when that fails it loads no
    // objects at all rather than returning an error.
    if numbers.is_empty() && doc.trailer.get(b"Encrypt").is_ok() {
        return Err(FileErrorKind::Document(ENCRYPTED.into()));
    }
    let mut out = Vec::with_capacity(numbers.len());
    let mut total = 0usize;
    let mut first_error = None;
    for n in numbers {
        let mut text = String::new();
        let mut sink = PlainTextOutput::new(&mut text);
        match output_doc_page(&doc, &mut sink, n) {
            Ok(()) => {
                total += text.len();
                if total > opts.max_text_bytes {
                    return Err(too_much_text(opts));
                }
                out.push(text);
            }
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    match (out.is_empty(), first_error) {
        (true, Some(e)) => Err(FileErrorKind::Document(format!(
            "cannot read the PDF's text: {e}"
        ))),
        _ => Ok(out),
    }
}

/// Drops a first or last line that is a page number (`3`, `Page 3 of 12`,
/// `- 3 -`) or that repeats on most pages (a running header or footer). Only these
/// trivial cases: anything else might be content.
fn drop_running_lines(pages: Vec<String>) -> Vec<String> {
    let lines: Vec<Vec<&str>> = pages
        .iter()
        .map(|p| p.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
        .collect();
    let mut edge_counts: HashMap<&str, usize> = HashMap::new();
    for page in &lines {
        let mut edges = vec![page.first(), page.last()];
        edges.dedup();
        for line in edges.into_iter().flatten() {
            *edge_counts.entry(line).or_default() += 1;
        }
    }
    let repeated =
        |l: &str| lines.len() >= 3 && edge_counts.get(l).copied().unwrap_or(0) * 2 > lines.len();
    pages
        .iter()
        .zip(&lines)
        .map(|(page, kept)| {
            let first = kept.first().copied();
            let last = kept.last().copied();
            page.lines()
                .filter(|line| {
                    let t = line.trim();
                    let at_edge = Some(t) == first || Some(t) == last;
                    !(at_edge && (is_page_number(t) || repeated(t)))
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

fn is_page_number(line: &str) -> bool {
    let lower = line.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '-' || c == '–' || c == '|')
        .filter(|w| !w.is_empty())
        .collect();
    let number = |w: &&str| w.len() <= 3 && w.bytes().all(|b| b.is_ascii_digit());
    match words.as_slice() {
        [n] => number(n),
        ["page", n] => number(n),
        ["page", n, "of", m] | [n, "of", m] => number(n) && number(m),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers() {
        for l in ["3", "Page 3", "page 3 of 12", "- 3 -", "3 of 12", "– 12 –"] {
            assert!(is_page_number(l), "{l:?}");
        }
        for l in ["3 bedrooms", "Page three", "2026", "12345"] {
            assert!(!is_page_number(l), "{l:?}");
        }
    }

    #[test]
    fn running_headers_are_dropped() {
        let pages = (1..=4)
            .map(|n| format!("ACME Realty — Policy\nBody of page {n}.\n{n}"))
            .collect();
        let kept = drop_running_lines(pages);
        assert_eq!(kept[0], "Body of page 1.");
        assert_eq!(kept[3], "Body of page 4.");
        // Two pages are too few to call a line a running header.
        let kept = drop_running_lines(vec!["Title\nA".into(), "Title\nB".into()]);
        assert_eq!(kept, ["Title\nA", "Title\nB"]);
    }
}
