//! DOCX: the paragraphs of `word/document.xml`, with headings recognised from
//! their paragraph style (named "heading N" or "Title" in `word/styles.xml`,
//! whatever the document's language calls them) or outline level.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zip::ZipArchive;

use super::{Block, DocumentOptions, too_much_text};
use crate::error::FileErrorKind;

pub fn read(bytes: &[u8], opts: &DocumentOptions) -> Result<Vec<Block>, FileErrorKind> {
    catch_unwind(AssertUnwindSafe(|| read_unguarded(bytes, opts))).unwrap_or_else(|_| {
        Err(FileErrorKind::Document(
            "the Word document is malformed".into(),
        ))
    })
}

fn read_unguarded(bytes: &[u8], opts: &DocumentOptions) -> Result<Vec<Block>, FileErrorKind> {
    let mut zip = ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| FileErrorKind::Document(format!("not a readable Word (.docx) file: {e}")))?;
    if zip.index_for_name("word/document.xml").is_none() {
        let what = if zip.index_for_name("xl/workbook.xml").is_some() {
            "an Excel workbook; import it as data instead"
        } else if zip.index_for_name("ppt/presentation.xml").is_some() {
            "a PowerPoint presentation; save it as PDF"
        } else {
            "a zip archive without word/document.xml"
        };
        return Err(FileErrorKind::Document(format!(
            "not a Word (.docx) document: it is {what}"
        )));
    }
    let styles = match entry(&mut zip, "word/styles.xml", opts) {
        Ok(Some(xml)) => heading_styles(&xml),
        // Without styles, fall back to the usual English style ids.
        _ => HashMap::new(),
    };
    let body = entry(&mut zip, "word/document.xml", opts)?.unwrap_or_default();
    paragraphs(&body, &styles)
}

/// Reads one archive member, refusing to inflate past the limit whatever
/// size the archive claims (a zip bomb lies about it).
fn entry(
    zip: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    opts: &DocumentOptions,
) -> Result<Option<String>, FileErrorKind> {
    let file = match zip.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(FileErrorKind::Document(format!("cannot open {name}: {e}")));
        }
    };
    let cap = opts.max_text_bytes as u64;
    let mut data = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut data)
        .map_err(|e| FileErrorKind::Document(format!("cannot read {name}: {e}")))?;
    if data.len() as u64 > cap {
        return Err(too_much_text(opts));
    }
    String::from_utf8(data)
        .map(Some)
        .map_err(|_| FileErrorKind::Document(format!("{name} is not UTF-8 XML")))
}

