//! Sync through a fault-injecting proxy and through bad pages: a connection cut inside a
//! page, a server killed mid-sync and restarted, an access token expiring mid-sync, duplicate
//! and replayed pages, a role change. Each time the device keeps whole pages only and ends
//! equal to a device that saw no fault (or, for the role change, to what the server shows).

use std::ops::ControlFlow;

use reqwest::{Method, StatusCode};
use roost_api::sync::ChangePage;
use roost_core::{Cache, CoreError, RejectReason, SyncReport};
use roost_tests::faults::{Fault, FaultProxy};
use roost_tests::{Backend, Tenant, TestServer, listings_csv};
use serde_json::json;

use crate::sync_support::{all_pages, assert_same_view, device_client, device_view, server_view};
use crate::{open_cache, snapshot};

const PAGE: u32 = 10;

/// A server with a company with `n` listings (`n + 1` changes: the config comes too).
async fn server_with(slug: &str, n: usize) -> (TestServer, Tenant) {
    let s = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let t = s.register("Fault Homes", slug, "professional").await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(n).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (s, t)
}

/// A cache that applied `pages` up to `cursor`, which must end one of them.
fn reference_at(dir: &std::path::Path, name: &str, pages: &[ChangePage], cursor: i64) -> Cache {
    let mut cache = open_cache(dir, "reference", name);
    for page in pages.iter().take_while(|p| p.next_cursor <= cursor) {
        cache.apply_page(page).unwrap();
    }
    assert_eq!(
        cache.sync_state().unwrap().cursor,
        cursor,
        "cursor {cursor} does not end a page"
    );
    cache
}

async fn sync(
    client: &mut roost_core::SyncClient,
    cache: &mut Cache,
) -> Result<SyncReport, CoreError> {
    client.sync(cache, |_| ControlFlow::Continue(())).await
}

