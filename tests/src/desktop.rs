//! The real desktop app in the real webview, for the end-to-end tests and the app benchmark: a
//! private X display (Xvfb), tauri-driver in front of WebKitWebDriver, and a WebDriver session
//! (fantoccini) on the built `roost-desktop`. `cargo xtask test` sets `ROOST_DESKTOP_BIN`;
//! without it the tests skip, unless `ROOST_TEST_REQUIRE_E2E=1` makes that a failure.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};

pub const WAIT: Duration = Duration::from_secs(30);

/// The app binary, or `None` to skip.
pub fn desktop_bin() -> Option<PathBuf> {
    match std::env::var_os("ROOST_DESKTOP_BIN").filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            if std::env::var("ROOST_TEST_REQUIRE_E2E").as_deref() == Ok("1") {
                panic!("ROOST_TEST_REQUIRE_E2E=1 but ROOST_DESKTOP_BIN is not set");
            }
            eprintln!("ROOST_DESKTOP_BIN not set: skipping the desktop end-to-end test");
            None
        }
    }
}

/// Where screenshots go: kept after the run as test artifacts.
pub fn artifacts() -> PathBuf {
    let dir = match std::env::var_os("ROOST_E2E_ARTIFACTS") {
        Some(d) => PathBuf::from(d),
        None => target_dir().join("tmp/e2e-screens"),
    };
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A virtual display for the app's window.
pub struct Display {
    _xvfb: Killed,
    pub name: String,
}

impl Display {
    pub fn start() -> Display {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x900x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb (apt package xvfb)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("Xvfb display number");
        Display {
            _xvfb: Killed(child),
            name: format!(":{}", line.trim()),
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One run of the app: tauri-driver (with the app's environment) and a session on it.
/// Closing it quits the app, as a user closing the window would.
pub struct App {
    pub client: Client,
    _driver: Killed,
}

impl App {
    /// Starts the app with its data in `data_dir`, prefilled with `server` as the server.
    pub async fn launch(bin: &Path, display: &Display, data_dir: &Path, server: &str) -> App {
        App::launch_with(
            bin,
            display,
            data_dir,
            server,
            &[("ROOST_SYNC_PAGE_SIZE", "25")],
        )
        .await
    }

    /// Like [`App::launch`], with extra environment for the app.
    pub async fn launch_with(
        bin: &Path,
        display: &Display,
        data_dir: &Path,
        server: &str,
        env: &[(&str, &str)],
    ) -> App {
        let port = free_port();
        let native_port = free_port();
        let driver = Command::new(tauri_driver())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
            .env("DISPLAY", &display.name)
            .env("ROOST_APP_DATA_DIR", data_dir)
            .env("ROOST_SERVER_URL", server)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tauri-driver (cargo xtask test installs it)");
        let driver = Killed(driver);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            json!({ "application": bin.display().to_string() }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if started.elapsed() < WAIT => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session on {url}: {e}"),
            }
        };
        App {
            client,
            _driver: driver,
        }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
        // tauri-driver and the app go with `_driver`.
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            assert!(started.elapsed() < WAIT, "{css} never appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    /// Waits until `check` holds, re-evaluating after short pauses; names `what` on timeout.
    pub async fn until<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        while !check().await {
            assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text content of the first match (WebKitWebDriver's own "element text" comes back
    /// empty for some visible elements, so this asks the page).
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await;
        let script = format!(
            "const e = document.querySelector({}); return e ? e.textContent.trim() : '';",
            serde_json::to_string(css).unwrap()
        );
        self.js(&script)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// The `data-id` of every result card on screen.
    pub async fn result_ids(&self) -> Vec<String> {
        let mut ids = vec![];
        for card in self.all("#results .card").await {
            if let Ok(Some(id)) = card.attr("data-id").await {
                ids.push(id);
            }
        }
        ids
    }

    pub async fn screenshot(&self, name: &str) {
        // Let images decode and transitions end.
        tokio::time::sleep(Duration::from_millis(250)).await;
        // WebKitWebDriver takes the picture after the page's next repaint, and a page painted
        // without compositing (the app's default on Linux) does not repaint while nothing
        // changes: keep one pixel in a corner flickering between two near-identical colours
        // until the picture is taken.
        self.js(SCREENSHOT_TICK_START).await;
        let png = self.client.screenshot().await.expect("screenshot");
        self.js(SCREENSHOT_TICK_STOP).await;
        std::fs::write(artifacts().join(format!("{name}.png")), png).expect("save screenshot");
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize the window");
        // Let layout settle.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("ROOST_TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    home.join("bin/tauri-driver")
}

/// The cargo target folder this crate was built in (`…/target/debug/deps/<test>` → `…/target`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(std::env::temp_dir)
}

/// Proportional set size of `pid` and every process below it, in bytes (from
/// `/proc/<pid>/smaps_rollup`): the app and its WebKit web and network processes.
pub fn tree_pss_bytes(pid: u32) -> u64 {
    let mut total = 0;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Ok(rollup) = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")) {
            total += rollup
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
                * 1024;
        }
        todo.extend(children(p));
    }
    total
}

/// The processes whose parent is `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|stat| {
                    // The command name may hold spaces; the fields after its `)` are plain.
                    let rest = &stat[stat.rfind(')')? + 2..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// The pid of the running app binary `bin`.
pub fn app_pid(bin: &Path) -> Option<u32> {
    app_pids(bin).into_iter().next()
}

/// The pids of every running process of the binary `bin` (an earlier run may still be
/// closing).
pub fn app_pids(bin: &Path) -> Vec<u32> {
    let Ok(target) = std::fs::canonicalize(bin) else {
        return vec![];
    };
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok().as_ref() == Some(&target))
        .collect()
}

/// See [`App::screenshot`].
const SCREENSHOT_TICK_START: &str = r#"
let tick = document.getElementById('roost-test-tick');
if (!tick) {
  tick = document.createElement('div');
  tick.id = 'roost-test-tick';
  tick.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';
  document.body.appendChild(tick);
}
let odd = false;
const step = () => {
  if (!document.getElementById('roost-test-tick')) return;
  odd = !odd;
  tick.style.background = odd ? 'rgba(128,128,128,0.02)' : 'rgba(128,128,128,0.03)';
  requestAnimationFrame(step);
};
requestAnimationFrame(step);
return null;
"#;

/// See [`App::screenshot`].
const SCREENSHOT_TICK_STOP: &str =
    "const t = document.getElementById('roost-test-tick'); if (t) t.remove(); return null;";
