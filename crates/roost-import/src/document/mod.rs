//! Documents (policies, guides, brochures) as plain text cut into chunks for
//! retrieval. The format is detected by content: PDF, DOCX, else text
//! (Markdown or plain).

mod chunk;
mod docx;
mod pdf;
mod text;

use serde::Serialize;

use crate::error::{FileError, FileErrorKind};

/// A document read into text and chunks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// The first top-level heading, or the file name without its extension.
    pub title: String,
    pub format: DocumentFormat,
    /// Whole text: blocks (headings, paragraphs) separated by a blank line,
    /// runs of spaces collapsed. Chunk offsets index into it.
    pub text: String,
    pub chunks: Vec<Chunk>,
}

/// A piece of a document sized for embedding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chunk {
    /// 0-based, in document order.
    pub index: usize,
    /// The nearest heading above the chunk's first paragraph.
    pub heading: Option<String>,
    /// Exactly the characters `char_start..char_end` of [`Document::text`].
    pub text: String,
    /// Offsets in characters (Unicode scalar values), not bytes.
    pub char_start: usize,
    pub char_end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentFormat {
    Pdf,
    Docx,
    Markdown,
    Text,
}

/// Limits and chunk sizes for [`crate::parse_document`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentOptions {
    /// Uploads larger than this are rejected before parsing.
    pub max_bytes: usize,
    /// Cap on decompressed content (the DOCX body, the extracted text), so a
    /// small zip bomb cannot exhaust memory.
    pub max_text_bytes: usize,
    /// Chunks are cut at a paragraph or sentence end once they reach this many
    /// characters, unless the section ends sooner.
    pub chunk_min_chars: usize,
    /// No chunk is longer than this, overlap included.
    pub chunk_max_chars: usize,
    /// A chunk repeats the previous chunk's last sentence if it is at most
    /// this long, so a fact split across the boundary is found in either.
    pub overlap_max_chars: usize,
}

impl Default for DocumentOptions {
    fn default() -> Self {
        DocumentOptions {
            max_bytes: 50 * 1024 * 1024,
            max_text_bytes: 64 * 1024 * 1024,
            chunk_min_chars: 800,
            chunk_max_chars: 1200,
            overlap_max_chars: 240,
        }
    }
}

/// A paragraph or heading before the text is assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// `Some(level)` for headings, 1 being the top.
    pub heading: Option<u8>,
    /// Normalised: no blank lines inside, single spaces; `\n` only between
    /// lines that must stay apart, such as list items.
    pub text: String,
}

impl Block {
    pub fn heading(level: u8, text: &str) -> Block {
        Block {
            heading: Some(level),
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }

    pub fn paragraph(text: &str) -> Block {
        Block {
            heading: None,
            text: normalise_lines(text),
        }
    }
}

/// Collapses spaces within each line and drops empty lines.
pub(crate) fn normalise_lines(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn parse(
    bytes: &[u8],
    file_name: &str,
    opts: &DocumentOptions,
) -> Result<Document, FileError> {
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
    let (format, blocks) = read_blocks(bytes, file_name, opts).map_err(fail)?;
    let blocks: Vec<Block> = blocks.into_iter().filter(|b| !b.text.is_empty()).collect();
    if blocks.is_empty() {
        let reason = match format {
            DocumentFormat::Pdf => {
                "the PDF has no text layer (a scanned PDF?); OCR is not supported"
            }
            _ => "the document has no text",
        };
        return Err(fail(FileErrorKind::Document(reason.to_string())));
    }
    let title = blocks
        .iter()
        .filter_map(|b| b.heading.map(|level| (level, &b.text)))
        .min_by_key(|(level, _)| *level)
        .map(|(_, t)| t.clone())
        .unwrap_or_else(|| title_from_file_name(file_name));
    let (text, chunks) = chunk::chunk(&blocks, opts);
    Ok(Document {
        title,
        format,
        text,
        chunks,
    })
}

fn read_blocks(
    bytes: &[u8],
    file_name: &str,
    opts: &DocumentOptions,
) -> Result<(DocumentFormat, Vec<Block>), FileErrorKind> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileErrorKind::Empty);
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok((DocumentFormat::Pdf, pdf::read(bytes, opts)?));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok((DocumentFormat::Docx, docx::read(bytes, opts)?));
    }
    if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(FileErrorKind::Document(
            "a legacy Word (.doc) or other Office binary file; save it as .docx or PDF".into(),
        ));
    }
    for (magic, what) in [
        (&b"\x1F\x8B"[..], "a gzip archive"),
        (b"\x89PNG", "a PNG image; OCR is not supported"),
        (b"\xFF\xD8\xFF", "a JPEG image; OCR is not supported"),
        (b"PK\x05\x06", "an empty zip archive"),
    ] {
        if bytes.starts_with(magic) {
            return Err(FileErrorKind::Document(format!(
                "not a PDF, Word or text document: it is {what}"
            )));
        }
    }
    let (content, _) = crate::source::decode_text(bytes).map_err(|e| match e {
        FileErrorKind::Binary(why) => {
            FileErrorKind::Document(format!("not a PDF, Word or text document: {why}"))
        }
        other => other,
    })?;
    if content.len() > opts.max_text_bytes {
        return Err(too_much_text(opts));
    }
    let markdown = text::is_markdown(file_name, &content);
    let format = if markdown {
        DocumentFormat::Markdown
    } else {
        DocumentFormat::Text
    };
    let blocks = if markdown {
        text::markdown_blocks(&content)
    } else {
        text::plain_blocks(&content)
    };
    Ok((format, blocks))
}

pub(crate) fn too_much_text(opts: &DocumentOptions) -> FileErrorKind {
    FileErrorKind::Document(format!(
        "the document's text is over the {}-byte limit",
        opts.max_text_bytes
    ))
}

/// `Commission_policy-2026.v2.pdf` → `Commission policy 2026.v2`.
fn title_from_file_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 8 => stem,
        _ => base,
    };
    let title = stem
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if title.is_empty() {
        "Untitled document".to_string()
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_file_names() {
        assert_eq!(
            title_from_file_name("uploads/Commission_policy-2026.pdf"),
            "Commission policy 2026"
        );
        assert_eq!(title_from_file_name(".md"), ".md");
        assert_eq!(title_from_file_name(""), "Untitled document");
    }
}
