//! End to end in the real webview: the built desktop app against a real server on loopback.

mod actions;

use std::time::Duration;

use reqwest::Method;
use roost_tests::desktop::{App, Display, desktop_bin};
use roost_tests::faults::FaultProxy;
use roost_tests::{Backend, TestServer, listings_csv};
use serde_json::Value;

/// Signs in through the form and waits for the first results.
async fn sign_in(app: &App, company: &str, email: &str, password: &str) {
    app.type_into("#company", company).await;
    app.type_into("#email", email).await;
    app.type_into("#password", password).await;
    app.click("#signin-submit").await;
}

async fn wait_for_results(app: &App) {
    app.until("result cards", || async {
        !app.all("#results .card").await.is_empty()
    })
    .await;
}

/// The brand color the page applies, as the CSS custom property.
async fn brand_color(app: &App) -> String {
    app.js("return getComputedStyle(document.documentElement).getPropertyValue('--brand').trim();")
        .await
        .as_str()
        .unwrap_or_default()
        .to_uppercase()
}

/// How many of the first `n` result cards show a decoded photo.
async fn card_photos_loaded(app: &App, n: usize) -> usize {
    let script = format!(
        "return [...document.querySelectorAll('#results .card img')].slice(0, {n}) \
         .filter(i => i.complete && i.naturalWidth > 0).length;"
    );
    app.js(&script).await.as_u64().unwrap_or(0) as usize
}

/// True once the main photo of the open listing decoded into a real image.
async fn photo_loaded(app: &App) -> bool {
    app.js("const i = document.querySelector('#photo-main'); \
         return !!(i && i.complete && i.naturalWidth > 0);")
        .await
        .as_bool()
        .unwrap_or(false)
}

