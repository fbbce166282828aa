//! Property tests: no input makes the parser panic, and formatted values read back.

use proptest::prelude::*;
use roost_import::values::{DecimalMark, parse_price, parse_size};
use roost_import::{Currency, ImportOptions, SizeUnit, parse_properties};

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
    fn value_parsers_never_panic(text in "\\PC{0,24}") {
        let _ = parse_price(&text, DecimalMark::Auto);
        let _ = parse_size(&text, None, DecimalMark::Comma);
        let _ = roost_import::values::parse_date(&text, Default::default());
        let _ = roost_import::values::parse_bedrooms(&text);
        let _ = roost_import::values::parse_bathrooms(&text);
        let _ = roost_import::values::parse_latitude(&text);
    }
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
