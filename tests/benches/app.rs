//! Desktop app figures, measured on the built app in its real webview (Xvfb, tauri-driver,
//! WebKitWebDriver) against a loopback server with 10,000 listings and their vectors:
//! - `app_cold_start_ms`: a signed-in user starts the app; time until result cards from the
//!   cache are on screen (includes starting tauri-driver and WebKitWebDriver, so it errs high);
//! - `app_idle_pss_mb`: proportional set size of the app and its WebKit processes after the
//!   first sync, idle 5 s (printed with a per-process breakdown and the app's biggest
//!   mappings); the search model is not loaded yet: the first text search loads it;
//! - `app_idle_searched_pss_mb`: the same 5 s after the last of the searches below, with the
//!   model loaded;
//! - `app_idle_released_pss_mb`: the same once the app released the search model for lack of
//!   searches (after 15 s here, `ROOST_EMBED_IDLE_SECS`; 3 min by default);
//! - `app_search_after_release_ms`: the first search after that: results ranked by words and
//!   filters at once while the model loads again; `app_search_semantic_after_release_ms`: the
//!   same search re-ranked with the model, which the app runs when the model is ready;
//! - `app_search_roundtrip_ms`: keystroke to results rendered, p50 over varied queries.
//!
//! For experiments, `ROOST_BENCH_APP_ENV="K=V …"` adds environment for the app and
//! `ROOST_BENCH_HOLD_SECS` keeps the idle app running for a look at `/proc/<pid>`.
//!
//! `ROOST_DESKTOP_BIN` names the app binary (`cargo xtask bench` builds it in release).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roost_tests::desktop::{App, Display, app_pid, app_pids, children, tree_pss_bytes};
use roost_tests::{Backend, TestServer, listings_csv, synthetic};

const N: usize = 10_000;

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.1} {unit}");
}

/// A page script that types `query` into the search box the way a keystroke does (at `t0`,
/// the page's clock), then runs `$then`.
macro_rules! typed {
    ($then:literal) => {
        concat!(
            r#"
const [query, done] = arguments;
const input = document.querySelector('#search');
const t0 = performance.now();
input.value = query;
input.dispatchEvent(new Event('input', { bubbles: true }));
"#,
            $then
        )
    };
}

/// Types `query` and waits for the frame that shows its results; milliseconds in the page's
/// own clock.
const ROUNDTRIP: &str = typed!(
    r#"
const check = () => {
  const r = window.roostRendered;
  if (r && r.query === query && r.at >= t0) { done(r.at - t0); } else { requestAnimationFrame(check); }
};
check();
"#
);

/// Like [`ROUNDTRIP`], for a search made while the model is not loaded: the first results
/// (ranked by words and filters), then the same search again once the model is ready (the
/// app asks again on its own), as `[first, refined]` ms; `null` for a render that did not
/// come within 5 s.
const REFINED: &str = typed!(
    r#"
let first = null;
const check = () => {
  const r = window.roostRendered;
  if (r && r.query === query && r.at >= t0) {
    if (first === null) { first = r.at; }
    else if (r.at > first) { done([first - t0, r.at - t0]); return; }
  }
  if (performance.now() - t0 > 5000) { done([first === null ? null : first - t0, null]); return; }
  requestAnimationFrame(check);
};
check();
"#
);

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
    // The search model goes after 15 s without a search here (3 min by default), so the bench
    // can measure the app without it too. Extra environment for the app, for experiments:
    // `ROOST_BENCH_APP_ENV="K=V K2=V2"`.
    let extra = std::env::var("ROOST_BENCH_APP_ENV").unwrap_or_default();
    let extra: Vec<(&str, &str)> = [("ROOST_EMBED_IDLE_SECS", "15")]
        .into_iter()
        .chain(extra.split_whitespace().filter_map(|kv| kv.split_once('=')))
        .collect();
    let app = App::launch_with(&bin, &display, data.path(), &s.base, &extra).await;
    app.type_into("#company", "appbench").await;
    app.type_into("#email", "admin@appbench.test").await;
    app.type_into("#password", "appbench-admin-pass").await;
    app.click("#signin-submit").await;
    app.until("the first sync of 10k listings", || async {
        app.text("#result-count").await.starts_with("10,000")
    })
    .await;

    // Idle after the first sync: let the cover prefetch and caches settle.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pid = app_pid(&bin).expect("the app process");
    bench(
        "app_idle_pss_mb",
        tree_pss_bytes(pid) as f64 / (1024.0 * 1024.0),
        "MB",
    );
    print_pss_breakdown(pid);

    // Keystroke to rendered results: one warm-up (its first search loads the model), then
    // each query a few times.
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

    // Idle after searching, the model loaded.
    tokio::time::sleep(Duration::from_secs(5)).await;
    bench(
        "app_idle_searched_pss_mb",
        tree_pss_bytes(pid) as f64 / (1024.0 * 1024.0),
        "MB",
    );
    print_pss_breakdown(pid);

    // Idle long enough for the model to go (15 s, checked every 3.75 s), then the first
    // search after that, which loads it again.
    tokio::time::sleep(Duration::from_secs(20)).await;
    bench(
        "app_idle_released_pss_mb",
        tree_pss_bytes(pid) as f64 / (1024.0 * 1024.0),
        "MB",
    );
    print_pss_breakdown(pid);
    let both = app
        .client
        .execute_async(REFINED, vec!["2 bed villa with a garden".into()])
        .await
        .expect("refined-search script");
    let ms = |i: usize| both[i].as_f64().unwrap_or(f64::NAN);
    bench("app_search_after_release_ms", ms(0), "ms");
    bench("app_search_semantic_after_release_ms", ms(1), "ms");
    if let Some(secs) = std::env::var("ROOST_BENCH_HOLD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        // Time to look at /proc/<pid> by hand.
        println!("holding the idle app (pid {pid}) for {secs} s");
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
    app.close().await;

    // Cold start from the cache, best of three (the machine is shared). Two clocks: the app's
    // own start, from the exec of its process (the kernel's start time) to the frame that
    // showed the first results (the UI's mark, on the page's clock); and the same seen from
    // the test, which adds starting tauri-driver and WebKitWebDriver and their polling.
    let mut best = f64::MAX;
    let mut best_with_driver = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let app = App::launch_with(&bin, &display, data.path(), &s.base, &extra).await;
        app.until("results from the cache", || async {
            !app.all("#results .card").await.is_empty()
        })
        .await;
        best_with_driver = best_with_driver.min(started.elapsed().as_secs_f64() * 1000.0);
        // The UI leaves its mark in the frame after the cards reached the page, which may
        // come just after the driver saw them.
        let mark =
            "const r = window.roostRendered; return r ? [performance.timeOrigin, r.at] : null;";
        app.until("the first results frame's mark", || async {
            !app.js(mark).await.is_null()
        })
        .await;
        let page = app.js(mark).await;
        let (origin, rendered) = (page[0].as_f64(), page[1].as_f64());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            * 1000.0;
        // From the exec of the process to the page's clock starting, then on that clock.
        let exec_to_page = youngest_age_ms(&bin)
            .zip(origin)
            .map(|(age, origin)| age - (now - origin));
        println!(
            "    cold start timeline: process exec → page {:?} ms, then {}",
            exec_to_page.map(f64::round),
            app.js(TIMELINE).await
        );
        match exec_to_page.zip(rendered) {
            Some((to_page, rendered)) => best = best.min(to_page + rendered),
            None => println!("    cold start: no own-clock figure ({page})"),
        }
        app.close().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bench("app_cold_start_ms", best, "ms");
    bench("app_cold_start_with_driver_ms", best_with_driver, "ms");
}

