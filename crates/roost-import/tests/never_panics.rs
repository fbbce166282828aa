//! Property tests: no input makes the parser panic, and formatted values read back.

use proptest::prelude::*;
use roost_import::values::{DecimalMark, parse_price, parse_size};
use std::io::{Cursor, Write};

use roost_import::{
    Currency, DocumentOptions, ImportOptions, SizeUnit, parse_agent_resources, parse_clients,
    parse_document, parse_employees, parse_market_intelligence, parse_properties,
};

fn opts() -> ImportOptions {
    ImportOptions {
        default_currency: Currency::parse("AED"),
        default_size_unit: Some(SizeUnit::Sqft),
        ..ImportOptions::default()
    }
}

/// Cells drawn from the kinds of text real files contain, plus noise.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 ]{0,8}",
        "[0-9]{1,3}([,. ][0-9]{3}){0,3}([.,][0-9]{1,2})?",
        "(AED|USD|\\$|€|£)? ?[0-9.,]{1,9} ?(k|K|M|m|million|sqft|sqm|m²)?",
        Just("N/A".to_string()),
        Just("Studio".to_string()),
        Just("\"quoted, with \n newline\"".to_string()),
        "[\\PC\t\r\n\"]{0,12}",
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "ref",
            "title",
            "price",
            "beds",
            "baths",
            "area",
            "size",
            "lat",
            "lng",
            "photos",
            "status",
            "furnished",
            "listed",
            "currency",
            "type",
            "Price (AED)",
            "sq ft",
            "name",
            "email",
            "mobile",
            "Budget (AED)",
            "Assigned Agent",
            "languages",
            "role",
        ])
        .prop_map(str::to_string),
        "[A-Za-z _.-]{0,10}",
    ]
}

