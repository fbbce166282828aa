//! The agent's actions in the real webview: a lead and a WhatsApp showcase of two picked
//! search results made while the server cannot be reached, queued in Activity, then sent
//! once when it is back — one WhatsApp message, one record of each on the server.

use std::time::{Duration, Instant};

use roost_tests::desktop::{App, Display, desktop_bin};
use roost_tests::faults::FaultProxy;
use roost_tests::whatsapp_standin::{TOKEN, connect_whatsapp, effects, whatsapp_standin};
use roost_tests::{Backend, TestServer};
use serde_json::Value;

use super::{sign_in, wait_for_results};

/// Like `App::until`, for waits that include the app's retry schedule (offline sync every
/// 10 s, then the outbox's backoff).
async fn until_slow<F, Fut>(app: &App, what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        if started.elapsed() > limit {
            app.screenshot("actions-timeout").await;
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The text of `css`, empty when there is no such element (no waiting).
async fn text_of(app: &App, css: &str) -> String {
    let script = format!(
        "const e = document.querySelector({}); return e ? e.textContent.trim() : '';",
        serde_json::to_string(css).unwrap()
    );
    app.js(&script)
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `(data-key, data-status)` of every Activity row, top to bottom.
async fn activity_rows(app: &App) -> Vec<(String, String)> {
    let rows = app
        .js("return [...document.querySelectorAll('.activity-row')] \
             .map(r => [r.dataset.key, r.dataset.status]);")
        .await;
    rows.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_string(),
                r[1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn disabled(app: &App, css: &str) -> bool {
    let script = format!(
        "const e = document.querySelector({}); return !!(e && e.disabled);",
        serde_json::to_string(css).unwrap()
    );
    app.js(&script).await.as_bool().unwrap_or(false)
}

/// Clicks `css` after scrolling it to the middle of the window, clear of the sticky
/// selection bar at the bottom.
async fn click_centered(app: &App, css: &str) {
    let script = format!(
        "document.querySelector({}).scrollIntoView({{ block: 'center' }});",
        serde_json::to_string(css).unwrap()
    );
    app.find(css).await;
    app.js(&script).await;
    app.click(css).await;
}

/// Waits for a dialog to close after submit; a refusal shown in it fails the test with it.
async fn closes(app: &App, dialog: &str, error: &str) {
    let started = Instant::now();
    loop {
        let refusal = text_of(app, error).await;
        assert!(refusal.is_empty(), "{dialog} refused: {refusal}");
        if app.all(dialog).await.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < roost_tests::desktop::WAIT,
            "{dialog} never closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn press_escape(app: &App, css: &str) {
    let key = fantoccini::key::Key::Escape.to_string();
    app.find(css).await.send_keys(&key).await.expect("escape");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_queues_a_lead_and_a_showcase_offline_and_they_go_once_back_online() {
    let Some(bin) = desktop_bin() else { return };
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    assert!(roost_server::demo::seed(&server.state).await.unwrap());
    let (admin_email, _, _, admin_password) = roost_server::demo::USERS[0];
    let admin = server.login("demo", admin_email, admin_password).await;
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&server, &admin.access, &wa.base, TOKEN).await;

    let (email, _, roles, password) = roost_server::demo::USERS[2];
    assert_eq!(roles, [roost_api::users::Role::Agent]);
    let agent = server.login("demo", email, password).await;
    // The agent's own client with a phone, as the device will have it.
    let clients = server.get("/api/v1/clients", &agent.access).await;
    assert_eq!(clients.status, 200, "{}", clients.body);
    let layla = clients
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Layla Haddad")
        .cloned()
        .unwrap_or_else(|| panic!("no Layla Haddad among {}", clients.body));
    let layla_id = layla["id"].as_str().unwrap().to_string();

    let network = FaultProxy::start(&server.base).await;
    let display = Display::start();
    let data = tempfile::tempdir().unwrap();
    let app = App::launch(&bin, &display, data.path(), &network.base()).await;
    sign_in(&app, "demo", email, password).await;
    wait_for_results(&app).await;

    // Nothing done yet.
    app.click("#nav-activity").await;
    app.find("#activity-empty").await;
    app.screenshot("activity-empty-1280").await;
    app.click("#nav-search").await;
    wait_for_results(&app).await;

    // Picking results: an eleventh is refused, clearing starts over.
    let ids = app.result_ids().await;
    assert!(ids.len() >= 11, "only {} result cards", ids.len());
    for id in &ids[..11] {
        click_centered(&app, &format!("#results .card-select[data-id='{id}']")).await;
    }
    assert_eq!(app.text("#selection-count").await, "10 selected");
    assert!(
        app.text("#selection-note").await.contains("up to 10"),
        "no note about the limit"
    );
    app.click("#clear-selection").await;
    app.until("the selection bar to go", || async {
        app.all("#selection-bar").await.is_empty()
    })
    .await;

    // The server cannot be reached any more; "Sync now" finds out.
    network.kill_upstream();
    app.click("#sync-now").await;
    app.until("the offline badge", || async {
        app.text("#sync-status").await.starts_with("Offline")
    })
    .await;

    // Two results picked; the card's own click still opens nothing.
    wait_for_results(&app).await;
    let ids = app.result_ids().await;
    let (first, second) = (ids[0].clone(), ids[1].clone());
    for id in [&first, &second] {
        click_centered(&app, &format!("#results .card-select[data-id='{id}']")).await;
    }
    assert_eq!(app.text("#selection-count").await, "2 selected");
    assert!(app.all("#detail-title").await.is_empty());
    app.js("window.scrollTo(0, 0);").await;
    app.screenshot("search-selection-1280").await;

    // A lead for the two picked listings.
    app.click("#lead-selection").await;
    app.find("#lead-dialog").await;
    app.until("the linked listings", || async {
        app.all("#lead-listings .linked-chip").await.len() == 2
    })
    .await;
    let focused = app
        .js("return document.activeElement && document.activeElement.id;")
        .await;
    assert_eq!(focused.as_str(), Some("lead-name"), "focus on open");
    assert!(disabled(&app, "#lead-submit").await);
    assert_eq!(
        app.find("#lead-currency")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("AED")
    );
    app.type_into("#lead-name", "Omar Haddad").await;
    assert!(
        app.text("#lead-missing")
            .await
            .contains("phone number or email"),
        "the form says what is missing"
    );
    app.type_into("#lead-phone", "+971 50 765 4321").await;
    app.type_into("#lead-email", "omar.haddad@example.com")
        .await;
    app.type_into("#lead-budget", "2.5M").await;
    app.type_into("#lead-interests", "3-bed villa, ready to move by summer")
        .await;
    app.until("the lead form to be complete", || async {
        !disabled(&app, "#lead-submit").await
    })
    .await;
    app.screenshot("lead-dialog-1280").await;
    app.resize(390, 844).await;
    app.screenshot("lead-dialog-390").await;
    app.resize(1280, 800).await;
    app.click("#lead-submit").await;
    closes(&app, "#lead-dialog", "#lead-error").await;
    assert_eq!(
        app.text("#toast-text").await,
        "Queued — it will be sent when you're online"
    );
    assert_eq!(app.text("#selection-count").await, "2 selected");

    // Escape closes the send dialog without sending.
    app.click("#send-selection").await;
    app.find("#send-dialog").await;
    press_escape(&app, "#client-search").await;
    app.until("Escape to close the dialog", || async {
        app.all("#send-dialog").await.is_empty()
    })
    .await;

    // A WhatsApp showcase of the same two, to the agent's client found by name.
    app.click("#send-selection").await;
    app.find("#send-dialog").await;
    app.until("the preview of both listings", || async {
        app.all("#preview-listings .preview-listing").await.len() == 2
    })
    .await;
    assert!(disabled(&app, "#send-submit").await);
    assert!(app.text("#send-missing").await.contains("Pick a client"));
    let message = app
        .find("#showcase-message")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        message.contains("2 properties") && message.contains("Roost Demo Realty"),
        "{message}"
    );
    app.type_into("#client-search", "layla").await;
    app.click(&format!(".client-option[data-id='{layla_id}']"))
        .await;
    app.find("#client-chosen").await;
    app.until("the message to greet the client", || async {
        app.find("#showcase-message")
            .await
            .prop("value")
            .await
            .ok()
            .flatten()
            .is_some_and(|m| m.starts_with("Hi Layla"))
    })
    .await;
    assert!(!disabled(&app, "#send-submit").await);
    app.screenshot("send-dialog-1280").await;
    app.resize(390, 844).await;
    app.screenshot("send-dialog-390").await;
    app.resize(1280, 800).await;
    app.click("#send-submit").await;
    closes(&app, "#send-dialog", "#send-error").await;
    assert_eq!(
        app.text("#toast-text").await,
        "Queued — it will be sent when you're online"
    );
    assert!(
        app.all("#selection-bar").await.is_empty(),
        "the selection empties once sent"
    );

    // Activity: both queued, newest first, with the offline line.
    app.click("#toast-activity").await;
    app.find("#activity").await;
    app.until("two queued actions", || async {
        let rows = activity_rows(&app).await;
        rows.len() == 2 && rows.iter().all(|(_, s)| s == "queued")
    })
    .await;
    app.find("#activity-offline").await;
    let titles = app
        .js("return [...document.querySelectorAll('.activity-title')].map(t => t.textContent);")
        .await;
    assert_eq!(
        titles,
        serde_json::json!([
            "Showcase of 2 listings to Layla Haddad · WhatsApp",
            "Lead: Omar Haddad"
        ])
    );
    app.screenshot("activity-offline-1280").await;
    app.resize(390, 844).await;
    app.screenshot("activity-offline-390").await;
    app.resize(1280, 800).await;
    assert_eq!(effects(&graph), 0);

    // The server is back: "Send now", and both are delivered.
    network.set_upstream(&server.base);
    app.click("#activity-send-now").await;
    until_slow(
        &app,
        "both actions delivered",
        Duration::from_secs(90),
        || async {
            let rows = activity_rows(&app).await;
            rows.len() == 2 && rows.iter().all(|(_, s)| s == "delivered")
        },
    )
    .await;
    assert!(app.all("#activity-offline").await.is_empty());
    app.screenshot("activity-delivered-1280").await;

    // Exactly one WhatsApp message (the template, to Layla), one record of each.
    assert_eq!(effects(&graph), 1);
    let sent = graph.lock().unwrap().accepted[0].clone();
    assert_eq!(sent["to"], "971501234567");
    assert_eq!(sent["type"], "template");
    let list = server.get("/api/v1/actions", &agent.access).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let actions = list.body["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 2, "{}", list.body);
    let of = |kind: &str| -> Vec<&Value> {
        actions
            .iter()
            .filter(|a| a["request"]["kind"] == kind)
            .collect()
    };
    let (showcases, leads) = (of("send_showcase"), of("create_lead"));
    assert_eq!(showcases.len(), 1, "{}", list.body);
    assert_eq!(leads.len(), 1, "{}", list.body);
    assert_eq!(showcases[0]["status"], "delivered");
    assert_eq!(leads[0]["status"], "delivered");
    assert_eq!(showcases[0]["request"]["channel"], "whatsapp");
    assert_eq!(showcases[0]["request"]["client"]["id"], layla_id.as_str());
    assert_eq!(
        showcases[0]["request"]["listings"],
        serde_json::json!([first, second])
    );
    let lead = &leads[0]["request"]["lead"];
    assert_eq!(lead["name"], "Omar Haddad");
    assert_eq!(
        lead["budget"],
        serde_json::json!({ "amount_minor": 250_000_000, "currency": "AED" })
    );
    assert_eq!(lead["listings"], serde_json::json!([first, second]));
    // The rows on screen are these two actions.
    let mut keys: Vec<String> = activity_rows(&app).await.into_iter().map(|r| r.0).collect();
    let mut server_keys: Vec<String> = actions
        .iter()
        .map(|a| a["idempotency_key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    server_keys.sort();
    assert_eq!(keys, server_keys);

    // From a listing: both actions, prefilled with it.
    app.click("#nav-search").await;
    wait_for_results(&app).await;
    click_centered(&app, &format!("#results .card[data-id='{first}']")).await;
    app.find("#detail-title").await;
    app.screenshot("listing-actions-1280").await;
    app.click("#create-lead").await;
    app.until("the listing linked to the lead", || async {
        app.all(&format!("#lead-listings .linked-chip[data-id='{first}']"))
            .await
            .len()
            == 1
    })
    .await;
    press_escape(&app, "#lead-name").await;
    app.until("the lead dialog to close", || async {
        app.all("#lead-dialog").await.is_empty()
    })
    .await;
    app.click("#send-to-client").await;
    app.until("the listing in the preview", || async {
        app.all(&format!(
            "#preview-listings .preview-listing[data-id='{first}']"
        ))
        .await
        .len()
            == 1
    })
    .await;
    // Email needs an address: a new client with only a phone is refused in words.
    app.click("#channel-email").await;
    app.click("#client-new").await;
    app.type_into("#new-client-name", "Dana Smith").await;
    app.type_into("#new-client-phone", "+971 50 111 2222").await;
    app.until("the missing email named", || async {
        text_of(&app, "#send-missing")
            .await
            .contains("email address")
    })
    .await;
    assert!(disabled(&app, "#send-submit").await);
    app.screenshot("send-dialog-new-client-1280").await;
    app.click("#send-cancel").await;

    // From a chat answer: the listings it cites.
    app.click("#nav-chat").await;
    app.type_into("#chat-input", "villas in Arabian Ranches under 8M")
        .await;
    app.click("#chat-send").await;
    until_slow(&app, "the answer", Duration::from_secs(60), || async {
        !app.all(".chat-answer.chat-done").await.is_empty()
    })
    .await;
    let cited = app
        .js("return new Set([...document.querySelectorAll(\
             '.chat-answer .chat-source[data-kind=\"listing\"]')].map(s => s.textContent)).size;")
        .await
        .as_u64()
        .unwrap_or(0);
    assert!(cited > 0, "the answer cites no listing");
    click_centered(&app, ".chat-send-listings").await;
    app.until("the cited listings in the preview", || async {
        app.all("#preview-listings .preview-listing").await.len() as u64 == cited.min(10)
    })
    .await;
    app.screenshot("chat-send-1280").await;
    app.close().await;
}
