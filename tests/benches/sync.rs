//! Device sync figures: 10,000 listings with vectors pulled from a loopback server into a
//! fresh device cache, and what they cost on the wire.

use std::ops::ControlFlow;
use std::time::Instant;

use rand::Rng;
use reqwest::StatusCode;
use roost_tests::{Backend, TestServer, listings_csv};
use sqlx::{Connection, Row};

const N: usize = 10_000;

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.2} {unit}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(embedder) = roost_tests::shared_embedder() else {
        eprintln!(
            "the sync bench needs the model (ROOST_EMBED_MODEL_DIR) so the feed carries vectors"
        );
        std::process::exit(1);
    };
    let model = embedder.model_id().to_string();
    // Listings first, then synthetic unit vectors stored as if the worker had made them
    // (embedding 10k texts for real takes minutes here), then the server with the model.
    let s = TestServer::start(Backend::Sqlite).await.expect("server");
    let t = s.register("Sync Bench", "syncbench", "enterprise").await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(N).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&s.database_url).await.unwrap();
    let rows = sqlx::query("SELECT id, content_hash FROM listings")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let mut rng = rand::rng();
    let mut tx = conn.begin().await.unwrap();
    for row in &rows {
        let mut v: Vec<f32> = (0..384).map(|_| rng.random_range(-1.0..1.0)).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        sqlx::query(
            "INSERT INTO listing_embeddings (tenant_id, listing_id, model, dim, vector, content_hash, created_at)
             VALUES ($1, $2, $3, 384, $4, $5, 0)",
        )
        .bind(&t.id)
        .bind(row.get::<String, _>("id"))
        .bind(&model)
        .bind(roost_embed::encode_f32_le(&v))
        .bind(row.get::<String, _>("content_hash"))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    drop(conn);
    let s = s.restart(Some(embedder)).await;
    let admin = s
        .login("syncbench", "admin@syncbench.test", "syncbench-admin-pass")
        .await;

    // The wire: compressed pages as a client that accepts gzip receives them.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_zstd()
        .build()
        .unwrap();
    let (mut wire, mut cursor, mut raw_size) = (0u64, 0i64, 0u64);
    loop {
        let r = raw
            .get(format!(
                "{}/api/v1/sync/changes?since={cursor}&limit=1000",
                s.base
            ))
            .bearer_auth(&admin.access)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        wire += r.bytes().await.unwrap().len() as u64;
        let page = s
            .get(
                &format!("/api/v1/sync/changes?since={cursor}&limit=1000"),
                &admin.access,
            )
            .await;
        for c in page.body["changes"].as_array().unwrap() {
            if c["kind"] == "listing" {
                assert!(
                    c["embedding"].is_string(),
                    "every listing carries its vector"
                );
                raw_size += serde_json::to_vec(&c["listing"]).unwrap().len() as u64 + 384 * 4;
            }
        }
        cursor = page.body["next_cursor"].as_i64().unwrap();
        if page.body["has_more"] == false {
            break;
        }
    }
    bench("sync_bytes_per_listing", wire as f64 / N as f64, "bytes");
    bench("sync_wire_vs_raw", wire as f64 / raw_size as f64, "x");

    // A fresh device pulls everything.
    let dir = tempfile::tempdir().unwrap();
    let mut cache = roost_core::Cache::open(dir.path(), &t.id, "admin").unwrap();
    let client = roost_core::SyncClient::new(
        &s.base,
        roost_core::Tokens {
            access: admin.access.clone(),
            refresh: None,
        },
    )
    .unwrap()
    .with_page_size(1000);
    let mut client = client;
    let started = Instant::now();
    let report = client
        .sync(&mut cache, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert!(report.finished);
    assert_eq!(cache.listing_count().unwrap(), N as u64);
    bench("sync_initial_10k_s", secs, "s");
    bench("sync_apply_rows_per_s", N as f64 / secs, "rows/s");
}