/// The page's side of a start, in ms since navigation started: the document parsed, the UI's
/// wasm fetched, the UI running (compiled and instantiated), the first results frame.
const TIMELINE: &str = r#"
const at = n => { const e = performance.getEntriesByName(n); return e.length ? Math.round(e[0].startTime) : null; };
const wasm = performance.getEntriesByType('resource').find(e => e.name.endsWith('.wasm'));
const nav = performance.getEntriesByType('navigation')[0];
const r = window.roostRendered;
return JSON.stringify({
  dom_ready: nav ? Math.round(nav.domContentLoadedEventEnd) : null,
  wasm_fetched: wasm ? Math.round(wasm.responseEnd) : null,
  ui_start: at('roost-ui-start'),
  search_asked: at('roost-search-asked'),
  search_answered: at('roost-search-answered'),
  cards_fetched: at('roost-cards-fetched'),
  cards_rendered: at('roost-cards-rendered'),
  first_results: r ? Math.round(r.at) : null,
});
"#;

/// Where the idle PSS is: per process of the tree, and the app's biggest mappings grouped by
/// file (anonymous memory as one group per mapping size class). Plain lines, not figures.
fn print_pss_breakdown(pid: u32) {
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        let rollup = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).unwrap_or_default();
        let field = |name: &str| {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map_or(0, kb)
        };
        println!(
            "    pss {p} {:<22} total {:>7.1} MB  anon {:>7.1}  file {:>7.1}  shmem {:>6.1}",
            comm.trim(),
            mb(field("Pss:")),
            mb(field("Pss_Anon:")),
            mb(field("Pss_File:")),
            mb(field("Pss_Shmem:")),
        );
        todo.extend(children(p));
    }
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut groups: BTreeMap<String, u64> = BTreeMap::new();
    let mut current = String::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            // A mapping header: range perms offset dev inode [path].
            let range = first;
            let path: Vec<&str> = fields.skip(4).collect();
            current = if path.is_empty() {
                let (a, b) = range.split_once('-').unwrap_or(("0", "0"));
                let size = u64::from_str_radix(b, 16).unwrap_or(0)
                    - u64::from_str_radix(a, 16).unwrap_or(0);
                let class = match size >> 20 {
                    0 => "< 1 MB",
                    1..=7 => "1-8 MB",
                    8..=63 => "8-64 MB",
                    _ => ">= 64 MB",
                };
                format!("[anon {class}]")
            } else {
                path.join(" ")
            };
        } else if first == "Pss:" {
            *groups.entry(current.clone()).or_default() += kb(line.trim_start_matches("Pss:"));
        }
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by_key(|(_, pss)| std::cmp::Reverse(*pss));
    for (name, pss) in groups.iter().take(10) {
        println!("    app mapping {:>7.1} MB  {name}", mb(*pss));
    }
}

fn kb(v: &str) -> u64 {
    v.trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .unwrap_or(0)
        * 1024
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The age of the most recently started process of `bin` (an earlier instance may still be
/// closing).
fn youngest_age_ms(bin: &std::path::Path) -> Option<f64> {
    app_pids(bin)
        .into_iter()
        .filter_map(process_age_ms)
        .min_by(f64::total_cmp)
}

/// How long ago process `pid` was started (exec'd), from its start time in clock ticks since
/// boot and the uptime now (both 10 ms resolution on Linux).
fn process_age_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    let start_ticks: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((uptime - start_ticks / 100.0) * 1000.0)
}
