//! Times parsing a generated 10,000-row listings CSV.
//! Run with `cargo run --release -p roost-import --example parse_bench`.

use std::fmt::Write;
use std::time::Instant;

use roost_import::{Currency, ImportOptions, parse_properties};

fn main() {
    let rows = 10_000;
    let csv = generate(rows);
    let opts = ImportOptions {
        default_currency: Currency::parse("AED"),
        ..ImportOptions::default()
    };
    // One warm-up run, then the best of five, to keep noise out of the number.
    let mut best = f64::MAX;
    let mut records = 0;
    for _ in 0..6 {
        let start = Instant::now();
        let parsed =
            parse_properties(csv.as_bytes(), "bench.csv", &opts).expect("bench file parses");
        best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        records = parsed.records.len();
        assert!(parsed.errors.is_empty(), "{:?}", &parsed.errors[..1]);
    }
    assert_eq!(records, rows);
    println!("file {} bytes, {records} records", csv.len());
    println!("BENCH import_parse_10k_rows {best:.1} ms");
}

fn generate(rows: usize) -> String {
    let mut out = String::from(
        "Ref,Title,Price,Beds,Baths,Size,Type,Community,City,Status,Lat,Lng,Furnished,Photos,Listed,Agent\n",
    );
    let communities = [
        "Dubai Marina",
        "JVC",
        "Downtown",
        "Palm Jumeirah",
        "Business Bay",
    ];
    for i in 0..rows {
        let beds = i % 6;
        let _ = writeln!(
            out,
            "REF-{i:05},\"{} bed apartment, {}\",\"AED {},{:03},000\",{},{}.5,\"{},{:03} sqft\",Apartment,{},Dubai,For Sale,25.{:04},55.{:04},{},https://cdn.example/{i}/1.jpg|https://cdn.example/{i}/2.jpg,2024-{:02}-{:02},Agent {}",
            if beds == 0 {
                "Studio".to_string()
            } else {
                beds.to_string()
            },
            communities[i % communities.len()],
            1 + i % 9,
            i % 1000,
            if beds == 0 {
                "Studio".to_string()
            } else {
                beds.to_string()
            },
            1 + i % 4,
            1 + i % 3,
            i % 1000,
            communities[i % communities.len()],
            i % 10_000,
            (i * 7) % 10_000,
            if i % 2 == 0 { "Yes" } else { "No" },
            1 + i % 12,
            1 + i % 28,
            i % 40,
        );
    }
    out
}
