use reqwest::{Method, StatusCode};
use roost_tests::{TestServer, listings_csv, on_both_backends};
use serde_json::{Value, json};
use sqlx::Connection;

on_both_backends!(
    change_feed_pages_deltas_and_tombstones,
    clients_and_knowledge_follow_roles
);

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
        // The headers repeat what follows, so a device can ask for it before reading this.
        let more = r.body["has_more"] == true;
        assert_eq!(
            r.header("x-roost-next-cursor"),
            more.then(|| last.to_string()).as_deref()
        );
        assert_eq!(r.header("x-roost-scope"), r.body["scope"].as_str());
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
    // The device accepts both and gets zstd, which is both smaller and faster; the page
    // decodes to the very answer an uncompressed request gets.
    let plain = s.get("/api/v1/sync/changes?since=0", &agent.access).await;
    for (accepts, gets) in [
        ("gzip", Some("gzip")),
        ("gzip, zstd", Some("zstd")),
        ("zstd;q=0, gzip", Some("gzip")),
        ("identity", None),
    ] {
        let r = raw
            .get(format!("{}/api/v1/sync/changes?since=0", s.base))
            .bearer_auth(&agent.access)
            .header("accept-encoding", accepts)
            .send()
            .await
            .unwrap();
        let encoding = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(encoding.as_deref(), gets, "accepting {accepts}");
        let body = r.bytes().await.unwrap();
        let json = match gets {
            Some("zstd") => zstd::stream::decode_all(&body[..]).unwrap(),
            Some(_) => continue,
            None => body.to_vec(),
        };
        let page: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(page, plain.body, "accepting {accepts}");
    }

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

fn report() -> roost_api::imports::ImportReport {
    roost_api::imports::ImportReport {
        id: uuid::Uuid::now_v7(),
        kind: roost_api::imports::ImportKind::Properties,
        file_name: "test".into(),
        status: roost_api::imports::ImportStatus::Committed,
        dry_run: false,
        validation: Default::default(),
        mode: Default::default(),
        format: "test".into(),
        mapping: vec![],
        rows_total: 0,
        rows_valid: 0,
        rows_rejected: 0,
        problems: vec![],
        problems_total: 0,
        preview: vec![],
        records_preview: vec![],
        stored: None,
        rejected_because: None,
        embedding: None,
        created_at: 0,
    }
}

fn client(ext: &str, agent: Option<&str>) -> roost_db::ClientWrite {
    roost_db::ClientWrite {
        external_id: ext.into(),
        name: format!("Client {ext}"),
        email: Some(format!("{ext}@clients.test")),
        phone: None,
        agent_email: agent.map(str::to_string),
        data: json!({ "budget": "AED 2M" }),
        content_hash: format!("{ext}-{agent:?}"),
    }
}

fn item(key: &str, audience: Vec<roost_api::users::Role>) -> roost_db::KnowledgeWrite {
    roost_db::KnowledgeWrite {
        source_key: key.into(),
        kind: roost_api::knowledge::KnowledgeKind::AgentResource,
        title: format!("Resource {key}"),
        body: "Commission splits on off-plan sales are 50/50.".into(),
        audience,
        data: json!({}),
        source: None,
        content_hash: key.into(),
    }
}

fn ids_of(changes: &[Value], kind: &str, field: &str) -> Vec<String> {
    let mut v: Vec<String> = changes
        .iter()
        .filter(|c| c["kind"] == kind)
        .map(|c| {
            c[field]["external_id"]
                .as_str()
                .or(c[field]["title"].as_str())
                .unwrap_or("")
                .to_string()
        })
        .collect();
    v.sort();
    v
}

/// Clients C1 (of `first`), C2 (of `second`) and C3 (nobody's), and two resources: one for
/// everyone, one for managers and admins. Returns the tenant's context.
async fn seed_clients_and_knowledge(
    db: &roost_db::Db,
    t: &roost_tests::Tenant,
    first: &str,
    second: &str,
) -> roost_db::Ctx {
    use roost_api::users::Role;
    let ctx = roost_db::Ctx {
        tenant: roost_db::TenantId::from_verified(t.id.parse().unwrap()),
        actor: roost_db::Actor::default(),
    };
    let clients = vec![
        client("C1", Some(first)),
        client("C2", Some(second)),
        client("C3", None),
    ];
    db.apply_client_import(&ctx, clients, false, &mut report())
        .await
        .unwrap();
    let items = vec![
        item("everyone", vec![]),
        item("managers", vec![Role::Manager, Role::Admin]),
    ];
    db.apply_knowledge_import(&ctx, items, None, &mut report())
        .await
        .unwrap();
    ctx
}