fn csvish() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![",", ";", "\t", "|"]),
        prop::sample::select(vec!["\n", "\r\n"]),
        prop::collection::vec(header(), 1..8),
        prop::collection::vec(prop::collection::vec(cell(), 0..9), 0..12),
    )
        .prop_map(|(sep, eol, headers, rows)| {
            let mut out = headers.join(sep);
            for row in rows {
                out.push_str(eol);
                out.push_str(&row.join(sep));
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_properties(&bytes, "fuzz.bin", &opts());
    }

    #[test]
    fn bytes_behind_magic_numbers_never_panic(
        magic in prop::sample::select(vec![&b"PK\x03\x04"[..], &b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"[..], &b"\xEF\xBB\xBF"[..], &b"\xFF\xFE"[..]]),
        tail in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let bytes = [magic, &tail[..]].concat();
        let _ = parse_properties(&bytes, "fuzz.bin", &opts());
    }

    #[test]
    fn corrupted_workbooks_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = workbook().to_vec();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = parse_properties(&bytes, "fuzz.xlsx", &opts());
    }

    #[test]
    fn csvish_text_never_panics(text in csvish()) {
        let result = parse_properties(text.as_bytes(), "fuzz.csv", &opts());
        if let Ok(parsed) = result {
            // Every data row ends up either as a record or in the errors.
            let mut rows: Vec<usize> = parsed.records.iter().map(|r| r.row).collect();
            rows.extend(parsed.errors.iter().map(|e| e.row));
            rows.sort_unstable();
            rows.dedup();
            prop_assert_eq!(rows.len(), parsed.rows_read);
        }
    }

    #[test]
    fn grouped_prices_read_back(
        amount in 1u64..10_000_000_000,
        cents in 0u64..100,
        symbol in prop::sample::select(vec!["", "$", "USD ", "AED ", "€"]),
    ) {
        let text = format!("{symbol}{}.{cents:02}", group(amount, ','));
        let parsed = parse_price(&text, DecimalMark::Auto).unwrap();
        let price = roost_import::Price::new(parsed.amount, Currency::parse("USD").unwrap()).unwrap();
        prop_assert_eq!(price.minor_units, (amount * 100 + cents) as i64);

        // The same amount in European notation, with the mark stated.
        let text = format!("{},{cents:02} EUR", group(amount, '.'));
        let parsed = parse_price(&text, DecimalMark::Comma).unwrap();
        prop_assert_eq!(parsed.amount.digits, u128::from(amount * 100 + cents));
        prop_assert_eq!(parsed.currency, Currency::parse("EUR"));
    }

    #[test]
    fn magnitude_suffixes_read_back(whole in 1u64..1000, tenths in 0u64..10) {
        let parsed = parse_price(&format!("{whole}.{tenths}M"), DecimalMark::Auto).unwrap();
        prop_assert_eq!(parsed.amount.shift(0).map(|d| d.digits), Some(u128::from(whole * 1_000_000 + tenths * 100_000)));
        let parsed = parse_price(&format!("{whole}K"), DecimalMark::Auto).unwrap();
        prop_assert_eq!(parsed.amount.digits, u128::from(whole * 1000));
    }

    #[test]
    fn sizes_read_back(value in 1u32..1_000_000, unit in prop::sample::select(vec![("sqft", SizeUnit::Sqft), ("sq m", SizeUnit::Sqm), ("m²", SizeUnit::Sqm)])) {
        let size = parse_size(&format!("{} {}", group(u64::from(value), ','), unit.0), None, DecimalMark::Auto).unwrap();
        prop_assert_eq!(size.value, f64::from(value));
        prop_assert_eq!(size.unit, unit.1);
    }

    #[test]
    fn arbitrary_bytes_never_panic_other_entry_points(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_clients(&bytes, "fuzz.bin", &opts());
        let _ = parse_employees(&bytes, "fuzz.bin", &opts());
        let _ = parse_market_intelligence(&bytes, "fuzz.json", &opts());
        let _ = parse_agent_resources(&bytes, "fuzz.json", &opts());
        let _ = parse_document(&bytes, "fuzz.md", &small_chunks());
    }

    #[test]
    fn csvish_people_never_panic(text in csvish()) {
        if let Ok(parsed) = parse_clients(text.as_bytes(), "c.csv", &opts()) {
            // Every data row ends up either as a record or in the errors.
            let mut rows: Vec<usize> = parsed.records.iter().map(|r| r.row).collect();
            rows.extend(parsed.errors.iter().map(|e| e.row));
            rows.sort_unstable();
            rows.dedup();
            prop_assert_eq!(rows.len(), parsed.rows_read);
        }
        let _ = parse_employees(text.as_bytes(), "e.csv", &opts());
    }

    #[test]
    fn documents_behind_magic_numbers_never_panic(
        magic in prop::sample::select(vec![&b"%PDF-1.4\n"[..], &b"PK\x03\x04"[..], &b"\xD0\xCF\x11\xE0"[..], &b"# "[..]]),
        tail in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let bytes = [magic, &tail[..]].concat();
        let _ = parse_document(&bytes, "fuzz.pdf", &small_chunks());
    }

    #[test]
    fn corrupted_documents_never_panic(
        which in 0usize..2,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = if which == 0 { docx().to_vec() } else { pdf().to_vec() };
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = parse_document(&bytes, "fuzz.docx", &small_chunks());
    }

    #[test]
    fn jsonish_never_panics(text in jsonish()) {
        let _ = parse_market_intelligence(text.as_bytes(), "mi.json", &opts());
        let _ = parse_agent_resources(text.as_bytes(), "r.json", &opts());
    }

    #[test]
    fn text_documents_chunk_within_bounds(text in "[\\PC\n#.!? ]{0,3000}") {
        let o = small_chunks();
        if let Ok(doc) = parse_document(text.as_bytes(), "fuzz.md", &o) {
            let n = doc.text.chars().count();
            prop_assert_eq!(doc.chunks.last().map(|c| c.char_end), Some(n));
            for c in &doc.chunks {
                prop_assert!(c.char_end - c.char_start <= o.chunk_max_chars);
                prop_assert!(c.char_start < c.char_end);
            }
        }
    }

    #[test]
    fn value_parsers_never_panic(text in "\\PC{0,24}") {
        let _ = parse_price(&text, DecimalMark::Auto);
        let _ = parse_size(&text, None, DecimalMark::Comma);
        let _ = roost_import::values::parse_date(&text, Default::default());
        let _ = roost_import::values::parse_bedrooms(&text);
        let _ = roost_import::values::parse_bathrooms(&text);
        let _ = roost_import::values::parse_latitude(&text);
        let _ = roost_import::values::parse_email(&text);
        let _ = roost_import::values::parse_phone(&text);
        let _ = roost_import::values::parse_period(&text);
        let _ = roost_import::values::parse_list(&text);
    }
}

/// Small chunk sizes so short inputs exercise the cutting.
fn small_chunks() -> DocumentOptions {
    DocumentOptions {
        chunk_min_chars: 60,
        chunk_max_chars: 120,
        overlap_max_chars: 30,
        ..DocumentOptions::default()
    }
}

/// JSON documents with the right keys and values of the wrong kinds.
fn jsonish() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "area",
        "city",
        "period",
        "bedrooms",
        "median_price",
        "currency",
        "gross_yield_pct",
        "transactions",
        "price_change_pct",
        "title",
        "body",
        "tags",
        "audience",
        "updated_at",
        "id",
        "from",
        "to",
        "x",
    ]);
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        "-?[0-9]{1,12}(\\.[0-9]{1,4})?(e[0-9]{1,3})?",
        "\"[\\PC]{0,12}\"".prop_map(|s| s.replace('\\', "")),
        Just("\"2026-Q3\"".to_string()),
        Just("\"AED 1.2M\"".to_string()),
        Just("\"6.5%\"".to_string()),
    ];
    let value = leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key.clone(), inner), 0..5).prop_map(|kv| {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    });
    (
        prop::sample::select(vec!["items", "resources", "other"]),
        prop::collection::vec(value, 0..5),
    )
        .prop_map(|(k, items)| format!("{{\"{k}\": [{}]}}", items.join(",")))
}

