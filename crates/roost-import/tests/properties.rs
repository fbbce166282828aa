//! End-to-end imports of realistic, messy listing files.

use roost_import::{
    Attribute, ColumnMapping, Currency, FileErrorKind, ImportOptions, ListingStatus, PropertyField,
    RowError, SizeUnit, SourceFormat, Target, TextEncoding, parse_properties,
};

fn aed() -> ImportOptions {
    ImportOptions {
        default_currency: Currency::parse("AED"),
        ..ImportOptions::default()
    }
}

fn err(row: usize, column: &str, field: &str, value: Option<&str>, reason: &str) -> RowError {
    RowError {
        row,
        column: Some(column.to_string()),
        field: Some(field.to_string()),
        value: value.map(str::to_string),
        reason: reason.to_string(),
    }
}

/// Encodes text as Windows-1252 the way an old Excel "Save as CSV" does.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            c if (c as u32) < 256 => c as u8,
            c => panic!("{c} not in the fixture's charset"),
        })
        .collect()
}

#[test]
fn semicolon_latin1_with_decimal_commas() {
    let text = "Référence;Titre;Prix;Chambres;Surface;Ville\r\n\
                FR-1;Résidence Côte d'Azur;€ 300.000,00;3;85 m²;Nice\r\n\
                FR-2;Château à Genève;1.250.000 €;Studio;45 m²;Genève\r\n";
    let mapping = ColumnMapping::from_toml(
        r#"
        [columns]
        "Référence" = "id"
        "Titre" = "title"
        "Prix" = "price"
        "Chambres" = "bedrooms"
        "Surface" = "size"
        "Ville" = "city"
        "#,
    )
    .unwrap();
    let opts = ImportOptions {
        mapping: Some(mapping),
        ..ImportOptions::default()
    };
    let parsed = parse_properties(&latin1(text), "export.csv", &opts).unwrap();
    assert_eq!(
        parsed.format,
        SourceFormat::Csv {
            delimiter: ';',
            encoding: TextEncoding::Windows1252
        }
    );
    assert_eq!(parsed.errors, vec![]);
    let [a, b] = &parsed.records[..] else {
        panic!("{:?}", parsed.records)
    };
    assert_eq!(a.title.as_deref(), Some("Résidence Côte d'Azur"));
    assert_eq!(a.price.minor_units, 30_000_000);
    assert_eq!(a.price.currency.code(), "EUR");
    assert_eq!(
        a.size.map(|s| (s.value, s.unit)),
        Some((85.0, SizeUnit::Sqm))
    );
    assert_eq!(b.title.as_deref(), Some("Château à Genève"));
    assert_eq!(b.city.as_deref(), Some("Genève"));
    assert_eq!(b.price.minor_units, 125_000_000);
    assert_eq!(b.bedrooms, Some(0));
}

#[test]
fn tab_separated_crlf_with_multiline_descriptions() {
    let text = "Listing ID\tProperty Type\tAsking Price\tBR\tBA\tDescription\tsq ft\r\n\
                L1\tVilla\t$1,250,000\t4\t3.5\t\"Corner plot.\r\nPrivate pool; \"\"sea\"\" view\tand garden.\"\t4,200\r\n\
                L2\tApartment\t$215K\t2\t2+1\tPlain\t1,100\r\n\
                L3\tApartment\tcall us\t2\t2\tPlain\t900\r\n";
    let parsed = parse_properties(text.as_bytes(), "mls.tsv", &ImportOptions::default()).unwrap();
    assert_eq!(
        parsed.format,
        SourceFormat::Csv {
            delimiter: '\t',
            encoding: TextEncoding::Utf8
        }
    );
    // The multi-line cell is one spreadsheet row, so L3 is row 4.
    assert_eq!(
        parsed.errors,
        vec![err(
            4,
            "Asking Price",
            "price",
            Some("call us"),
            "not a price"
        )]
    );
    let [l1, l2] = &parsed.records[..] else {
        panic!("{:?}", parsed.records)
    };
    assert_eq!(l1.row, 2);
    assert_eq!(
        l1.description.as_deref(),
        Some("Corner plot.\nPrivate pool; \"sea\" view\tand garden.")
    );
    assert_eq!((l1.bathrooms, l1.half_bathrooms), (Some(3), Some(1)));
    assert_eq!(
        l1.size.map(|s| (s.value, s.unit)),
        Some((4200.0, SizeUnit::Sqft))
    );
    assert_eq!(l1.price.minor_units, 125_000_000);
    assert_eq!(l2.row, 3);
    assert_eq!(l2.price.minor_units, 21_500_000);
    assert_eq!((l2.bathrooms, l2.half_bathrooms), (Some(2), Some(1)));
}

