//! Market intelligence and agent resources from JSON.

use roost_import::{
    Currency, FileErrorKind, ImportOptions, Role, parse_agent_resources, parse_market_intelligence,
};

fn opts() -> ImportOptions {
    ImportOptions::default()
}

const MARKET: &str = r#"{
  "currency": "AED",
  "source": "DLD transactions",
  "items": [
    {
      "area": "Jumeirah Village Circle",
      "city": "Dubai",
      "period": "2026-Q3",
      "property_type": "Apartment",
      "bedrooms": 2,
      "median_price": "AED 1.15M",
      "median_price_per_sqft": 1210.5,
      "average_rent": 85000,
      "gross_yield_pct": "7.4%",
      "transactions": 312,
      "price_change_pct": -1.5,
      "days_on_market": 41,
      "notes": "Handovers in Q4 may add supply"
    },
    { "area": "Dubai Marina", "period": { "from": "2026-09-01", "to": "2026-09-30" }, "bedrooms": "studio",
      "median_price": 780000, "source": "Agency desk" },
    { "area": "Downtown", "period": "2026-Q3", "gross_yield_pct": { "value": 5 } },
    { "area": "JLT", "period": "2026-Q5" },
    { "area": "JLT", "median_prize": 1 },
    { "area": " ", "median_price": "USD 1M", "currency": "AED" }
  ]
}"#;

#[test]
fn market_items_become_records_with_a_summary() {
    let parsed = parse_market_intelligence(MARKET.as_bytes(), "mi.json", &opts()).unwrap();
    assert_eq!(parsed.items_read, 6);
    let [jvc, marina] = &parsed.records[..] else {
        panic!("{:#?}", parsed)
    };
    assert_eq!(jvc.index, 0);
    assert_eq!(jvc.median_price.map(|p| p.minor_units), Some(115_000_000));
    assert_eq!(
        jvc.median_price_per_sqft.map(|p| p.minor_units),
        Some(121_050)
    );
    assert_eq!(jvc.gross_yield_pct, Some(7.4));
    let period = jvc.period.as_ref().unwrap();
    assert_eq!(
        (period.start.to_string(), period.end.to_string()),
        ("2026-07-01".into(), "2026-09-30".into())
    );
    assert_eq!(
        jvc.text,
        "Jumeirah Village Circle, Dubai, Q3 2026, 2-bedroom apartment: median sale price AED 1,150,000; \
         median AED 1,210.50 per sq ft; average rent AED 85,000; gross yield 7.4%; 312 sales; \
         prices down 1.5% on the previous period; 41 days on market. \
         Handovers in Q4 may add supply. Source: DLD transactions."
    );
    assert_eq!(marina.bedrooms, Some(0));
    assert_eq!(
        marina.period.as_ref().unwrap().label,
        "2026-09-01/2026-09-30"
    );
    assert_eq!(
        marina.text,
        "Dubai Marina, September 2026, studios: median sale price AED 780,000. Source: Agency desk."
    );

    let errors: Vec<(usize, &str)> = parsed
        .errors
        .iter()
        .map(|e| (e.index, e.path.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (2, "$.items[2].gross_yield_pct"),
            (3, "$.items[3].period"),
            (4, "$.items[4].median_prize"),
            (5, "$.items[5].area"),
            (5, "$.items[5].median_price"),
        ],
        "{:#?}",
        parsed.errors
    );
    assert!(
        parsed.errors[0].reason.contains("expected a percentage"),
        "{:?}",
        parsed.errors[0]
    );
    assert!(parsed.errors[1].reason.contains("not a period"));
    assert!(
        parsed.errors[2]
            .reason
            .contains("unknown field `median_prize`")
    );
    assert!(
        parsed.errors[4]
            .reason
            .contains("USD but the item's currency is AED")
    );
}

#[test]
fn a_wrong_type_deep_inside_names_its_path() {
    let json = r#"[
        {"area": "A", "gross_yield_pct": 5},
        {"area": "B", "gross_yield_pct": 6},
        {"area": "C", "gross_yield_pct": [7]}
    ]"#;
    let parsed = parse_market_intelligence(json.as_bytes(), "mi.json", &opts()).unwrap();
    assert_eq!(parsed.records.len(), 2);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].path, "$[2].gross_yield_pct");

    let wrapped = format!(r#"{{"items": {}}}"#, json);
    let parsed = parse_market_intelligence(wrapped.as_bytes(), "mi.json", &opts()).unwrap();
    assert_eq!(parsed.errors[0].path, "$.items[2].gross_yield_pct");
    assert!(
        parsed.errors[0].reason.contains("invalid type: sequence"),
        "{:?}",
        parsed.errors
    );
}

