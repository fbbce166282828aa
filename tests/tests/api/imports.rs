use reqwest::StatusCode;
use roost_tests::{TestServer, listings_csv, on_both_backends};
use serde_json::Value;

on_both_backends!(
    dry_run_strict_lenient_upsert_and_replace,
    unusable_files_and_tier_limits_store_nothing,
    excel_uploads_and_mappings,
);

fn count(r: &Value, key: &str) -> u64 {
    r["stored"][key].as_u64().unwrap_or(u64::MAX)
}

async fn dry_run_strict_lenient_upsert_and_replace(s: TestServer) {
    let t = s.register("Import Homes", "imp", "professional").await;
    // Prices without a currency take the company's.
    let cfg = s.get("/api/v1/config", &t.admin.access).await;
    let mut body = cfg.body["config"].clone();
    body["company_info"]["currency"] = "AED".into();
    let r = s
        .req(
            reqwest::Method::PUT,
            "/api/v1/config",
            Some(&t.admin.access),
        )
        .header("if-match", "\"1\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let messy = "\u{feff}Ref;Title;Beds;Asking Price;Community;Parking\r\n\
                 A-1;Marina flat;2;AED 1.2M;Dubai Marina;1\r\n\
                 A-2;\"Villa; garden\nand pool\";4;$2,500,000;Arabian Ranches;2\r\n\
                 A-3;Bad price;3;call us;JVC;N/A\r\n\
                 A-4;Studio;Studio;850K;JVC;-\r\n";

    // Dry run: a preview, the mapping, every problem; nothing stored.
    let dry = s
        .import(
            &t.admin.access,
            "listings.csv",
            messy.into(),
            "dry_run=true",
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body["status"], "previewed");
    assert_eq!(dry.body["rows_total"], 4);
    assert_eq!(dry.body["rows_valid"], 3);
    assert!(
        dry.body["format"].as_str().unwrap().contains("';'"),
        "{}",
        dry.body["format"]
    );
    let mapping = dry.body["mapping"].as_array().unwrap();
    let field_of = |col: &str| {
        mapping
            .iter()
            .find(|m| m["column"] == col)
            .map(|m| m["field"].clone())
    };
    assert_eq!(field_of("Asking Price"), Some("price".into()));
    assert_eq!(
        field_of("Parking"),
        Some("attribute".into()),
        "unknown columns are kept"
    );
    let problem = &dry.body["problems"][0];
    assert_eq!(problem["row"], 4, "{problem}");
    assert_eq!(problem["column"], "Asking Price");
    let preview = dry.body["preview"].as_array().unwrap();
    assert_eq!(preview[0]["price"]["amount_minor"], 120_000_000);
    assert_eq!(preview[0]["price"]["currency"], "AED");
    assert_eq!(preview[1]["title"], "Villa; garden\nand pool");
    assert_eq!(preview[1]["price"]["currency"], "USD");
    assert_eq!(preview[0]["attributes"]["Parking"], "1");
    assert!(
        preview[2]["attributes"].get("Parking").is_none(),
        "'-' is absent, not a value"
    );
    assert_eq!(preview[2]["bedrooms"], 0, "studio");
    assert_eq!(
        preview[2]["price"]["amount_minor"], 85_000_000,
        "850K in the company currency"
    );
    assert_eq!(preview[2]["price"]["currency"], "AED");
    assert!(
        s.all_listings(&t.admin.access).await.is_empty(),
        "dry run stores nothing"
    );

    // Strict (the default): refused whole, with the report behind Location.
    let strict = s
        .import(&t.admin.access, "listings.csv", messy.into(), "")
        .await;
    assert_eq!(
        strict.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        strict.body
    );
    assert_eq!(strict.code(), "import_rejected");
    assert!(
        strict.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("row 4")
    );
    let location = strict.header("location").expect("Location").to_string();
    let report = s.get(&location, &t.admin.access).await;
    assert_eq!(report.body["status"], "rejected");
    assert_eq!(report.body["problems_total"], 1);
    let csv = s
        .req(
            reqwest::Method::GET,
            &format!("{location}/problems.csv"),
            Some(&t.admin.access),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("row,column,field,value,reason\n4,Asking Price,price,call us,"),
        "{text}"
    );
    assert!(
        s.all_listings(&t.admin.access).await.is_empty(),
        "strict refusal stores nothing"
    );

    // Lenient: the valid rows go in.
    let lenient = s
        .import(
            &t.admin.access,
            "listings.csv",
            messy.into(),
            "validation=lenient",
        )
        .await;
    assert_eq!(lenient.status, StatusCode::OK, "{}", lenient.body);
    assert_eq!(lenient.body["status"], "committed");
    assert_eq!(count(&lenient.body, "inserted"), 3);
    let stored = s.all_listings(&t.admin.access).await;
    assert_eq!(stored.len(), 3);
    let a1 = stored.iter().find(|l| l["external_id"] == "A-1").unwrap();
    let a1_id = a1["id"].as_str().unwrap().to_string();
    let one = s
        .get(&format!("/api/v1/listings/{a1_id}"), &t.admin.access)
        .await;
    assert_eq!(one.body["community"], "Dubai Marina");

    // Re-import: upsert by the file's id, no duplicates, ids kept.
    let again = s
        .import(
            &t.admin.access,
            "listings.csv",
            messy.replace("Marina flat", "Marina flat, sea view").into(),
            "validation=lenient",
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(
        (
            count(&again.body, "inserted"),
            count(&again.body, "updated"),
            count(&again.body, "unchanged")
        ),
        (0, 1, 2)
    );
    let stored = s.all_listings(&t.admin.access).await;
    assert_eq!(stored.len(), 3);
    let a1 = stored.iter().find(|l| l["external_id"] == "A-1").unwrap();
    assert_eq!(a1["id"], a1_id.as_str());
    assert_eq!(a1["title"], "Marina flat, sea view");

    // Replace: what the file no longer has is removed.
    let subset = "Ref,Title,Price\nA-1,Marina flat,AED 1.3M\n";
    let replaced = s
        .import(&t.admin.access, "subset.csv", subset.into(), "mode=replace")
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(count(&replaced.body, "deleted"), 2);
    let stored = s.all_listings(&t.admin.access).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], a1_id.as_str());

    // Agents read listings but cannot import.
    let (_, agent) = s.add_user(&t, "agent@imp.test", &["agent"]).await;
    assert_eq!(s.all_listings(&agent.access).await.len(), 1);
    let r = s.import(&agent.access, "x.csv", subset.into(), "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.get(&location, &agent.access).await.status,
        StatusCode::FORBIDDEN
    );

    // Audit has each run.
    let audit = s.get("/api/v1/audit?limit=500", &t.admin.access).await;
    let runs = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "import.run")
        .count();
    assert_eq!(runs, 5);
}

