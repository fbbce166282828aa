//! The Roost desktop shell (Tauri v2). The app itself is [`device::Device`] (no Tauri in it);
//! this crate wires it to a window: commands, the sync schedule, events and the photo protocol.

pub mod commands;
pub mod device;
pub mod error;
mod photo_protocol;
pub mod prefs;
mod schedule;

use std::path::PathBuf;
use std::sync::Arc;

use roost_core::secrets::{KeyringStore, SecretStore};
use tauri::Manager;

use crate::device::Device;
use crate::error::{AppError, AppResult};

/// The keyring service name the app's secrets are kept under.
pub const KEYRING_SERVICE: &str = "app.roost.desktop";

/// The custom URI scheme photos are served from (never as JSON over IPC).
pub const PHOTO_SCHEME: &str = "roost-photo";

/// Managed state: the device, or why it could not start (shown by the UI instead of a crash).
pub struct Shell {
    device: Result<Arc<Device>, String>,
    wake: Arc<tokio::sync::Notify>,
    /// Told when the first search answered: the search model loads after it, so loading it
    /// does not compete with the window's start for the cores.
    first_search: tokio::sync::watch::Sender<bool>,
}

impl Shell {
    /// A search answered; the first one lets the search model load.
    pub fn searched(&self) {
        if !self.first_search.send_replace(true) {
            tracing::debug!(ms = since_start_ms(), "start-up: first search answered");
        }
    }

    pub fn device(&self) -> AppResult<Arc<Device>> {
        self.device.clone().map_err(AppError::Other)
    }

    /// Asks the sync schedule to run now (after sign-in, a cleared cache).
    pub fn wake_sync(&self) {
        self.wake.notify_one();
    }
}

/// `http://roost-photo.localhost` where the webview cannot use custom schemes directly.
fn photo_base() -> String {
    if cfg!(any(windows, target_os = "android")) {
        format!("http://{PHOTO_SCHEME}.localhost")
    } else {
        format!("{PHOTO_SCHEME}://localhost")
    }
}

/// The search model: `ROOST_EMBED_MODEL_DIR` (development, tests), else the `models` folder
/// the bundle installs beside the app's resources.
///
/// One inference thread unless `ROOST_EMBED_THREADS` says otherwise: the app embeds one short
/// query at a time (~2 ms on one thread), and the other core stays free for the webview to show
/// the results. (Before inference threads stopped spinning after each run, a second one took
/// that core: keystroke to results 113 ms → 47 ms on two cores.)
fn embed_config(resources: Option<PathBuf>) -> Option<roost_embed::EmbedConfig> {
    let mut cfg = match roost_embed::EmbedConfig::from_env() {
        Some(cfg) => cfg,
        None => {
            let dir = resources?.join("models");
            let model = dir.join("all-minilm-l6-v2");
            if !model.is_dir() {
                return None;
            }
            let mut cfg = roost_embed::EmbedConfig::new(model);
            cfg.ort_dylib_path = Some(dir.join("libonnxruntime.so"));
            cfg
        }
    };
    if cfg.threads == 0 {
        cfg.threads = 1;
    }
    Some(cfg)
}

fn open_device(app: &tauri::App) -> Result<Arc<Device>, String> {
    let root = match std::env::var_os("ROOST_APP_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => app.path().app_data_dir().map_err(|e| e.to_string())?,
    };
    let store: Arc<dyn SecretStore> =
        Arc::new(KeyringStore::open(KEYRING_SERVICE).map_err(|e| {
            format!("This computer's keyring is not available, so Roost cannot keep you signed in safely: {e}")
        })?);
    let default_server = std::env::var("ROOST_SERVER_URL")
        .ok()
        .or(option_env!("ROOST_DEFAULT_SERVER_URL").map(str::to_string))
        .unwrap_or_default();
    let resources = app.path().resource_dir().ok();
    Device::open(
        &root,
        store,
        embed_config(resources),
        &photo_base(),
        &default_server,
    )
    .map(Arc::new)
    .map_err(|e| e.to_string())
}