#[test]
fn amounts_need_a_currency_from_somewhere() {
    let json = r#"[{"area": "A", "median_price": 1000000}]"#;
    let parsed = parse_market_intelligence(json.as_bytes(), "mi.json", &opts()).unwrap();
    assert_eq!(parsed.errors[0].path, "$[0].median_price");
    assert!(parsed.errors[0].reason.contains("no currency"));
    let tenant = ImportOptions {
        default_currency: Currency::parse("AED"),
        ..opts()
    };
    let parsed = parse_market_intelligence(json.as_bytes(), "mi.json", &tenant).unwrap();
    assert_eq!(
        parsed.records[0].median_price.unwrap().to_string(),
        "AED 1,000,000"
    );
}

#[test]
fn file_level_json_errors_name_the_file_and_place() {
    let err = parse_market_intelligence(b"{\"items\": [\n  {\"area\": }\n]}", "mi.json", &opts())
        .unwrap_err();
    assert!(
        matches!(err.kind, FileErrorKind::JsonSyntax { line: 2, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("mi.json: invalid JSON at line 2"),
        "{err}"
    );

    let err =
        parse_market_intelligence(br#"{"items": [], "extra": 1}"#, "mi.json", &opts()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mi.json: $.extra: unknown field `extra`, expected `items` or `currency` or `source`"
    );
    let err = parse_market_intelligence(br#"{"items": {}}"#, "mi.json", &opts()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mi.json: $.items: expected an array, found an object"
    );
    let err = parse_market_intelligence(br#"{"currency": "XYZ", "items": []}"#, "mi.json", &opts())
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("mi.json: $.currency: unknown currency"),
        "{err}"
    );
    let err = parse_market_intelligence(b"  ", "mi.json", &opts()).unwrap_err();
    assert_eq!(err.kind, FileErrorKind::Empty);
}

#[test]
fn resources() {
    let json = r##"{"resources": [
        {"title": "Commission policy", "body": "# Off-plan\n\n2% on off-plan sales.", "tags": ["policy", "off-plan"],
         "audience": ["agent", "Manager"], "updated_at": "2026-01-15"},
        {"id": "R-9", "title": "Manager escalation", "body": "Call the MD.", "tags": "escalation; process", "audience": "manager"},
        {"title": "Viewing checklist", "body": "Keys, ID, parking."},
        {"title": "No body", "body": "  "},
        {"title": "Bad audience", "body": "x", "audience": ["agent", "intern"]},
        {"title": "commission   POLICY", "body": "A second copy"},
        {"title": "Typo", "body": "x", "tag": []}
    ]}"##;
    let parsed = parse_agent_resources(json.as_bytes(), "resources.json", &opts()).unwrap();
    let titles: Vec<&str> = parsed.records.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["Manager escalation", "Viewing checklist"]);
    let [escalation, checklist] = &parsed.records[..] else {
        unreachable!()
    };
    assert_eq!(escalation.id, "R-9");
    assert_eq!(escalation.tags, ["escalation", "process"]);
    assert_eq!(escalation.audience, [Role::Manager]);
    assert_eq!(checklist.audience, Role::ALL);
    assert!(checklist.id.starts_with("res-"));

    let errors: Vec<(usize, &str)> = parsed
        .errors
        .iter()
        .map(|e| (e.index, e.path.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (0, "$.resources[0].id"),
            (3, "$.resources[3].body"),
            (4, "$.resources[4].audience[1]"),
            (5, "$.resources[5].id"),
            (6, "$.resources[6].tag"),
        ],
        "{:#?}",
        parsed.errors
    );
    assert!(parsed.errors[0].reason.contains("also at $.resources[5]"));

    // The same title gives the same id on every import.
    let again = parse_agent_resources(
        br#"[{"title": "Viewing checklist", "body": "changed"}]"#,
        "r.json",
        &opts(),
    )
    .unwrap();
    assert_eq!(again.records[0].id, checklist.id);
}
