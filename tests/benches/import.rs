//! Import figures: a 50,000-row dry run (time, peak memory) and a 2,000-row import end to end
//! (parse, validate, store, embed) against embedding the same texts alone.
//! Runs in its own process so the peak-memory figure is this workload's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roost_tests::{Backend, TestServer, listings_csv};

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.2} {unit}");
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let embedder = roost_tests::shared_embedder();
    let s = TestServer::start_embedding(Backend::Sqlite, embedder.clone())
        .await
        .expect("server");
    let t = s.register("Bench Imports", "benchimp", "enterprise").await;

    let big = listings_csv(50_000);
    let started = Instant::now();
    let r = s
        .import(&t.admin.access, "big.csv", big.into_bytes(), "dry_run=true")
        .await;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["rows_valid"], 50_000);
    bench("import_50k_dry_run_s", secs, "s");
    bench("import_50k_peak_rss_mb", peak_rss_mib(), "MiB");

    let csv = listings_csv(2_000);
    let started = Instant::now();
    let r = s
        .import(&t.admin.access, "two-k.csv", csv.into_bytes(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let stored_secs = started.elapsed().as_secs_f64();
    bench("import_2k_store_s", stored_secs, "s");

    let Some(embedder) = embedder else {
        eprintln!(
            "no embedding model configured (ROOST_EMBED_MODEL_DIR): skipping embedding figures"
        );
        bench("import_rows_per_s", 2000.0 / stored_secs, "rows/s");
        return;
    };
    // End to end: until every row has its vector.
    let location = format!("/api/v1/imports/{}", r.body["id"].as_str().unwrap());
    loop {
        let p = s.get(&location, &t.admin.access).await;
        let e = &p.body["embedding"];
        if e["embedded"].as_u64() == Some(2000) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "embedding stalled: {e}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let end_to_end = started.elapsed().as_secs_f64();
    bench("import_rows_per_s", 2000.0 / end_to_end, "rows/s");

    // The same texts through the model alone, in the same batches.
    let listings = s.all_listings(&t.admin.access).await;
    let texts: Vec<String> = listings
        .iter()
        .map(|l| roost_server::embedding::listing_text(&serde_json::from_value(l.clone()).unwrap()))
        .collect();
    let e = Arc::clone(&embedder);
    let alone = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        for chunk in texts.chunks(32) {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            e.embed_documents(&refs).expect("embed");
        }
        started.elapsed().as_secs_f64()
    })
    .await
    .unwrap();
    bench("import_embed_alone_2k_s", alone, "s");
    bench("import_ratio_vs_embed", end_to_end / alone, "x");
}
