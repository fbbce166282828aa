use reqwest::{Method, StatusCode};
use roost_tests::{TestServer, listings_csv, on_both_backends};
use serde_json::{Value, json};
use sqlx::Connection;

on_both_backends!(change_feed_pages_deltas_and_tombstones);

/// Follows the feed from `since` with pages of `limit`; returns the changes and the cursor.
async fn pull(s: &TestServer, token: &str, since: i64, limit: u32) -> (Vec<Value>, i64) {
    let mut all = Vec::new();
    let mut cursor = since;
    loop {
        let r = s
            .get(
                &format!("/api/v1/sync/changes?since={cursor}&limit={limit}"),
                token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = r.body["changes"].as_array().unwrap().clone();
        assert!(page.len() <= limit as usize);
        let mut last = cursor;
        for c in &page {
            let seq = c["seq"].as_i64().unwrap();
            assert!(
                seq > last,
                "ascending, after the cursor: {seq} after {last}"
            );
            last = seq;
        }
        assert_eq!(r.body["next_cursor"].as_i64().unwrap(), last);
        all.extend(page);
        cursor = last;
        if r.body["has_more"] == false {
            return (all, cursor);
        }
    }
}

fn kinds(changes: &[Value], kind: &str) -> usize {
    changes.iter().filter(|c| c["kind"] == kind).count()
}

async fn change_feed_pages_deltas_and_tombstones(s: TestServer) {
    let t = s.register("Sync Homes", "synch", "professional").await;
    let (_, agent) = s.add_user(&t, "agent@synch.test", &["agent"]).await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(25).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A full sync, in pages of 10: every listing once, and the config.
    let (full, cursor) = pull(&s, &agent.access, 0, 10).await;
    assert_eq!(kinds(&full, "listing"), 25);
    assert_eq!(kinds(&full, "config"), 1);
    let config = full.iter().find(|c| c["kind"] == "config").unwrap();
    assert_eq!(
        config["config"]["config"]["company_info"]["name"],
        "Sync Homes"
    );
    let l7 = full
        .iter()
        .find(|c| c["listing"]["external_id"] == "L-0007")
        .unwrap();
    assert_eq!(l7["listing"]["community"], "JVC");
    assert!(l7["embedding"].is_null(), "no model on this server");

    // Nothing new: same cursor, empty page.
    let r = s
        .get(
            &format!("/api/v1/sync/changes?since={cursor}"),
            &agent.access,
        )
        .await;
    assert_eq!(r.body["changes"], json!([]));
    assert_eq!(r.body["next_cursor"], cursor);
    assert_eq!(r.body["has_more"], false);

    // Deltas: one listing changed, the rest replaced away, branding changed.
    let csv = listings_csv(2).replace("Sea", "Marina");
    let r = s
        .import(&t.admin.access, "two.csv", csv.into(), "mode=replace")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["stored"]["updated"], 1);
    assert_eq!(r.body["stored"]["deleted"], 23);
    let cfg = s.get("/api/v1/config", &t.admin.access).await;
    let mut body = cfg.body["config"].clone();
    body["company_info"]["primary_color"] = json!("#123456");
    let put = s
        .req(Method::PUT, "/api/v1/config", Some(&t.admin.access))
        .header("if-match", cfg.header("etag").unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);

    let (delta, cursor2) = pull(&s, &agent.access, cursor, 100).await;
    assert_eq!(kinds(&delta, "listing"), 1, "{delta:?}");
    assert_eq!(kinds(&delta, "listing_deleted"), 23);
    assert_eq!(kinds(&delta, "config"), 1);
    let changed = delta.iter().find(|c| c["kind"] == "listing").unwrap();
    assert_eq!(changed["listing"]["external_id"], "L-0002");
    assert_eq!(changed["listing"]["attributes"]["View"], "Marina");
    assert_eq!(
        delta.last().unwrap()["kind"],
        "config",
        "the config change came last"
    );
    assert!(cursor2 > cursor);

    // The feed is compressed for clients that accept it.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_zstd()
        .build()
        .unwrap();
    let r = raw
        .get(format!("{}/api/v1/sync/changes?since=0", s.base))
        .bearer_auth(&agent.access)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("content-encoding").unwrap(), "gzip");

    let r = s.get("/api/v1/sync/changes?since=-1", &agent.access).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "validation_failed")
    );

    // A cursor older than the kept history asks for a full resync.
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&s.database_url).await.unwrap();
    sqlx::query("UPDATE tenants SET purged_before = 5 WHERE slug = 'synch'")
        .execute(&mut conn)
        .await
        .unwrap();
    let r = s.get("/api/v1/sync/changes?since=3", &agent.access).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::GONE, "resync_required"),
        "{}",
        r.body
    );
    let r = s.get("/api/v1/sync/changes?since=5", &agent.access).await;
    assert_eq!(r.status, StatusCode::OK);
}
