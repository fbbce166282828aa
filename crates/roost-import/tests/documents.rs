//! Documents: format detection, text extraction and chunking. Fixtures are
//! built here (a DOCX with the zip crate, PDFs by hand) so no binary files are
//! kept in the repository.

use std::io::{Cursor, Write};

use proptest::prelude::*;
use roost_import::{Document, DocumentFormat, DocumentOptions, FileErrorKind, parse_document};
use zip::write::SimpleFileOptions;

fn opts() -> DocumentOptions {
    DocumentOptions::default()
}

/// A DOCX with just the parts a reader needs.
fn docx(body_xml: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", o).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).unwrap();
    zip.start_file("word/document.xml", o).unwrap();
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body_xml}</w:body></w:document>"#
    );
    zip.write_all(doc.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

fn para(style: Option<&str>, text: &str) -> String {
    let props = style.map_or(String::new(), |s| {
        format!(r#"<w:pPr><w:pStyle w:val="{s}"/></w:pPr>"#)
    });
    format!(r#"<w:p>{props}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#)
}

/// A one-page PDF whose content stream is `content`, with Helvetica as F1 and
/// the xref offsets computed.
fn pdf(content: &str, trailer_extra: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len() + 1),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra}>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Text lines drawn top to bottom; an empty line leaves a paragraph gap.
fn text_stream(lines: &[&str]) -> String {
    let mut s = String::from("BT /F1 12 Tf 72 720 Td ");
    for line in lines {
        if line.is_empty() {
            s.push_str("0 -30 Td ");
        } else {
            s.push_str(&format!("({line}) Tj 0 -14 Td "));
        }
    }
    s.push_str("ET");
    s
}

fn assert_chunks_cover(doc: &Document, o: &DocumentOptions) {
    let chars: Vec<char> = doc.text.chars().collect();
    assert!(!doc.chunks.is_empty());
    assert_eq!(doc.chunks[0].char_start, 0);
    assert_eq!(doc.chunks.last().unwrap().char_end, chars.len());
    for (i, c) in doc.chunks.iter().enumerate() {
        assert_eq!(c.index, i);
        assert!(
            c.char_end - c.char_start <= o.chunk_max_chars,
            "chunk {i} too long"
        );
        let slice: String = chars[c.char_start..c.char_end].iter().collect();
        assert_eq!(slice, c.text);
        assert_eq!(c.text.trim(), c.text);
    }
    for pair in doc.chunks.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(b.char_start > a.char_start, "chunks go forward");
        // Either they overlap, or only whitespace lies between them.
        if b.char_start > a.char_end {
            let gap: String = chars[a.char_end..b.char_start].iter().collect();
            assert!(gap.trim().is_empty(), "gap {gap:?}");
        }
        // Never inside a word: a chunk starts and ends next to whitespace or the text's ends.
        assert!(
            b.char_start == 0
                || chars[b.char_start - 1].is_whitespace()
                || a.char_end > b.char_start
        );
        assert!(a.char_end == chars.len() || chars[a.char_end].is_whitespace());
    }
}

#[test]
fn docx_paragraphs_headings_and_chunks() {
    let mut body = para(Some("Title"), "Agency handbook");
    body.push_str(&para(Some("Heading1"), "Commission"));
    for i in 0..12 {
        body.push_str(&para(None, &format!("Rule {i}: agents earn two percent on resale deals &amp; one percent on rentals. Payment follows the transfer at the land department.")));
    }
    body.push_str(&para(Some("Heading2"), "Off-plan"));
    body.push_str(&para(
        None,
        "Off-plan deals pay on the developer's schedule.",
    ));
    let doc = parse_document(&docx(&body), "handbook.docx", &opts()).unwrap();
    assert_eq!(doc.format, DocumentFormat::Docx);
    assert_eq!(doc.title, "Agency handbook");
    assert!(doc.text.starts_with("Agency handbook\n\nCommission\n\nRule 0: agents earn two percent on resale deals & one percent"));
    assert_chunks_cover(&doc, &opts());
    assert!(doc.chunks.len() >= 2, "{:#?}", doc.chunks);
    assert_eq!(doc.chunks[0].heading.as_deref(), Some("Commission"));
    let last = doc.chunks.last().unwrap();
    assert_eq!(last.heading.as_deref(), Some("Off-plan"));
    assert!(
        last.text.starts_with("Off-plan\n\nOff-plan deals"),
        "{last:?}"
    );
    // Middle chunks are cut at paragraph ends within the size bounds.
    for c in &doc.chunks[..doc.chunks.len() - 2] {
        assert!(c.text.len() >= 800, "{} chars", c.text.len());
        assert!(c.text.ends_with("land department."));
    }
}

#[test]
fn docx_zip_bombs_and_non_word_zips_are_refused() {
    let huge = para(None, &"x ".repeat(600_000));
    let small = DocumentOptions {
        max_text_bytes: 1_000_000,
        ..opts()
    };
    let err = parse_document(&docx(&huge), "bomb.docx", &small).unwrap_err();
    assert!(
        err.to_string().contains("over the 1000000-byte limit"),
        "{err}"
    );

    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("xl/workbook.xml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"<workbook/>").unwrap();
    let xlsx = zip.finish().unwrap().into_inner();
    let err = parse_document(&xlsx, "sheet.docx", &opts()).unwrap_err();
    assert!(err.to_string().contains("an Excel workbook"), "{err}");

    let err = parse_document(&docx(""), "empty.docx", &opts()).unwrap_err();
    assert_eq!(
        err.kind,
        FileErrorKind::Document("the document has no text".into())
    );
}

#[test]
fn pdf_text_is_extracted() {
    let content = text_stream(&[
        "Viewing policy",
        "",
        "Agents confirm every viewing with the owner a day ahead.",
        "Keys are signed out at the front desk.",
    ]);
    let doc = parse_document(&pdf(&content, ""), "viewing-policy.pdf", &opts()).unwrap();
    assert_eq!(doc.format, DocumentFormat::Pdf);
    assert_eq!(doc.title, "viewing policy");
    assert!(doc.text.contains("Viewing policy"), "{:?}", doc.text);
    assert!(
        doc.text
            .contains("Agents confirm every viewing with the owner a day ahead."),
        "{:?}",
        doc.text
    );
    assert!(
        doc.text.contains("Keys are signed out at the front desk."),
        "{:?}",
        doc.text
    );
    assert_chunks_cover(&doc, &opts());
}

#[test]
fn pdfs_without_text_or_with_a_password_are_clear_errors() {
    let scanned = pdf("0 0 1 rg 72 72 200 200 re f", "");
    let err = parse_document(&scanned, "scan.pdf", &opts()).unwrap_err();
    assert!(err.to_string().contains("no text layer"), "{err}");
    assert!(err.to_string().contains("OCR is not supported"), "{err}");

    let o = "<".to_string() + &"AB".repeat(32) + ">";
    let u = "<".to_string() + &"CD".repeat(32) + ">";
    let encrypt = format!(
        "/Encrypt << /Filter /Standard /V 1 /R 2 /O {o} /U {u} /P -4 >> /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>] "
    );
    let locked = pdf(&text_stream(&["Secret"]), &encrypt);
    let err = parse_document(&locked, "locked.pdf", &opts()).unwrap_err();
    assert!(err.to_string().contains("password-protected"), "{err}");

    let err = parse_document(b"%PDF-1.4\ngarbage", "broken.pdf", &opts()).unwrap_err();
    assert!(matches!(err.kind, FileErrorKind::Document(_)), "{err}");
}

#[test]
fn markdown_and_plain_text() {
    let md = "# Off-plan guide\n\nIntro paragraph.\n\n## Payment plans\n\nMost developers ask 10% down.\n";
    let doc = parse_document(md.as_bytes(), "guide.md", &opts()).unwrap();
    assert_eq!(doc.format, DocumentFormat::Markdown);
    assert_eq!(doc.title, "Off-plan guide");
    assert_eq!(
        doc.text,
        "Off-plan guide\n\nIntro paragraph.\n\nPayment plans\n\nMost developers ask 10% down."
    );
    let headings: Vec<Option<&str>> = doc.chunks.iter().map(|c| c.heading.as_deref()).collect();
    assert_eq!(headings, [Some("Off-plan guide"), Some("Payment plans")]);

    // Latin-1 text with a `.txt` name is plain text even with a `#` line.
    let latin1: Vec<u8> = "# not a heading\nCaf\u{e9} r\u{e8}gles."
        .chars()
        .map(|c| c as u8)
        .collect();
    let doc = parse_document(&latin1, "notes.txt", &opts()).unwrap();
    assert_eq!(doc.format, DocumentFormat::Text);
    assert_eq!(doc.title, "notes");
    assert_eq!(doc.text, "# not a heading Café règles.");

    for empty in [&b""[..], b"  \n\t\n", b"\xEF\xBB\xBF \n"] {
        let err = parse_document(empty, "empty.txt", &opts()).unwrap_err();
        assert!(matches!(err.kind, FileErrorKind::Empty), "{err:?}");
    }
    let err = parse_document(b"\x89PNG\r\n\x1a\n....", "scan.png", &opts()).unwrap_err();
    assert!(err.to_string().contains("OCR is not supported"), "{err}");
}

fn paragraph() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z]{1,12}", 1..80).prop_map(|words| {
        let mut out = String::new();
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                out.push_str(if i % 9 == 0 { ". " } else { " " });
            }
            out.push_str(w);
        }
        out.push('.');
        out
    })
}

