use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roost_tests::{Backend, TestServer, on_both_backends_raw, shared_embedder};
use sqlx::{Connection, Row};

on_both_backends_raw!(listings_are_embedded_after_import_and_only_again_when_changed);

const CSV: &str = "Ref,Title,Property Type,Community,Beds,Price,Description\n\
V-1,Family villa with private pool,Villa,Arabian Ranches,4,AED 4.2M,Garden and a private swimming pool\n\
O-1,Fitted office floor,Office,Business Bay,,AED 2.1M,Open-plan office space with meeting rooms\n\
S-1,Compact studio,Apartment,JVC,0,AED 450K,Studio apartment near the community park\n";

async fn wait_embedded(s: &TestServer, token: &str, import_id: &str, total: u64) {
    let started = Instant::now();
    loop {
        let r = s.get(&format!("/api/v1/imports/{import_id}"), token).await;
        let e = &r.body["embedding"];
        assert_eq!(e["total"].as_u64(), Some(total), "{}", r.body);
        if e["embedded"].as_u64() == Some(total) {
            assert_eq!(e["model"], "all-MiniLM-L6-v2-w8a8");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "embedding stalled: {e}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn vectors(url: &str) -> Vec<(String, Vec<f32>, i64)> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT l.external_id, e.vector, e.created_at FROM listing_embeddings e
         JOIN listings l ON l.tenant_id = e.tenant_id AND l.id = e.listing_id ORDER BY l.external_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            let bytes: Vec<u8> = r.get("vector");
            (
                r.get("external_id"),
                roost_embed::decode_f32_le(&bytes, 384).unwrap(),
                r.get("created_at"),
            )
        })
        .collect()
}

async fn listings_are_embedded_after_import_and_only_again_when_changed(backend: Backend) {
    let Some(embedder) = shared_embedder() else {
        return;
    };
    let Some(s) = TestServer::start_embedding(backend, Some(embedder.clone())).await else {
        return;
    };
    let t = s.register("Vector Homes", "vec", "professional").await;
    let r = s.import(&t.admin.access, "l.csv", CSV.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let first = r.body["id"].as_str().unwrap().to_string();
    wait_embedded(&s, &t.admin.access, &first, 3).await;

    let stored = vectors(&s.database_url).await;
    assert_eq!(stored.len(), 3);
    let q = embedder
        .embed_query("3 bedroom villa with a swimming pool in Arabian Ranches")
        .unwrap();
    let sim = |ext: &str| roost_embed::cosine(&q, &stored.iter().find(|v| v.0 == ext).unwrap().1);
    assert!(
        sim("V-1") > sim("O-1") + 0.1,
        "villa {} vs office {}",
        sim("V-1"),
        sim("O-1")
    );
    assert!(
        sim("V-1") > sim("S-1"),
        "villa {} vs studio {}",
        sim("V-1"),
        sim("S-1")
    );

    // The change feed carries each vector beside its listing, in the announced model.
    let feed = s.get("/api/v1/sync/changes?since=0", &t.admin.access).await;
    assert_eq!(feed.body["embedding_model"]["id"], "all-MiniLM-L6-v2-w8a8");
    assert_eq!(feed.body["embedding_model"]["dim"], 384);
    let villa = feed.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["kind"] == "listing" && c["listing"]["external_id"] == "V-1")
        .unwrap()
        .clone();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(villa["embedding"].as_str().expect("embedding in the feed"))
        .unwrap();
    let v = roost_embed::decode_f32_le(&bytes, 384).unwrap();
    assert_eq!(v, stored.iter().find(|x| x.0 == "V-1").unwrap().1);

    // Re-import with one changed row: only that row is embedded again.
    let changed = CSV.replace("Compact studio", "Bright studio with balcony");
    let r = s.import(&t.admin.access, "l.csv", changed.into(), "").await;
    assert_eq!(r.body["stored"]["updated"], 1, "{}", r.body);
    let second = r.body["id"].as_str().unwrap().to_string();
    // The import's progress counts the rows it wrote: the one changed row.
    wait_embedded(&s, &t.admin.access, &second, 1).await;
    let again = vectors(&s.database_url).await;
    for (before, after) in stored.iter().zip(&again) {
        if before.0 == "S-1" {
            assert!(
                after.2 >= before.2 && after.1 != before.1,
                "S-1 re-embedded"
            );
        } else {
            assert_eq!(after.2, before.2, "{} kept its vector", before.0);
        }
    }
}