/// A fault on the wire surfaces as a network error, never as a refused page or a broken cache.
fn assert_network_error(e: &CoreError) {
    assert!(
        matches!(e, CoreError::Http { .. } | CoreError::BadResponse { .. }),
        "expected a network error, got {e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_inside_a_page_resumes_from_the_last_applied_page() {
    let (s, t) = server_with("cutpage", 55).await;
    let (tenant, admin) = (&t.id, &t.admin);
    let proxy = FaultProxy::start(&s.base).await;
    let pages = all_pages(&proxy.base(), &admin.access, PAGE).await;
    assert_eq!(pages.len(), 6, "56 changes in pages of {PAGE}");
    // Sizes of whole answers on the wire, to cut inside one: in the headers, after them, in
    // the compressed body, near its end (not at one byte short: the chunking of a
    // compressed body, and so its size, varies by a few bytes from answer to answer).
    let full = *proxy.response_sizes().iter().min().unwrap();
    assert!(full > 400, "{full} bytes");
    let cuts = [0, 1, 120, full / 2, full * 9 / 10];

    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), tenant, "device");
    let mut client = device_client(&proxy.base(), &admin.access, PAGE);
    for (round, cut) in cuts.into_iter().enumerate() {
        let before = cache.sync_state().unwrap().cursor;
        let faults_before = proxy.stats().faults;
        // One page arrives whole, the next one is cut.
        proxy.push([Fault::Pass, Fault::CutResponse(cut)]);
        let err = sync(&mut client, &mut cache).await.unwrap_err();
        assert_network_error(&err);
        assert_eq!(proxy.stats().faults, faults_before + 1);
        assert_eq!(proxy.pending(), 0);
        // Exactly the page that arrived whole was applied.
        let cursor = cache.sync_state().unwrap().cursor;
        let expected = pages
            .iter()
            .find(|p| p.next_cursor > before)
            .unwrap()
            .next_cursor;
        assert_eq!(cursor, expected, "round {round}, cut after {cut} bytes");
        let reference = reference_at(dir.path(), &format!("r{round}"), &pages, cursor);
        assert_eq!(snapshot(&cache), snapshot(&reference), "round {round}");
        assert!(cache.integrity_problems().unwrap().is_empty());
    }

    // The request that never reached the server, too.
    let before = snapshot(&cache);
    proxy.push([Fault::DropRequest]);
    assert_network_error(&sync(&mut client, &mut cache).await.unwrap_err());
    assert_eq!(snapshot(&cache), before);

    let rest = sync(&mut client, &mut cache).await.unwrap();
    assert!(rest.finished && !rest.resynced);
    assert_eq!(rest.pages, 1, "only the last page was left");
    let whole = reference_at(
        dir.path(),
        "whole",
        &pages,
        pages.last().unwrap().next_cursor,
    );
    assert_eq!(snapshot(&cache), snapshot(&whole));
    assert_eq!(cache.listing_count().unwrap(), 55);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_sync_and_restarted_is_resumed() {
    let (s, t) = server_with("killsrv", 45).await;
    let (tenant, admin) = (&t.id, &t.admin);
    let proxy = FaultProxy::start(&s.base).await;
    let pages = all_pages(&s.base, &admin.access, PAGE).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = open_cache(dir.path(), tenant, "device");

    // The third request reaches the server, which dies before answering.
    proxy.push([Fault::Pass, Fault::Pass, Fault::Stall]);
    let mut client = device_client(&proxy.base(), &admin.access, PAGE);
    let syncing = tokio::spawn(async move {
        let mut cache = cache;
        let result = sync(&mut client, &mut cache).await;
        (cache, result)
    });
    tokio::time::timeout(std::time::Duration::from_secs(30), proxy.stalled())
        .await
        .expect("the third request stalls");
    proxy.kill_upstream();
    let (mut cache, result) = syncing.await.unwrap();
    assert_network_error(&result.unwrap_err());
    let cursor = cache.sync_state().unwrap().cursor;
    assert_eq!(cursor, pages[1].next_cursor, "two pages applied");

    // While the server is down, syncing fails and changes nothing.
    let mut client = device_client(&proxy.base(), &admin.access, PAGE);
    let before = snapshot(&cache);
    assert_network_error(&sync(&mut client, &mut cache).await.unwrap_err());
    assert_eq!(snapshot(&cache), before);
    assert!(proxy.stats().refused > 0);

    // Back (at another port, behind the same proxy): the sync picks up at the cursor.
    let s = s.restart(None).await;
    proxy.set_upstream(&s.base);
    let rest = sync(&mut client, &mut cache).await.unwrap();
    assert!(rest.finished && !rest.resynced);
    let total: usize = pages.iter().map(|p| p.changes.len()).sum();
    let applied: usize = pages[..2].iter().map(|p| p.changes.len()).sum();
    assert_eq!(
        rest.changes as usize,
        total - applied,
        "resumed, not restarted"
    );
    let whole = reference_at(
        dir.path(),
        "whole",
        &pages,
        pages.last().unwrap().next_cursor,
    );
    assert_eq!(snapshot(&cache), snapshot(&whole));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_mid_sync() {
    let (s, t) = server_with("expiry", 25).await;
    let proxy = FaultProxy::start(&s.base).await;
    let pages = all_pages(&s.base, &t.admin.access, PAGE).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), &t.id, "device");
    let refreshed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = refreshed.clone();
    let mut client = roost_core::SyncClient::new(
        &proxy.base(),
        roost_core::Tokens {
            access: t.admin.access.clone(),
            refresh: Some(t.admin.refresh.clone()),
        },
    )
    .unwrap()
    .with_page_size(PAGE)
    .on_token_refresh(move |tokens| seen.lock().unwrap().push(tokens.refresh_token.clone()));

    // The first page's request, then the second's (fetched while the first is applied) meet
    // an expired token; each time the client refreshes and asks again.
    proxy.push([
        Fault::Unauthorized,
        Fault::Pass,
        Fault::Pass,
        Fault::Unauthorized,
    ]);
    let report = sync(&mut client, &mut cache).await.unwrap();
    assert!(report.finished);
    assert_eq!(proxy.pending(), 0);
    assert_eq!(refreshed.lock().unwrap().len(), 2, "one refresh per 401");
    let whole = reference_at(
        dir.path(),
        "whole",
        &pages,
        pages.last().unwrap().next_cursor,
    );
    assert_eq!(snapshot(&cache), snapshot(&whole));
    // The client kept the newest pair: the spent refresh tokens were not reused.
    assert_eq!(
        client.tokens().refresh.as_deref(),
        refreshed.lock().unwrap().last().map(String::as_str)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_replayed_pages_change_nothing() {
    let (s, t) = server_with("replay", 25).await;
    let (tenant, admin) = (&t.id, &t.admin);
    let pages = all_pages(&s.base, &admin.access, PAGE).await;
    assert_eq!(pages.len(), 3);
    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), tenant, "device");
    let rejected = |cache: &mut Cache, page: &ChangePage, what: &str| {
        let before = snapshot(cache);
        let err = cache.apply_page(page).unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::PageRejected(RejectReason::NotAfterCursor { .. })
            ),
            "{what}: {err}"
        );
        assert_eq!(snapshot(cache), before, "{what} changed the cache");
    };

    cache.apply_page(&pages[0]).unwrap();
    rejected(&mut cache, &pages[0], "the same page twice");
    cache.apply_page(&pages[1]).unwrap();
    rejected(&mut cache, &pages[0], "an older page after a newer one");
    rejected(&mut cache, &pages[1], "the newest page again");
    // A page that starts before the cursor and reaches past it (a replayed answer to an
    // older request with a larger limit): nothing of it applies, not even the new part.
    let mut overlapping = pages[1].clone();
    overlapping.changes.extend(pages[2].changes.iter().cloned());
    overlapping.next_cursor = pages[2].next_cursor;
    overlapping.has_more = false;
    rejected(&mut cache, &overlapping, "an overlapping page");
    // "Nothing new" at the cursor, replayed: applies and changes nothing.
    let before = snapshot(&cache);
    let empty = ChangePage {
        changes: vec![],
        next_cursor: pages[1].next_cursor,
        has_more: false,
        head: 0,
        ..pages[1].clone()
    };
    cache.apply_page(&empty).unwrap();
    cache.apply_page(&empty).unwrap();
    assert_eq!(snapshot(&cache), before);

    cache.apply_page(&pages[2]).unwrap();
    rejected(&mut cache, &pages[2], "the last page again");
    let whole = reference_at(dir.path(), "whole", &pages, pages[2].next_cursor);
    assert_eq!(snapshot(&cache), snapshot(&whole));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_removes_what_the_new_role_may_not_see() {
    let (s, t) = server_with("rolechg", 12).await;
    let (dev_id, dev) = s.add_user(&t, "dev@rolechg.test", &["manager"]).await;
    s.add_user(&t, "other@rolechg.test", &["agent"]).await;
    let clients = "Client Ref,Full Name,E-mail,Assigned Agent\n\
                   C-1,Mine,c1@mail.test,dev@rolechg.test\n\
                   C-2,Theirs,c2@mail.test,other@rolechg.test\n\
                   C-3,Unassigned,c3@mail.test,\n";
    let r = s
        .import(&t.admin.access, "c.csv", clients.into(), "kind=clients")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let resources = r#"{ "resources": [
        { "title": "Viewing checklist", "body": "Confirm the viewing a day ahead." },
        { "title": "Team targets", "body": "Targets per agent.", "audience": ["manager", "admin"] } ] }"#;
    let r = s
        .import(
            &t.admin.access,
            "r.json",
            resources.into(),
            "kind=agent_resources",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), &t.id, "dev");
    let mut client = device_client(&s.base, &dev.access, 5);
    let names = |cache: &Cache| {
        let clients: Vec<String> = cache
            .clients()
            .unwrap()
            .into_iter()
            .map(|c| c.external_id)
            .collect();
        let mut knowledge: Vec<String> = cache
            .knowledge_items()
            .unwrap()
            .into_iter()
            .map(|k| k.title)
            .collect();
        knowledge.sort();
        let mut clients = clients;
        clients.sort();
        (clients, knowledge)
    };
    let set_roles = |roles: &'static [&'static str]| {
        let path = format!("/api/v1/users/{dev_id}");
        let s = &s;
        let token = t.admin.access.clone();
        async move {
            let r = s
                .call(
                    Method::PATCH,
                    &path,
                    Some(&token),
                    Some(json!({ "roles": roles })),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    };

    let first = sync(&mut client, &mut cache).await.unwrap();
    assert!(!first.resynced);
    assert_eq!(
        names(&cache),
        (
            vec!["C-1".into(), "C-2".into(), "C-3".into()],
            vec!["Team targets".into(), "Viewing checklist".into()]
        )
    );
    assert_same_view(
        &device_view(&cache),
        &server_view(&s, &dev.access).await,
        "as manager",
    );

    // Now an agent: the other agent's client, the unassigned one and the managers' resource
    // leave the device; the listings come again with the full resync.
    set_roles(&["agent"]).await;
    let report = sync(&mut client, &mut cache).await.unwrap();
    assert!(report.resynced && report.finished);
    assert_eq!(
        names(&cache),
        (vec!["C-1".into()], vec!["Viewing checklist".into()])
    );
    assert_eq!(cache.listing_count().unwrap(), 12);
    assert_same_view(
        &device_view(&cache),
        &server_view(&s, &dev.access).await,
        "as agent",
    );

    // And back: what the manager role allows returns.
    set_roles(&["agent", "manager"]).await;
    let report = sync(&mut client, &mut cache).await.unwrap();
    assert!(report.resynced);
    assert_eq!(names(&cache).0.len(), 3);
    assert_same_view(
        &device_view(&cache),
        &server_view(&s, &dev.access).await,
        "as agent and manager",
    );
}