async fn unusable_files_and_tier_limits_store_nothing(s: TestServer) {
    let t = s.register("Starter Realty", "startr", "starter").await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", vec![], "empty"),
        (
            "photo.csv",
            vec![0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0, 1, 2, 3],
            "not a CSV or Excel file",
        ),
        (
            "nocols.csv",
            b"Title,Beds\nFlat,2\n".to_vec(),
            "missing required columns",
        ),
        (
            "header-only.csv",
            b"Ref,Title,Price\n".to_vec(),
            "no data rows",
        ),
    ];
    for (name, bytes, want) in cases {
        let r = s.import(&t.admin.access, name, bytes, "").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            r.body
        );
        assert_eq!(r.code(), "invalid_file", "{name}");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(name) && msg.contains(want), "{name}: {msg}");
    }
    let dup = s
        .import(
            &t.admin.access,
            "dup.csv",
            b"Ref,Title,Price\nX-1,a,100\nX-1,b,200\n".to_vec(),
            "",
        )
        .await;
    assert_eq!(dup.code(), "import_rejected", "{}", dup.body);

    // Starter allows 1,000 listings: 1,001 is refused before anything is written.
    let big = listings_csv(1001);
    let r = s.import(&t.admin.access, "big.csv", big.into(), "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.code(), "tier_limit");
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("1000") && msg.contains("1001"), "{msg}");
    assert!(s.all_listings(&t.admin.access).await.is_empty());
    let ok = s
        .import(&t.admin.access, "fits.csv", listings_csv(1000).into(), "")
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(s.all_listings(&t.admin.access).await.len(), 1000);
}

async fn excel_uploads_and_mappings(s: TestServer) {
    let t = s.register("Excel Estates", "xl", "professional").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Listings").unwrap();
    for (c, h) in [
        "Listing Reference",
        "Headline",
        "Asking (AED)",
        "Bedrooms",
        "Area (sqm)",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "XL-1").unwrap();
    sheet.write_string(1, 1, "Downtown 1BR").unwrap();
    sheet.write_number(1, 2, 1_450_000.0).unwrap();
    sheet.write_number(1, 3, 1.0).unwrap();
    sheet.write_number(1, 4, 75.0).unwrap();
    let bytes = book.save_to_buffer().unwrap();

    // Named .csv, detected as Excel by content; the mapping names the odd price column.
    let mapping = "default_currency = \"AED\"\n[columns]\n\"Asking (AED)\" = \"price\"\n\"Headline\" = \"title\"\n";
    let r = s
        .import_with_mapping(&t.admin.access, "export.csv", bytes, "", Some(mapping))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body["format"].as_str().unwrap().starts_with("xlsx"),
        "{}",
        r.body["format"]
    );
    let stored = s.all_listings(&t.admin.access).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["external_id"], "XL-1");
    assert_eq!(stored[0]["price"]["amount_minor"], 145_000_000);
    assert_eq!(stored[0]["size"]["unit"], "sqm");
    assert!((stored[0]["size"]["sqft"].as_f64().unwrap() - 807.29).abs() < 0.1);

    let bad = s
        .import_with_mapping(
            &t.admin.access,
            "x.csv",
            b"a,b\n1,2\n".to_vec(),
            "",
            Some("[columns\n"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mapping"),
        "{}",
        bad.body
    );
}