/// Linux: WebKitGTK paints the page on the CPU without compositing, unless
/// `ROOST_WEBVIEW_GPU=1`. Composited through OpenGL on a machine without a GPU driver (Mesa's
/// llvmpipe), the web process is ~130 MB bigger and no faster for a page like ours; painted on
/// the CPU, results reach the screen in one frame as long as the page avoids blurred shadows
/// on repeated elements (styles.css). See docs/benchmarks.md.
fn lean_webview(app: &tauri::App) {
    #[cfg(target_os = "linux")]
    {
        if std::env::var("ROOST_WEBVIEW_GPU").as_deref() == Ok("1") {
            return;
        }
        let Some(window) = app.get_webview_window("main") else {
            return;
        };
        let done = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = done {
            tracing::warn!("webview settings: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// The invoke handler with every command; `commands.txt` must list the same names.
#[macro_export]
macro_rules! handler {
    () => {
        tauri::generate_handler![
            $crate::commands::app_state,
            $crate::commands::sign_in,
            $crate::commands::sign_out,
            $crate::commands::set_role,
            $crate::commands::sync_now,
            $crate::commands::search,
            $crate::commands::listings,
            $crate::commands::listing,
            $crate::commands::settings,
            $crate::commands::clear_cache,
            $crate::commands::save_branding,
            $crate::commands::integrations,
            $crate::commands::connect_integration,
            $crate::commands::chat_ask,
            $crate::commands::chat_conversations,
            $crate::commands::chat_conversation,
            $crate::commands::chat_delete,
            $crate::commands::chat_feedback,
            $crate::commands::knowledge_item,
            $crate::commands::clients,
            $crate::commands::client,
            $crate::commands::enqueue_action,
            $crate::commands::actions,
        ]
    };
}

/// The app's commands and photo protocol on a builder of any runtime (the mock one in tests).
pub fn configure<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .invoke_handler(handler!())
        .register_asynchronous_uri_scheme_protocol(PHOTO_SCHEME, photo_protocol::handle)
}

/// Loads the search model in the background ([`Device::load_search_model`]) and tells the UI
/// when it is ready, so results ranked without it are asked for again.
pub fn load_search_model<R: tauri::Runtime>(app: &tauri::AppHandle<R>, device: &Arc<Device>) {
    let app = app.clone();
    device.load_search_model(move || {
        tracing::debug!(ms = since_start_ms(), "search model loaded");
        let _ = tauri::Emitter::emit(&app, roost_api::app::SEARCH_MODEL_EVENT, ());
    });
}

/// State for a shell whose device is already open (tests, and `run` below).
pub fn shell(device: Result<Arc<Device>, String>) -> Shell {
    Shell {
        device,
        wake: Arc::new(tokio::sync::Notify::new()),
        first_search: tokio::sync::watch::Sender::new(false),
    }
}

/// How long after the first search answered its results are taken to be on screen: the UI
/// then fetches the cards and the webview lays out and paints the page for the first time,
/// 0.2–0.4 s on the two-core bench machine (the app bench's start-up timeline).
const FIRST_PAINT_SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

/// Waits until the first results are on screen (the first search answered, plus
/// [`FIRST_PAINT_SETTLE`]), `wake` is told, or `at_most` passed: what the first sync waits
/// for, so the window's start has the cores to itself.
pub async fn after_first_results(
    mut first: tokio::sync::watch::Receiver<bool>,
    wake: &tokio::sync::Notify,
    at_most: std::time::Duration,
) {
    let painted = async {
        if first.wait_for(|done| *done).await.is_ok() {
            tokio::time::sleep(FIRST_PAINT_SETTLE).await;
        }
    };
    tokio::select! {
        _ = painted => {}
        _ = wake.notified() => {}
        _ = tokio::time::sleep(at_most) => {}
    }
}

/// When the process started, for the start-up timeline in the debug log.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Milliseconds since [`run`] began.
pub fn since_start_ms() -> u128 {
    STARTED
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis()
}

/// How long ago this process was started (Linux; for the start-up timeline).
fn process_age_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let start_ticks: f64 = stat[stat.rfind(')')? + 2..]
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // USER_HZ is 100 on Linux.
    Some(((uptime - start_ticks / 100.0) * 1000.0) as u64)
}

/// glibc malloc settings for the app and the WebKit processes it starts: blocks from 128 KiB
/// up get a mapping of their own, and free memory at the top of a heap goes back to the
/// system above 128 KiB. glibc's defaults are the same numbers, but it raises both (up to
/// 32 MB and 64 MB) after the first large block is freed; after that the buffers of a sync or
/// of loading the search model stay resident as holes in its heaps when freed: ~90 MB of the
/// idle app on the bench machine, and a model released and loaded again grew the process each
/// time. Fixed thresholds turn that off.
const MALLOC_TUNABLES: &str =
    "glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072";

/// glibc reads its tunables only when a program starts, and changing the environment of a
/// running process is not safe Rust, so the app starts itself again once with them (`exec`:
/// same process id, nothing has run yet). Nothing happens when `GLIBC_TUNABLES` already sets a
/// malloc option (so after that restart, or to opt out); if the restart fails the app runs on
/// with glibc's defaults. Call first thing in `main`.
pub fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        let mut tunables = std::env::var_os("GLIBC_TUNABLES").unwrap_or_default();
        if tunables.to_string_lossy().contains("glibc.malloc.") {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        if !tunables.is_empty() {
            tunables.push(":");
        }
        tunables.push(MALLOC_TUNABLES);
        let mut args = std::env::args_os();
        let mut again = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            again.arg0(arg0);
        }
        let failed = again.args(args).env("GLIBC_TUNABLES", tunables).exec();
        eprintln!("roost: running with glibc's malloc defaults ({failed})");
    }
}

