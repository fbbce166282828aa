//! Desktop app figures, measured on the built app in its real webview (Xvfb, tauri-driver,
//! WebKitWebDriver) against a loopback server with 10,000 listings and their vectors:
//! - `app_cold_start_ms`: a signed-in user starts the app; time until result cards from the
//!   cache are on screen (includes starting tauri-driver and WebKitWebDriver, so it errs high);
//! - `app_idle_pss_mb`: proportional set size of the app and its WebKit processes after the
//!   first sync, idle;
//! - `app_search_roundtrip_ms`: keystroke to results rendered, p50 over varied queries.
//!
//! `ROOST_DESKTOP_BIN` names the app binary (`cargo xtask bench` builds it in release).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roost_tests::desktop::{App, Display, app_pid, tree_pss_bytes};
use roost_tests::{Backend, TestServer, listings_csv, synthetic};

const N: usize = 10_000;

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.1} {unit}");
}

/// Types `query` into the search box the way a keystroke does and waits for the frame that
/// shows its results; milliseconds in the page's own clock.
const ROUNDTRIP: &str = r#"
const [query, done] = arguments;
const input = document.querySelector('#search');
const t0 = performance.now();
input.value = query;
input.dispatchEvent(new Event('input', { bubbles: true }));
const check = () => {
  const r = window.roostRendered;
  if (r && r.query === query && r.at >= t0) { done(r.at - t0); } else { requestAnimationFrame(check); }
};
check();
"#;

const QUERIES: &[&str] = &[
    "3 bed villa under 4M",
    "2 bed apartment in Dubai Marina",
    "townhouse with sea view",
    "studio under 900k",
    "4 bed in Arabian Ranches",
    "5 bed villa over 3m",
    "apartment in JVC between 800k and 1.2m",
    "garden view townhouse",
    "1 bed under 2M in Downtown Dubai",
    "villa in Palm Jumeirah",
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(bin) = std::env::var_os("ROOST_DESKTOP_BIN").map(std::path::PathBuf::from) else {
        eprintln!("set ROOST_DESKTOP_BIN to the built app (cargo xtask bench does)");
        std::process::exit(1);
    };
    let Some(embedder) = roost_tests::shared_embedder() else {
        eprintln!("the app bench needs the model (ROOST_EMBED_MODEL_DIR)");
        std::process::exit(1);
    };
    let model = embedder.model_id().to_string();
    let s = TestServer::start(Backend::Sqlite).await.expect("server");
    let t = s.register("App Bench", "appbench", "enterprise").await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(N).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    synthetic::store_unit_vectors(&s.database_url, &t.id, &model, embedder.dim(), 1).await;
    let s = s.restart(Some(embedder)).await;

    let display = Display::start();
    let data = tempfile::tempdir().unwrap();
    let app = App::launch_with(&bin, &display, data.path(), &s.base, &[]).await;
    app.type_into("#company", "appbench").await;
    app.type_into("#email", "admin@appbench.test").await;
    app.type_into("#password", "appbench-admin-pass").await;
    app.click("#signin-submit").await;
    app.until("the first sync of 10k listings", || async {
        app.text("#result-count").await.starts_with("10,000")
    })
    .await;

    // Keystroke to rendered results: one warm-up, then each query a few times.
    let mut times = vec![];
    for round in 0..4 {
        for q in QUERIES {
            let ms = app
                .client
                .execute_async(ROUNDTRIP, vec![(*q).into()])
                .await
                .expect("roundtrip script")
                .as_f64()
                .unwrap_or(f64::NAN);
            if round > 0 {
                times.push(ms);
            }
        }
    }
    times.sort_by(f64::total_cmp);
    bench("app_search_roundtrip_ms", times[times.len() / 2], "ms");

    // Idle after the first sync: let the cover prefetch and caches settle.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pid = app_pid(&bin).expect("the app process");
    bench(
        "app_idle_pss_mb",
        tree_pss_bytes(pid) as f64 / (1024.0 * 1024.0),
        "MB",
    );
    app.close().await;

    // Cold start from the cache, best of three (the machine is shared).
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let app = App::launch_with(&bin, &display, data.path(), &s.base, &[]).await;
        app.until("results from the cache", || async {
            !app.all("#results .card").await.is_empty()
        })
        .await;
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
        app.close().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bench("app_cold_start_ms", best, "ms");
}