async fn clients_and_knowledge_follow_roles(s: TestServer) {
    let t = s.register("Roles Realty", "roles", "professional").await;
    let (_, a1) = s.add_user(&t, "a1@roles.test", &["agent"]).await;
    let (_, a2) = s.add_user(&t, "a2@roles.test", &["agent"]).await;
    let (_, mgr) = s.add_user(&t, "m@roles.test", &["manager"]).await;

    let db = roost_db::Db::connect(&s.database_url).await.unwrap();
    let ctx = seed_clients_and_knowledge(&db, &t, "A1@roles.test", "a2@roles.test").await;

    let (a1_full, a1_cursor) = pull(&s, &a1.access, 0, 3).await;
    assert_eq!(
        ids_of(&a1_full, "client", "client"),
        ["C1"],
        "an agent gets only their clients"
    );
    assert_eq!(kinds(&a1_full, "client_deleted"), 2);
    assert_eq!(ids_of(&a1_full, "knowledge", "item"), ["Resource everyone"]);
    assert_eq!(kinds(&a1_full, "knowledge_deleted"), 1);
    let text = serde_json::to_string(&a1_full).unwrap();
    assert!(
        !text.contains("C2@clients") && !text.contains("Resource managers"),
        "{text}"
    );

    let (m_full, _) = pull(&s, &mgr.access, 0, 100).await;
    assert_eq!(ids_of(&m_full, "client", "client"), ["C1", "C2", "C3"]);
    assert_eq!(
        ids_of(&m_full, "knowledge", "item"),
        ["Resource everyone", "Resource managers"]
    );

    // C1 moves to agent 2: it leaves agent 1's device and reaches agent 2's.
    let moved = vec![client("C1", Some("a2@roles.test"))];
    db.apply_client_import(&ctx, moved, false, &mut report())
        .await
        .unwrap();
    let (a1_delta, _) = pull(&s, &a1.access, a1_cursor, 100).await;
    assert_eq!(kinds(&a1_delta, "client_deleted"), 1);
    assert_eq!(kinds(&a1_delta, "client"), 0);
    let (a2_full, _) = pull(&s, &a2.access, 0, 100).await;
    assert_eq!(ids_of(&a2_full, "client", "client"), ["C1", "C2"]);

    // The scope names the roles acted in; switching role changes it (the device resyncs).
    let scope = |token: &str, role: Option<&str>| {
        let mut rb = s.req(
            Method::GET,
            "/api/v1/sync/changes?since=0&limit=1",
            Some(token),
        );
        if let Some(r) = role {
            rb = rb.header("x-roost-role", r);
        }
        async move { roost_tests::Resp::from(rb.send().await.unwrap()).await.body["scope"].clone() }
    };
    let (_, both) = s
        .add_user(&t, "both@roles.test", &["agent", "manager"])
        .await;
    assert_ne!(
        scope(&both.access, None).await,
        scope(&both.access, Some("agent")).await
    );
    assert_eq!(
        scope(&a1.access, None).await,
        scope(&a1.access, Some("agent")).await
    );
    assert_ne!(scope(&a1.access, None).await, scope(&a2.access, None).await);
    db.close().await;
}

/// On SQLite the feed's rows are read natively (rusqlite) rather than through sqlx; both
/// paths must give the very same changes: listings with their vectors and tombstones,
/// knowledge and clients filtered by role, the config, page by page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_feed_reads_what_sqlx_reads() {
    use roost_api::users::Role;
    let s = TestServer::start(roost_tests::Backend::Sqlite)
        .await
        .expect("sqlite");
    let t = s.register("Native Reads", "native", "professional").await;
    let (agent_id, _) = s.add_user(&t, "a1@native.test", &["agent"]).await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(40).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let stored =
        roost_tests::synthetic::store_unit_vectors(&s.database_url, &t.id, "m", 8, 7).await;
    assert_eq!(stored, 40);
    let r = s
        .import(
            &t.admin.access,
            "l.csv",
            listings_csv(30).into(),
            "mode=replace",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let native = roost_db::Db::connect(&s.database_url).await.unwrap();
    let ctx =
        seed_clients_and_knowledge(&native, &t, "a1@native.test", "someone@native.test").await;
    let sqlx_only = roost_db::Db::connect(&s.database_url)
        .await
        .unwrap()
        .sqlx_reads_only();

    let agent: uuid::Uuid = agent_id.parse().unwrap();
    for (user, roles) in [
        (agent, vec![Role::Agent]),
        (uuid::Uuid::nil(), vec![Role::Admin]),
    ] {
        for model in [Some("m"), None] {
            let (mut since, mut seen) = (0, Vec::new());
            loop {
                let (a, b) = (
                    native.changes(ctx.tenant, user, &roles, since, 7, model, true),
                    sqlx_only.changes(ctx.tenant, user, &roles, since, 7, model, true),
                );
                let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
                assert_eq!(a.changes, b.changes, "after {since}, {roles:?}, {model:?}");
                assert_eq!((a.has_more, a.head), (b.has_more, b.head));
                since = a.changes.last().map_or(since, |c| c.seq());
                seen.extend(a.changes);
                if !a.has_more {
                    break;
                }
            }
            let count =
                |f: fn(&roost_db::StoredChange) -> bool| seen.iter().filter(|c| f(c)).count();
            use roost_db::StoredChange as C;
            assert_eq!(count(|c| matches!(c, C::Listing { .. })), 30);
            assert_eq!(count(|c| matches!(c, C::ListingDeleted { .. })), 10);
            let with_vectors =
                count(|c| matches!(c, C::Listing { embedding: Some(v), .. } if v.len() == 32));
            // Vectors were stored before the re-import, which kept the 30 rows' content.
            assert_eq!(with_vectors, if model.is_some() { 30 } else { 0 });
            let clients = count(|c| matches!(c, C::Client { .. }));
            assert_eq!(clients, if roles == [Role::Agent] { 1 } else { 3 });
            let knowledge = count(|c| matches!(c, C::Knowledge { .. }));
            assert_eq!(knowledge, if roles == [Role::Agent] { 1 } else { 2 });
        }
    }
    native.close().await;
    sqlx_only.close().await;
}