fn xlsx_fixture() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Listings").unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let headers = [
        "Ref",
        "Title",
        "Price (AED)",
        "Beds",
        "Baths",
        "Size (sqft)",
        "Lat",
        "Lng",
        "Listed",
        "Furnished",
        "Agent",
    ];
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    sheet.write_number(1, 0, 1001).unwrap();
    sheet.write_string(1, 1, "Marina View 2BR").unwrap();
    sheet.write_number(1, 2, 1_200_000).unwrap();
    sheet.write_number(1, 3, 2).unwrap();
    sheet.write_number(1, 4, 2.5).unwrap();
    sheet.write_number(1, 5, 1250.5).unwrap();
    sheet.write_number(1, 6, 25.0805).unwrap();
    sheet.write_number(1, 7, 55.1403).unwrap();
    let listed = ExcelDateTime::from_ymd(2024, 3, 15).unwrap();
    sheet
        .write_datetime_with_format(1, 8, &listed, &date)
        .unwrap();
    sheet.write_boolean(1, 9, true).unwrap();
    sheet.write_string(1, 10, "Sara").unwrap();
    // Row 3 left blank on purpose; row 4 has a bad latitude.
    sheet.write_string(3, 0, "1002").unwrap();
    sheet.write_string(3, 1, "Downtown loft").unwrap();
    sheet.write_string(3, 2, "AED 2.5M").unwrap();
    sheet.write_number(3, 6, 95.5).unwrap();
    sheet.write_number(3, 7, 55.1).unwrap();
    book.save_to_buffer().unwrap()
}

#[test]
fn xlsx_named_csv_is_read_as_excel() {
    let bytes = xlsx_fixture();
    let parsed = parse_properties(&bytes, "listings.csv", &ImportOptions::default()).unwrap();
    assert_eq!(
        parsed.format,
        SourceFormat::Xlsx {
            sheet: "Listings".into()
        }
    );
    assert_eq!(
        parsed.errors,
        vec![err(
            4,
            "Lat",
            "latitude",
            Some("95.5"),
            "latitude out of range -90..90"
        )]
    );
    let [r] = &parsed.records[..] else {
        panic!("{:?}", parsed.records)
    };
    assert_eq!(r.row, 2);
    assert_eq!(r.id, "1001");
    assert_eq!(r.price.minor_units, 120_000_000);
    assert_eq!(r.price.currency.code(), "AED");
    assert_eq!(r.bedrooms, Some(2));
    assert_eq!((r.bathrooms, r.half_bathrooms), (Some(2), Some(1)));
    assert_eq!(
        r.size.map(|s| (s.value, s.unit)),
        Some((1250.5, SizeUnit::Sqft))
    );
    assert_eq!((r.latitude, r.longitude), (Some(25.0805), Some(55.1403)));
    assert_eq!(
        r.listed_at.map(|d| d.to_string()).as_deref(),
        Some("2024-03-15")
    );
    assert_eq!(r.furnished, Some(true));
    assert_eq!(
        r.attributes,
        vec![Attribute {
            column: "Agent".into(),
            value: "Sara".into()
        }]
    );
}

#[test]
fn sentinels_read_as_absent() {
    let text = "ref,title,price,beds,size,community,furnished,lat,lng,photos\n\
                A1,Flat,100000,N/A,-,null,none,?,--,n/a\n\
                A2,Flat,100000,NA,--,#N/A,,,,\n";
    let parsed = parse_properties(text.as_bytes(), "s.csv", &aed()).unwrap();
    assert_eq!(parsed.errors, vec![]);
    for r in &parsed.records {
        assert_eq!(r.bedrooms, None);
        assert_eq!(r.size, None);
        assert_eq!(r.community, None);
        assert_eq!(r.furnished, None);
        assert_eq!((r.latitude, r.longitude), (None, None));
        assert!(r.photos.is_empty());
        assert!(r.attributes.is_empty());
    }
}