pub fn run() {
    since_start_ms();
    let log = tracing_subscriber::fmt().with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "roost_desktop=info".into()),
    );
    // `ROOST_LOG_FILE`: the log goes to that file (appended) instead of standard error, for
    // runs whose standard error nobody sees (started by a WebDriver, or from a desktop icon).
    let file = std::env::var_os("ROOST_LOG_FILE").and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    match file {
        Some(file) => log
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init(),
        None => log.init(),
    }
    tracing::debug!(
        process_age_ms = ?process_age_ms(),
        "start-up: run (the process started that long ago)"
    );
    configure(tauri::Builder::default())
        .on_page_load(|_, payload| {
            tracing::debug!(
                ms = since_start_ms(),
                "start-up: page load {:?}",
                payload.event()
            );
        })
        .setup(|app| {
            let wake = Arc::new(tokio::sync::Notify::new());
            let first_search = tokio::sync::watch::Sender::new(false);
            tracing::debug!(ms = since_start_ms(), "start-up: setup (window made)");
            let device = open_device(app);
            tracing::debug!(ms = since_start_ms(), "start-up: device open");
            if let Err(e) = &device {
                tracing::error!("the app cannot start: {e}");
            }
            if let Ok(device) = &device {
                // The cache's search index loads while WebKit starts its processes and compiles
                // the UI, rather than when the UI asks for the first results.
                let d = Arc::clone(device);
                std::thread::spawn(move || {
                    d.warm_search_index();
                    tracing::debug!(ms = since_start_ms(), "start-up: search index loaded");
                });
                // The search model (~60–75 MB resident) loads on the first text search, not at
                // start: that search is answered at once by words and filters, and again when
                // the model is ready (the UI asks on `SEARCH_MODEL_EVENT`). An app left open
                // without searching does not hold it.
                schedule::start(
                    app.handle().clone(),
                    Arc::clone(device),
                    Arc::clone(&wake),
                    first_search.subscribe(),
                );
                // The model goes when searches stop for a while; the next one loads it again.
                let d = Arc::clone(device);
                tauri::async_runtime::spawn(async move {
                    loop {
                        tokio::time::sleep(d.model_check_period()).await;
                        if d.release_idle_model() {
                            tracing::info!("search model released: no search used it for a while");
                        }
                    }
                });
            }
            app.manage(Shell {
                device,
                wake,
                first_search,
            });
            lean_webview(app);
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the Roost window could not start");
}