/// A small valid DOCX, built once.
fn docx() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        zip.start_file("word/document.xml", o).unwrap();
        let mut body = String::new();
        for i in 0..10 {
            body.push_str(&format!(
                r#"<w:p><w:pPr><w:pStyle w:val="Heading{}"/></w:pPr><w:r><w:t>Part {i} &amp; more. Text here.</w:t><w:tab/></w:r></w:p>"#,
                i % 3
            ));
        }
        zip.write_all(format!(r#"<w:document xmlns:w="w"><w:body>{body}</w:body></w:document>"#).as_bytes())
            .unwrap();
        zip.finish().unwrap().into_inner()
    })
}

/// A small valid PDF with one line of text, built once.
fn pdf() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        let content = "BT /F1 12 Tf 72 720 Td (Hello world.) Tj 0 -20 Td (Second line.) Tj ET";
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len() + 1),
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend(b"xref\n0 6\n0000000000 65535 f \n");
        for o in offsets {
            out.extend(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend(format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        out
    })
}

/// A small valid workbook, built once.
fn workbook() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (col, h) in ["ref", "title", "price", "beds"].iter().enumerate() {
            sheet.write_string(0, col as u16, *h).unwrap();
        }
        for row in 1..20u32 {
            sheet.write_string(row, 0, format!("R{row}")).unwrap();
            sheet.write_string(row, 1, "Flat").unwrap();
            sheet.write_number(row, 2, f64::from(row) * 1000.0).unwrap();
            sheet.write_number(row, 3, f64::from(row % 5)).unwrap();
        }
        book.save_to_buffer().unwrap()
    })
}

/// `1234567` → `1,234,567`.
fn group(n: u64, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}