#[test]
fn missing_required_columns_name_them() {
    let text = "Title,Beds,Notes\nFlat,2,x\n";
    let e = parse_properties(text.as_bytes(), "bad.csv", &aed()).unwrap_err();
    assert_eq!(e.file, "bad.csv");
    let FileErrorKind::MissingColumns(missing) = &e.kind else {
        panic!("{e}")
    };
    assert_eq!(missing.len(), 2);
    assert!(
        missing[0].starts_with("id (e.g. ref, reference, listingid)"),
        "{e}"
    );
    assert!(missing[1].starts_with("price"), "{e}");
    assert!(
        e.to_string()
            .starts_with("bad.csv: missing required columns: id"),
        "{e}"
    );

    let text = "ref,price,beds\nA,1,2\n";
    let e = parse_properties(text.as_bytes(), "bad.csv", &aed()).unwrap_err();
    assert_eq!(
        e.kind,
        FileErrorKind::MissingColumns(vec![
            "title (e.g. listingtitle, propertytitle, headline) or property_type (e.g. type, category, propertycategory)"
                .into()
        ])
        .clone()
    );
}

#[test]
fn duplicate_ids_reject_every_copy() {
    let text = "ref,title,price\nA1,One,100\nB2,Two,200\nA1,Three,300\nC3,Four,400\nA1,Five,500\n";
    let parsed = parse_properties(text.as_bytes(), "d.csv", &aed()).unwrap();
    let ids: Vec<&str> = parsed.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["B2", "C3"]);
    assert_eq!(
        parsed.errors,
        vec![
            err(
                2,
                "ref",
                "id",
                Some("A1"),
                "duplicate id \"A1\", also on rows 4, 6"
            ),
            err(
                4,
                "ref",
                "id",
                Some("A1"),
                "duplicate id \"A1\", also on rows 2, 6"
            ),
            err(
                6,
                "ref",
                "id",
                Some("A1"),
                "duplicate id \"A1\", also on rows 2, 4"
            ),
        ]
    );
}

#[test]
fn ragged_rows_are_row_errors() {
    let text = "ref,title,price\nA1,One,100\nA2,Two\nA3,Three,300,extra\nA4,Four,400,\n";
    let parsed = parse_properties(text.as_bytes(), "r.csv", &aed()).unwrap();
    let ids: Vec<&str> = parsed.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["A1", "A4"]);
    let whole_row = |row, reason: &str| RowError {
        row,
        column: None,
        field: None,
        value: None,
        reason: reason.into(),
    };
    assert_eq!(
        parsed.errors,
        vec![
            whole_row(3, "row has 2 cells but the header has 3 columns"),
            whole_row(4, "row has 4 cells but the header has 3 columns"),
        ]
    );
}

#[test]
fn value_errors_name_row_column_and_field() {
    let text = "Property ID,Type,List Price,Currency,Bedrooms,Status,Listed At,Photos\n\
                P1,Villa,\"1,200,000\",,3,For Sale,2024-01-31,https://x.example/1.jpg|https://x.example/2.jpg\n\
                P2,Villa,$500k,AED,three,Sold,2024-02-30,img.jpg\n\
                ,Villa,,,2,Leasehold,,\n";
    let parsed = parse_properties(text.as_bytes(), "v.csv", &aed()).unwrap();
    assert_eq!(parsed.records.len(), 1);
    let p1 = &parsed.records[0];
    assert_eq!(p1.price.minor_units, 120_000_000);
    assert_eq!(p1.price.currency.code(), "AED");
    assert_eq!(p1.status, Some(ListingStatus::ForSale));
    assert_eq!(p1.photos.len(), 2);
    assert_eq!(
        parsed.errors,
        vec![
            err(
                3,
                "Bedrooms",
                "bedrooms",
                Some("three"),
                "not a bedroom count"
            ),
            err(
                3,
                "Listed At",
                "listed_at",
                Some("2024-02-30"),
                "no such date: \"2024-02-30\""
            ),
            err(
                3,
                "Photos",
                "photos",
                Some("img.jpg"),
                "\"img.jpg\" is not an http(s) URL"
            ),
            err(
                3,
                "List Price",
                "price",
                Some("$500k"),
                "conflicting currencies USD and AED"
            ),
            err(
                4,
                "Status",
                "status",
                Some("Leasehold"),
                "unknown status; expected for sale, for rent, off-plan, under offer, sold, rented or withdrawn"
            ),
            err(4, "Property ID", "id", None, "id is required"),
            err(4, "List Price", "price", None, "price is required"),
        ]
    );
}