fn attr(e: &BytesStart, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn local(e: &BytesStart) -> String {
    e.local_name().as_ref().to_string()
}

/// Style id → heading level, from style names (`heading 2`, `Title`) and
/// outline levels.
fn heading_styles(xml: &str) -> HashMap<String, u8> {
    let mut out = HashMap::new();
    let mut reader = Reader::from_str(xml);
    let mut current: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => match local(&e).as_str() {
                "style" => current = attr(&e, "styleId"),
                "name" => {
                    if let (Some(id), Some(name)) = (&current, attr(&e, "val"))
                        && let Some(level) = level_from_name(&name)
                    {
                        out.insert(id.clone(), level);
                    }
                }
                "outlineLvl" => {
                    if let (Some(id), Some(level)) = (&current, attr(&e, "val"))
                        && let Ok(level @ 0..=8) = level.parse::<u8>()
                    {
                        out.entry(id.clone()).or_insert(level + 1);
                    }
                }
                _ => {}
            },
            Ok(Event::End(e)) if e.local_name().as_ref() == "style" => current = None,
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// `heading 2` → 2, `Title` → 1; also the style ids Word writes in English.
fn level_from_name(name: &str) -> Option<u8> {
    let key: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if key == "title" {
        return Some(1);
    }
    let level: u8 = key.strip_prefix("heading")?.parse().ok()?;
    (1..=9).contains(&level).then_some(level)
}

/// One paragraph being read; text boxes nest paragraphs inside paragraphs.
#[derive(Default)]
struct Para {
    text: String,
    level: Option<u8>,
}

/// A table row being read: its cells' text, joined with ` | ` at the end.
#[derive(Default)]
struct TableRow {
    cells: Vec<String>,
    cell: String,
}

fn paragraphs(xml: &str, styles: &HashMap<String, u8>) -> Result<Vec<Block>, FileErrorKind> {
    let mut reader = Reader::from_str(xml);
    let mut blocks = Vec::new();
    let mut paras: Vec<Para> = Vec::new();
    let mut rows: Vec<TableRow> = Vec::new();
    let mut in_text = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            FileErrorKind::Document(format!("the Word document's XML is malformed: {e}"))
        })?;
        match event {
            Event::Start(e) => match local(&e).as_str() {
                "p" => paras.push(Para::default()),
                "t" => in_text = true,
                "tr" => rows.push(TableRow::default()),
                _ => start_or_empty(&e, &mut paras, styles),
            },
            Event::Empty(e) => start_or_empty(&e, &mut paras, styles),
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => {
                    let Some(para) = paras.pop() else { continue };
                    let text = para.text.trim();
                    if text.is_empty() {
                        continue;
                    }
                    if let Some(row) = rows.last_mut() {
                        if !row.cell.is_empty() {
                            row.cell.push(' ');
                        }
                        row.cell.push_str(text);
                    } else if let Some(level) = para.level {
                        blocks.push(Block::heading(level, text));
                    } else {
                        blocks.push(Block::paragraph(text));
                    }
                }
                "tc" => {
                    if let Some(row) = rows.last_mut() {
                        let cell = std::mem::take(&mut row.cell);
                        row.cells
                            .push(cell.split_whitespace().collect::<Vec<_>>().join(" "));
                    }
                }
                "tr" => {
                    if let Some(row) = rows.pop() {
                        let cells: Vec<String> =
                            row.cells.into_iter().filter(|c| !c.is_empty()).collect();
                        if !cells.is_empty() {
                            blocks.push(Block::paragraph(&cells.join(" | ")));
                        }
                    }
                }
                _ => {}
            },
            Event::Text(t) if in_text => {
                if let Some(p) = paras.last_mut() {
                    p.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) if in_text => {
                if let (Some(p), Some(c)) = (paras.last_mut(), entity(&r)) {
                    p.text.push(c);
                }
            }
            Event::CData(t) if in_text => {
                if let Some(p) = paras.last_mut() {
                    p.text.push_str(&t);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(blocks)
}

/// Elements that matter whether written `<x/>` or `<x>…</x>`.
fn start_or_empty(e: &BytesStart, paras: &mut [Para], styles: &HashMap<String, u8>) {
    let Some(para) = paras.last_mut() else { return };
    match local(e).as_str() {
        "tab" => para.text.push(' '),
        "br" | "cr" => para.text.push('\n'),
        "noBreakHyphen" => para.text.push('-'),
        "pStyle" => {
            if let Some(id) = attr(e, "val") {
                para.level = styles
                    .get(&id)
                    .copied()
                    .or_else(|| level_from_name(&id))
                    .or(para.level);
            }
        }
        "outlineLvl" => {
            if let Some(Ok(level @ 0..=8)) = attr(e, "val").map(|v| v.parse::<u8>()) {
                para.level = Some(level + 1);
            }
        }
        _ => {}
    }
}

fn entity(r: &BytesRef) -> Option<char> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c);
    }
    match r.as_ref() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_names() {
        assert_eq!(level_from_name("heading 2"), Some(2));
        assert_eq!(level_from_name("Heading1"), Some(1));
        assert_eq!(level_from_name("Title"), Some(1));
        assert_eq!(level_from_name("Normal"), None);
        assert_eq!(level_from_name("heading 10"), None);
    }

    #[test]
    fn reads_paragraphs_tables_and_localised_headings() {
        let styles = r#"<w:styles xmlns:w="x"><w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style></w:styles>"#;
        let body = r#"<w:document xmlns:w="x"><w:body>
            <w:p><w:pPr><w:pStyle w:val="berschrift1"/></w:pPr><w:r><w:t>Provision</w:t></w:r></w:p>
            <w:p><w:r><w:t xml:space="preserve">Fees &amp; </w:t></w:r><w:r><w:t>terms</w:t><w:tab/><w:t>apply.</w:t></w:r></w:p>
            <w:p><w:r><w:instrText>PAGE</w:instrText></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>Type</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Rate</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            </w:body></w:document>"#;
        let blocks = paragraphs(body, &heading_styles(styles)).unwrap();
        let shown: Vec<(Option<u8>, &str)> = blocks
            .iter()
            .map(|b| (b.heading, b.text.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (Some(1), "Provision"),
                (None, "Fees & terms apply."),
                (None, "Type | Rate")
            ]
        );
    }
}