fn section() -> impl Strategy<Value = (Option<String>, Vec<String>)> {
    (
        prop::option::of("[A-Z][a-z]{2,10}( [a-z]{2,8}){0,3}"),
        prop::collection::vec(paragraph(), 1..12),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn chunks_cover_the_text_in_order_within_bounds(
        sections in prop::collection::vec(section(), 1..6),
        long_word in prop::option::of(1300usize..3000),
    ) {
        let mut md = String::new();
        let mut headings = Vec::new();
        for (heading, paragraphs) in &sections {
            if let Some(h) = heading {
                md.push_str(&format!("## {h}\n\n"));
                headings.push(h.clone());
            }
            for p in paragraphs {
                md.push_str(p);
                md.push_str("\n\n");
            }
        }
        if let Some(n) = long_word {
            md.push_str(&"y".repeat(n));
        }
        let o = opts();
        let doc = parse_document(md.as_bytes(), "p.md", &o).unwrap();
        assert_chunks_cover_lenient(&doc, &o, long_word.is_some());
        for c in &doc.chunks {
            if let Some(h) = &c.heading {
                prop_assert!(headings.contains(h));
            }
        }
    }
}

/// Like `assert_chunks_cover`, except that a single word longer than a chunk
/// has to be cut inside.
fn assert_chunks_cover_lenient(doc: &Document, o: &DocumentOptions, has_long_word: bool) {
    if !has_long_word {
        return assert_chunks_cover(doc, o);
    }
    let chars: Vec<char> = doc.text.chars().collect();
    assert_eq!(doc.chunks.last().unwrap().char_end, chars.len());
    for c in &doc.chunks {
        assert!(c.char_end - c.char_start <= o.chunk_max_chars);
    }
}