#[test]
fn price_without_any_currency_is_an_error() {
    let text = "ref,title,price\nA,Flat,100000\n";
    let parsed = parse_properties(text.as_bytes(), "c.csv", &ImportOptions::default()).unwrap();
    assert_eq!(
        parsed.errors,
        vec![err(
            2,
            "price",
            "price",
            Some("100000"),
            "price has no currency and no default currency is set"
        )]
    );
}

#[test]
fn explicit_mapping_overrides_and_keeps_the_rest() {
    let mapping = ColumnMapping::from_toml(
        r#"
        default_currency = "QAR"
        size_unit = "sqm"
        [columns]
        "Asking (local)" = "price"
        "Code" = "id"
        "Area" = "community"
        "price" = "attribute"
        "#,
    )
    .unwrap();
    let opts = ImportOptions {
        mapping: Some(mapping),
        default_currency: Currency::parse("AED"),
        ..ImportOptions::default()
    };
    let text = "Code,Name,Asking (local),price,Area,Size,Owner phone\nQ1,Pearl flat,\"950,000\",old,The Pearl,120,+974 555\n";
    let parsed = parse_properties(text.as_bytes(), "m.csv", &opts).unwrap();
    assert_eq!(parsed.errors, vec![]);
    let targets: Vec<(&str, Target<PropertyField>)> = parsed
        .columns
        .iter()
        .map(|c| (c.column.as_str(), c.target))
        .collect();
    assert_eq!(
        targets,
        vec![
            ("Code", Target::Field(PropertyField::Id)),
            ("Name", Target::Field(PropertyField::Title)),
            ("Asking (local)", Target::Field(PropertyField::Price)),
            ("price", Target::Attribute),
            ("Area", Target::Field(PropertyField::Community)),
            ("Size", Target::Field(PropertyField::Size)),
            ("Owner phone", Target::Attribute),
        ]
    );
    let r = &parsed.records[0];
    assert_eq!(r.price.currency.code(), "QAR");
    assert_eq!(r.size.map(|s| s.unit), Some(SizeUnit::Sqm));
    assert_eq!(r.community.as_deref(), Some("The Pearl"));
    let attrs: Vec<(&str, &str)> = r
        .attributes
        .iter()
        .map(|a| (a.column.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(attrs, vec![("price", "old"), ("Owner phone", "+974 555")]);
}

#[test]
fn mapping_errors_are_file_errors() {
    let opts = |toml: &str| ImportOptions {
        mapping: Some(ColumnMapping::from_toml(toml).unwrap()),
        ..aed()
    };
    let text = "ref,title,price\nA,B,1\n";
    let e = parse_properties(
        text.as_bytes(),
        "m.csv",
        &opts("[columns]\n\"Nope\" = \"price\""),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "m.csv: column mapping: column \"Nope\" is not in the file"
    );
    let e = parse_properties(
        text.as_bytes(),
        "m.csv",
        &opts("[columns]\n\"title\" = \"headline\""),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("maps to unknown field \"headline\""),
        "{e}"
    );
}

#[test]
fn two_columns_for_one_field_is_an_error() {
    let text = "ref,title,price,asking price\nA,B,1,2\n";
    let e = parse_properties(text.as_bytes(), "two.csv", &aed()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "two.csv: columns \"price\", \"asking price\" all map to `price`; keep one or map the others in the column mapping"
    );
}

#[test]
fn area_is_size_or_community_by_its_values() {
    let sizes = "ref,title,price,area\nA,B,1,\"1,200 sqft\"\nC,D,2,900\n";
    let parsed = parse_properties(sizes.as_bytes(), "a.csv", &aed()).unwrap();
    assert_eq!(parsed.columns[3].target, Target::Field(PropertyField::Size));

    let places = "ref,title,price,area\nA,B,1,Dubai Marina\nC,D,2,JVC\n";
    let parsed = parse_properties(places.as_bytes(), "a.csv", &aed()).unwrap();
    assert_eq!(
        parsed.columns[3].target,
        Target::Field(PropertyField::Community)
    );

    // With a size column present, `area` can only be the community.
    let both = "ref,title,price,size,area\nA,B,1,100 sqm,900\n";
    let parsed = parse_properties(both.as_bytes(), "a.csv", &aed()).unwrap();
    assert_eq!(
        parsed.columns[4].target,
        Target::Field(PropertyField::Community)
    );
}

#[test]
fn header_synonyms() {
    let text = "REFERENCE,Listing Price,No. of Bedrooms,Bathrooms,Built-up Area (m2),Property_Type,Neighbourhood,Latitude,Long\n\
                R1,USD 215K,3,2,116,Townhouse,Palm,25.1,55.1\n";
    let parsed = parse_properties(text.as_bytes(), "h.csv", &ImportOptions::default()).unwrap();
    assert_eq!(parsed.errors, vec![]);
    let fields: Vec<Target<PropertyField>> = parsed.columns.iter().map(|c| c.target).collect();
    use PropertyField::*;
    assert_eq!(
        fields,
        [
            Id,
            Price,
            Bedrooms,
            Bathrooms,
            Size,
            PropertyType,
            Community,
            Latitude,
            Longitude
        ]
        .map(Target::Field)
    );
    let r = &parsed.records[0];
    assert_eq!(r.size.map(|s| s.unit), Some(SizeUnit::Sqm));
    assert_eq!(r.price.currency.code(), "USD");
}

#[test]
fn file_level_rejections() {
    let opts = aed();
    let kind = |bytes: &[u8]| parse_properties(bytes, "f", &opts).unwrap_err().kind;
    assert_eq!(kind(b""), FileErrorKind::Empty);
    assert_eq!(kind(b"\xEF\xBB\xBF\r\n\r\n"), FileErrorKind::Empty);
    assert_eq!(kind(b"ref,title,price\n"), FileErrorKind::NoDataRows);
    assert!(matches!(
        kind(b"ref,title\0,price\nA,B,C\n"),
        FileErrorKind::Binary(_)
    ));
    assert!(matches!(kind(b"%PDF-1.7 ..."), FileErrorKind::Binary(_)));
    let garbage: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
    assert!(matches!(kind(&garbage), FileErrorKind::Binary(_)));
    let FileErrorKind::Workbook(msg) = kind(b"PK\x03\x04 not really a zip") else {
        panic!()
    };
    assert!(msg.starts_with("not a readable XLSX workbook"), "{msg}");
    let FileErrorKind::Workbook(msg) = kind(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 junk") else {
        panic!()
    };
    assert!(msg.starts_with("not a readable XLS workbook"), "{msg}");

    let small = ImportOptions {
        max_bytes: 10,
        ..aed()
    };
    let e = parse_properties(b"ref,title,price\nA,B,1\n", "big.csv", &small).unwrap_err();
    assert_eq!(
        e.to_string(),
        "big.csv: file is 22 bytes, over the 10-byte limit"
    );
}

#[test]
fn ambiguous_european_decimals_are_not_guessed() {
    let text = "ref,title,price\nA,B,215.000\n";
    let parsed = parse_properties(text.as_bytes(), "e.csv", &aed()).unwrap();
    assert_eq!(parsed.records.len(), 0);
    assert!(
        parsed.errors[0]
            .reason
            .starts_with("ambiguous decimal separator")
    );

    let comma = ImportOptions {
        decimal_mark: roost_import::DecimalMark::Comma,
        ..aed()
    };
    let parsed = parse_properties(text.as_bytes(), "e.csv", &comma).unwrap();
    assert_eq!(parsed.records[0].price.minor_units, 21_500_000);
}

#[test]
fn records_serialise_to_json() {
    let text = "ref,title,price,size,listed\nA,Flat,AED 1.2M,80 sqm,2024-05-01\n";
    let parsed = parse_properties(text.as_bytes(), "j.csv", &aed()).unwrap();
    let json = serde_json::to_value(&parsed).unwrap();
    assert_eq!(json["format"]["kind"], "csv");
    assert_eq!(json["format"]["delimiter"], ",");
    assert_eq!(json["columns"][2]["target"], "price");
    let r = &json["records"][0];
    assert_eq!(r["price"]["minor_units"], 120_000_000);
    assert_eq!(r["price"]["currency"], "AED");
    assert_eq!(r["size"]["unit"], "sqm");
    assert_eq!(r["listed_at"], "2024-05-01");
}