async fn server_listing(server: &TestServer, token: &str, id: &str) -> Value {
    let r = server.get(&format!("/api/v1/listings/{id}"), token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_signs_in_syncs_searches_and_keeps_working_offline() {
    let Some(bin) = desktop_bin() else { return };
    let server = TestServer::start_embedding(Backend::Sqlite, roost_tests::shared_embedder())
        .await
        .unwrap();
    assert!(roost_server::demo::seed(&server.state).await.unwrap());
    let (_, _, _, password) = roost_server::demo::USERS[0];
    let admin = server
        .login("demo", "admin@demo.roost.test", password)
        .await;
    let config = server.get("/api/v1/config", &admin.access).await.body;
    let company = config["config"]["company_info"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let primary = config["config"]["company_info"]["primary_color"]
        .as_str()
        .unwrap()
        .to_uppercase();

    // The app talks to the server through a proxy that can make the network slow, so the
    // first sync takes long enough to watch its progress bar.
    let network = FaultProxy::start(&server.base).await;
    network.set_latency(Duration::from_millis(150));
    let display = Display::start();
    let data = tempfile::tempdir().unwrap();
    let app = App::launch(&bin, &display, data.path(), &network.base()).await;

    // Sign-in, with the server prefilled.
    let server_field = app.find("#server").await;
    assert_eq!(
        server_field.prop("value").await.unwrap().as_deref(),
        Some(network.base().as_str())
    );
    app.screenshot("signin-1280").await;
    sign_in(&app, "demo", "admin@demo.roost.test", password).await;

    // The first sync fills the device with a progress bar on screen.
    let saw_progress = std::sync::atomic::AtomicBool::new(false);
    app.until("the first sync to finish", || async {
        let progress = app
            .js("const e = document.querySelector('#sync-progress-text'); return e ? e.textContent : '';")
            .await;
        if progress.as_str().is_some_and(|t| t.contains("page")) {
            saw_progress.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        !app.all("#results .card").await.is_empty()
    })
    .await;
    // The first cards' photos arrive through the photo protocol and stay on the device.
    app.until("the first card photos", || async {
        card_photos_loaded(&app, 4).await == 4
    })
    .await;
    network.set_latency(Duration::ZERO);
    app.screenshot("search-1280").await;
    assert!(
        saw_progress.into_inner(),
        "the first-sync progress bar was never shown"
    );
    assert_eq!(app.text("#company-name").await, company);
    assert_eq!(brand_color(&app).await, primary);

    // "3 bed under 2M": every result obeys both filters, and the count is the server's.
    app.type_into("#search", "3 bed under 2M").await;
    app.until("the parsed filters as chips", || async {
        let chips = app.text("#chips").await;
        chips.contains("3 beds") && chips.contains("AED 2M")
    })
    .await;
    // The first text search loads the search model and is answered by words and filters
    // meanwhile; the order to compare with offline is the one ranked with the model.
    app.until("results ranked with the search model", || async {
        app.js("return document.querySelector('#results').dataset.semantic;")
            .await
            == "true"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids = app.result_ids().await;
    assert!(
        !ids.is_empty(),
        "no 3-bed listing under 2M in the demo data"
    );
    for id in &ids {
        let l = server_listing(&server, &admin.access, id).await;
        assert_eq!(l["bedrooms"], 3, "{l}");
        let price = l["price"]["amount_minor"].as_i64().unwrap();
        assert!(price <= 200_000_000, "{id} costs {price}");
    }
    let expected = server
        .all_listings(&admin.access)
        .await
        .iter()
        .filter(|l| {
            l["bedrooms"] == 3
                && l["price"]["currency"] == "AED"
                && l["price"]["amount_minor"]
                    .as_i64()
                    .is_some_and(|p| p <= 200_000_000)
        })
        .count();
    let count = app.text("#result-count").await;
    assert!(
        count.starts_with(&format!("{expected} listing")),
        "{count} vs {expected}"
    );

    // A listing with its photo (fetched now, kept for offline).
    let opened = ids[0].clone();
    app.click(&format!("#results .card[data-id='{opened}']"))
        .await;
    let title = app.text("#detail-title").await;
    assert!(!title.is_empty());
    app.until("the listing photo", || photo_loaded(&app)).await;
    app.screenshot("listing-1280").await;
    app.click("#nav-settings").await;
    app.find("#settings-listings").await;
    app.screenshot("settings-1280").await;

    // Phone width: the same screens.
    app.resize(390, 844).await;
    app.click("#nav-search").await;
    wait_for_results(&app).await;
    app.screenshot("search-390").await;
    app.click(&format!("#results .card[data-id='{opened}']"))
        .await;
    app.until("the listing photo", || photo_loaded(&app)).await;
    app.screenshot("listing-390").await;
    app.resize(1280, 800).await;

    // The server goes away: search and photos still work, and the app says it is offline.
    drop(server);
    app.click("#back").await;
    app.type_into("#search", "villa").await;
    app.until("offline villa results", || async {
        app.text("#chips").await.contains("Villa") && !app.all("#results .card").await.is_empty()
    })
    .await;
    app.click("#sync-now").await;
    app.until("the offline badge", || async {
        app.text("#sync-status").await.starts_with("Offline")
    })
    .await;
    app.type_into("#search", "3 bed under 2M").await;
    app.until("the same results offline", || async {
        app.result_ids().await.first() == Some(&opened)
    })
    .await;
    app.click(&format!("#results .card[data-id='{opened}']"))
        .await;
    app.until("the cached photo offline", || photo_loaded(&app))
        .await;
    app.screenshot("offline-listing-1280").await;
    app.close().await;

    // A restart: still signed in, branded before any network, results there.
    let app = App::launch(&bin, &display, data.path(), "http://127.0.0.1:9").await;
    app.until("the signed-in shell after restart", || async {
        app.text("#company-name").await == company
    })
    .await;
    assert_eq!(brand_color(&app).await, primary);
    wait_for_results(&app).await;
    assert!(app.all("#signin-submit").await.is_empty());
    app.until("the cached card photos, offline", || async {
        card_photos_loaded(&app, 4).await == 4
    })
    .await;
    app.screenshot("restart-offline-1280").await;
    app.close().await;
}

/// Puts `name` and `color` into a tenant's config through the API (If-Match as required).
async fn brand(server: &TestServer, token: &str, name: &str, color: &str) {
    let r = server.get("/api/v1/config", token).await;
    let etag = r.header("etag").unwrap().to_string();
    let mut config = r.body["config"].clone();
    config["company_info"]["name"] = name.into();
    config["company_info"]["primary_color"] = color.into();
    let resp = server
        .req(Method::PUT, "/api/v1/config", Some(token))
        .header("if-match", etag)
        .json(&config)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_see_their_own_name_and_colors() {
    let Some(bin) = desktop_bin() else { return };
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let display = Display::start();
    for (slug, name, color) in [
        ("palm", "Palm Homes", "#0B6E4F"),
        ("dune", "Dune Estates", "#F2C14E"),
    ] {
        let tenant = server.register(name, slug, "professional").await;
        brand(&server, &tenant.admin.access, name, color).await;
        let r = server
            .import(
                &tenant.admin.access,
                "l.csv",
                listings_csv(40).into_bytes(),
                "",
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);

        let data = tempfile::tempdir().unwrap();
        let app = App::launch(&bin, &display, data.path(), &server.base).await;
        sign_in(
            &app,
            slug,
            &format!("admin@{slug}.test"),
            &format!("{slug}-admin-pass"),
        )
        .await;
        wait_for_results(&app).await;
        app.screenshot(&format!("tenant-{slug}-1280")).await;
        app.until("the tenant's name", || async {
            app.text("#company-name").await == name
        })
        .await;
        assert_eq!(brand_color(&app).await, color);
        // Text on the brand bar stays readable whatever the color.
        let text = app
            .js("return getComputedStyle(document.querySelector('.topbar')).color;")
            .await;
        let expected = if slug == "dune" {
            "rgb(0, 0, 0)"
        } else {
            "rgb(255, 255, 255)"
        };
        assert_eq!(text.as_str(), Some(expected), "{slug}");
        app.screenshot(&format!("tenant-{slug}-1280")).await;
        app.close().await;
    }
}

/// The citations of the newest answer the server stored for this user.
async fn last_answer_citations(server: &TestServer, token: &str) -> Vec<Value> {
    let list = server.get("/api/v1/chat/conversations", token).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let id = list.body["conversations"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = server
        .get(&format!("/api/v1/chat/conversations/{id}"), token)
        .await;
    let messages = c.body["messages"].as_array().unwrap();
    let last = messages.last().unwrap();
    assert_eq!(last["status"], "complete", "{last}");
    last["citations"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_asks_sees_the_stream_and_citations_and_gets_an_offline_answer() {
    let Some(bin) = desktop_bin() else { return };
    let server = TestServer::start_embedding(Backend::Sqlite, roost_tests::shared_embedder())
        .await
        .unwrap();
    assert!(roost_server::demo::seed(&server.state).await.unwrap());
    let (email, _, _, password) = roost_server::demo::USERS[2];
    let agent = server.login("demo", email, password).await;
    let display = Display::start();
    let data = tempfile::tempdir().unwrap();
    let app = App::launch(&bin, &display, data.path(), &server.base).await;
    sign_in(&app, "demo", email, password).await;
    wait_for_results(&app).await;

    // Online: the answer streams in, cites listings that match, and a chip opens one.
    app.click("#nav-chat").await;
    assert!(app.text("#chat-role").await.contains("Agent"));
    let question = "villas in Arabian Ranches under 8M";
    app.type_into("#chat-input", question).await;
    app.click("#chat-send").await;
    app.until("the answer to finish", || async {
        !app.all(".chat-answer.chat-done").await.is_empty()
    })
    .await;
    app.screenshot("chat-1280").await;
    let citations = last_answer_citations(&server, &agent.access).await;
    let listings: Vec<&Value> = citations
        .iter()
        .filter(|c| c["kind"] == "listing")
        .collect();
    assert!(!listings.is_empty(), "{citations:?}");
    for c in &listings {
        let l = server_listing(&server, &agent.access, c["id"].as_str().unwrap()).await;
        assert_eq!(l["property_type"], "Villa", "{l}");
        assert_eq!(l["community"], "Arabian Ranches", "{l}");
        assert!(
            l["price"]["amount_minor"].as_i64().unwrap() <= 800_000_000,
            "{l}"
        );
    }
    let chips = app
        .all(".chat-answer .cite-chip[data-kind='listing']")
        .await;
    assert!(!chips.is_empty(), "no listing chips on the answer");
    let first = &listings[0];
    app.click(&format!(
        ".chat-answer .cite-chip[data-kind='listing'][data-n='{}']",
        first["n"]
    ))
    .await;
    app.until("the cited listing", || async {
        app.text("#detail-title").await == first["title"].as_str().unwrap()
    })
    .await;
    app.click("#back").await;

    // A policy question cites the agent resource that holds it.
    app.type_into("#chat-input", "what's our off-plan commission split?")
        .await;
    app.click("#chat-send").await;
    app.until("the second answer", || async {
        app.all(".chat-answer.chat-done").await.len() == 2
    })
    .await;
    let citations = last_answer_citations(&server, &agent.access).await;
    assert!(
        citations
            .iter()
            .any(|c| c["kind"] == "agent_resource" && c["title"] == "Off-plan commission split"),
        "{citations:?}"
    );
    app.resize(390, 844).await;
    // The phone layout: one column, nothing wider than the screen (wide tables scroll inside
    // the answer). Waited for: under load the webview lays out the new width late.
    app.until("the chat's phone layout", || async {
        app.js(
            "return document.scrollingElement.scrollWidth <= window.innerWidth \
             && document.querySelector('.chat-main').getBoundingClientRect().left < 40;",
        )
        .await
            == Value::Bool(true)
    })
    .await;
    app.screenshot("chat-390").await;
    app.resize(1280, 800).await;

    // The server goes away: the same kind of question gets an offline answer from the
    // device, labelled, with a way to ask again online.
    drop(server);
    app.type_into("#chat-input", question).await;
    app.click("#chat-send").await;
    app.until("the offline answer", || async {
        !app.all(".chat-answer.offline.chat-done").await.is_empty()
    })
    .await;
    assert!(!app.all("#chat-ask-online").await.is_empty());
    assert!(
        !app.all(".chat-answer.offline .cite-chip[data-kind='listing']")
            .await
            .is_empty()
    );
    app.screenshot("chat-offline-1280").await;
    app.close().await;
}

/// An admin brands the company and connects WhatsApp, email and a CRM webhook from Settings:
/// a refused value is shown and names its field; saved settings show as connected (the tokens never come back); an agent of the
/// same company does not see the panel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_connects_services_in_settings() {
    let Some(bin) = desktop_bin() else { return };
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let display = Display::start();
    let tenant = server.register("Cove Realty", "cove", "professional").await;
    let r = server
        .import(
            &tenant.admin.access,
            "l.csv",
            listings_csv(10).into_bytes(),
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    server
        .add_user(&tenant, "agent@cove.test", &["agent"])
        .await;

    let data = tempfile::tempdir().unwrap();
    let app = App::launch(&bin, &display, data.path(), &server.base).await;
    sign_in(&app, "cove", "admin@cove.test", "cove-admin-pass").await;
    wait_for_results(&app).await;
    app.click("#nav-settings").await;
    app.until("the integrations panel", || async {
        app.text("#integration-whatsapp")
            .await
            .starts_with("Not connected")
    })
    .await;

    // Branding: a color that is not one is refused, naming the field, and nothing is saved.
    let before = server
        .get("/api/v1/config", &tenant.admin.access)
        .await
        .body;
    app.type_into("#brand-name", "Cove Realty Group").await;
    app.type_into("#brand-primary", "sea green").await;
    app.click("#branding-save").await;
    app.until("the color's refusal", || async {
        app.text("#branding-error").await
            == "Main color: 'sea green' is not a hex color such as #1F4E79 or #FA0."
    })
    .await;
    let config = server
        .get("/api/v1/config", &tenant.admin.access)
        .await
        .body;
    assert_eq!(config, before, "a refused save changed the configuration");

    // A good one reaches the server (the rest of the configuration as it was) and, after the
    // sync the save starts, this app's bar.
    app.type_into("#brand-primary", "#0B6E4F").await;
    app.type_into("#brand-currency", "eur").await;
    app.click("#branding-save").await;
    app.until("the new name on the bar", || async {
        app.text("#company-name").await == "Cove Realty Group"
    })
    .await;
    assert_eq!(brand_color(&app).await.to_lowercase(), "#0b6e4f");
    let config = server
        .get("/api/v1/config", &tenant.admin.access)
        .await
        .body;
    let info = &config["config"]["company_info"];
    assert_eq!(info["name"], "Cove Realty Group");
    assert_eq!(info["primary_color"], "#0B6E4F");
    assert_eq!(info["currency"], "EUR");
    assert_eq!(
        info["logo_url"],
        before["config"]["company_info"]["logo_url"]
    );
    for section in ["features", "integrations", "knowledge_base"] {
        assert_eq!(
            config["config"][section], before["config"][section],
            "{section}"
        );
    }
    app.screenshot("branding-saved").await;

    // The same form saves again on top of its own save...
    app.type_into("#brand-secondary", "#F2C14E").await;
    app.click("#branding-save").await;
    app.until("the second save", || async {
        let c = server
            .get("/api/v1/config", &tenant.admin.access)
            .await
            .body;
        c["config"]["company_info"]["secondary_color"] == "#F2C14E"
    })
    .await;
    // ...but not over another admin's save made meanwhile.
    let r = server.get("/api/v1/config", &tenant.admin.access).await;
    let mut theirs = r.body["config"].clone();
    theirs["company_info"]["name"] = "Cove by Another Admin".into();
    let resp = server
        .req(Method::PUT, "/api/v1/config", Some(&tenant.admin.access))
        .header("if-match", r.header("etag").unwrap())
        .json(&theirs)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    app.type_into("#brand-name", "Cove Mine").await;
    app.click("#branding-save").await;
    app.until("the stale save's refusal", || async {
        app.text("#branding-error")
            .await
            .starts_with("Another admin changed the company's settings")
    })
    .await;
    let config = server
        .get("/api/v1/config", &tenant.admin.access)
        .await
        .body;
    assert_eq!(
        config["config"]["company_info"]["name"],
        "Cove by Another Admin"
    );

    // A phone number id that is not the Cloud API's numeric id: refused, saying which field.
    app.click("#connect-whatsapp").await;
    app.type_into("#wa-phone-id", "my business").await;
    app.type_into("#wa-token", "EAAG-cove-token-123").await;
    app.type_into("#wa-app-secret", "cove-app-secret").await;
    app.type_into("#wa-template", "cove_showcase").await;
    app.type_into("#wa-language", "en_US").await;
    app.click("#wa-photo").await;
    app.click("#whatsapp-save").await;
    app.until("the refusal", || async {
        app.text("#whatsapp-error")
            .await
            .starts_with("Phone number ID: ")
    })
    .await;
    app.screenshot("integrations-refused").await;
    let stored = server
        .get("/api/v1/integrations", &tenant.admin.access)
        .await;
    assert_eq!(stored.body["whatsapp"], Value::Null, "nothing stored");

    app.type_into("#wa-phone-id", "106540352242922").await;
    app.click("#whatsapp-save").await;
    app.until("WhatsApp connected", || async {
        app.text("#integration-whatsapp")
            .await
            .contains("106540352242922")
    })
    .await;
    let line = app.text("#integration-whatsapp").await;
    assert!(
        line.contains("cove_showcase") && line.contains("with a photo"),
        "{line}"
    );

    app.click("#connect-email").await;
    app.type_into("#mail-host", "smtp.cove.test").await;
    app.type_into("#mail-username", "listings").await;
    app.type_into("#mail-password", "mail-pass-456").await;
    app.type_into("#mail-from", "listings@cove.test").await;
    app.click("#email-save").await;
    app.until("email connected", || async {
        app.text("#integration-email")
            .await
            .contains("listings@cove.test")
    })
    .await;

    // A CRM webhook: a short signing secret is refused, naming the field.
    app.click("#connect-crm").await;
    app.click("#crm-webhook").await;
    app.type_into("#crm-url", "https://crm.cove.test/hook")
        .await;
    app.type_into("#crm-secret", "too-short").await;
    app.click("#crm-save").await;
    app.until("the secret's refusal", || async {
        app.text("#crm-error").await.starts_with("Signing secret: ")
    })
    .await;
    app.type_into("#crm-secret", "cove-crm-signing-secret-789")
        .await;
    app.click("#crm-save").await;
    app.until("the CRM connected", || async {
        app.text("#integration-crm")
            .await
            .contains("https://crm.cove.test/hook")
    })
    .await;
    app.screenshot("integrations-connected").await;

    // What the server keeps: the settings, and the page never shows a secret.
    let stored = server
        .get("/api/v1/integrations", &tenant.admin.access)
        .await;
    assert_eq!(
        stored.body["whatsapp"]["phone_number_id"],
        "106540352242922"
    );
    assert_eq!(stored.body["whatsapp"]["template_photo_header"], true);
    assert_eq!(stored.body["email"]["host"], "smtp.cove.test");
    assert_eq!(stored.body["email"]["security"], "starttls");
    assert_eq!(
        stored.body["crm_webhook"]["url"],
        "https://crm.cove.test/hook"
    );
    // Opening WhatsApp again starts from what is stored, with the secrets to type again.
    app.click("#connect-whatsapp").await;
    let value = |css: &'static str| {
        let app = &app;
        async move {
            app.js(&format!("return document.querySelector('{css}').value;"))
                .await
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    assert_eq!(value("#wa-phone-id").await, "106540352242922");
    assert_eq!(value("#wa-template").await, "cove_showcase");
    assert_eq!(value("#wa-token").await, "");
    // At phone width the panels and the open form stack into one column.
    app.resize(390, 844).await;
    // The window manager resizes asynchronously; let layout and paint catch up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for panel in ["#branding", "#whatsapp-form"] {
        app.js(&format!(
            "document.querySelector('{panel}').scrollIntoView({{ block: 'start' }});"
        ))
        .await;
        app.screenshot(&format!("settings-390-{}", &panel[1..]))
            .await;
    }
    // The stale save's refusal reflowed into its box (WebKit kept a grid row at its wide
    // height, the text overflowing onto the Save button, until the forms stopped being grids).
    let fits = app
        .js("const e = document.querySelector('#branding-error'); return e.scrollHeight <= e.clientHeight;")
        .await;
    assert_eq!(fits.as_bool(), Some(true), "the refusal overflows its box");
    let columns = app
        .js("return getComputedStyle(document.querySelector('#whatsapp-form .field-pair')).gridTemplateColumns;")
        .await;
    assert_eq!(
        columns.as_str().map(|c| c.split_whitespace().count()),
        Some(1),
        "{columns}"
    );
    app.resize(1280, 800).await;
    let page = app
        .js("return document.body.innerText + ' ' + \
             [...document.querySelectorAll('input')].map(i => i.value).join(' ');")
        .await;
    let page = page.as_str().unwrap_or_default();
    let api = stored.body.to_string();
    for secret in [
        "EAAG-cove-token-123",
        "cove-app-secret",
        "mail-pass-456",
        "cove-crm-signing-secret-789",
    ] {
        assert!(!page.contains(secret), "{secret} shown on the page");
        assert!(!api.contains(secret), "{secret} in GET /integrations");
    }
    app.close().await;

    // An agent's Settings have no company panels.
    let data = tempfile::tempdir().unwrap();
    let app = App::launch(&bin, &display, data.path(), &server.base).await;
    sign_in(&app, "cove", "agent@cove.test", "agent@cove.test-pass").await;
    wait_for_results(&app).await;
    app.click("#nav-settings").await;
    app.find("#account-name").await;
    assert!(app.all("#integrations").await.is_empty());
    assert!(app.all("#branding").await.is_empty());
    app.close().await;
}
