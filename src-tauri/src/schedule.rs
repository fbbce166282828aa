//! When sync runs: at start, every few minutes, every few seconds while the server is
//! unreachable (so it catches the moment the network is back), and whenever woken (sign-in,
//! "sync now", a cleared cache). Progress reaches the UI as events.

use std::sync::Arc;
use std::time::Duration;

use roost_api::app::{OUTBOX_EVENT, SYNC_EVENT, SyncStatus};
use tauri::{AppHandle, Emitter, Runtime};

use crate::device::Device;

const PERIOD: Duration = Duration::from_secs(5 * 60);
const OFFLINE_RETRY: Duration = Duration::from_secs(10);

pub fn start<R: Runtime>(
    app: AppHandle<R>,
    device: Arc<Device>,
    wake: Arc<tokio::sync::Notify>,
    first_search: tokio::sync::watch::Receiver<bool>,
) {
    tauri::async_runtime::spawn(async move {
        let events = app.clone();
        let report = move |s: &SyncStatus| {
            let _ = events.emit(SYNC_EVENT, s);
        };
        demo_sign_in(&device).await;
        // The first sync waits for the first results from the cache (a second at most after
        // them is nothing next to a 5-minute period), unless a sign-in or "Sync now" asks.
        crate::after_first_results(first_search, &wake, Duration::from_secs(2)).await;
        loop {
            let mut wait = PERIOD;
            if device.is_signed_in() {
                match device.sync(&report).await {
                    Ok(status) if !status.online => wait = OFFLINE_RETRY,
                    Ok(_) => {
                        // Actions queued offline go as soon as the server answers again.
                        match device.drain_actions().await {
                            Ok(report) => {
                                wait = wait.min(until(report.next_due));
                                let _ = app.emit(OUTBOX_EVENT, ());
                            }
                            Err(e) => tracing::info!("actions not sent: {e}"),
                        }
                        if let Err(e) = device.prefetch_covers().await {
                            tracing::info!("cover photos: {e}");
                        }
                    }
                    Err(e) => tracing::warn!("sync failed: {e}"),
                }
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    });
}

/// How long until an outbox retry is due (at least a second); the period when none waits.
fn until(next_due: Option<roost_api::Millis>) -> Duration {
    match next_due {
        Some(due) => {
            let ms = (due - crate::device::now_millis()).max(1_000);
            Duration::from_millis(ms as u64).min(PERIOD)
        }
        None => PERIOD,
    }
}

/// `cargo xtask demo` starts the app signed in: `ROOST_DEMO_LOGIN="company email password"`.
/// Only on a first start (nobody signed in); the UI learns of it from the sync events.
async fn demo_sign_in(device: &Device) {
    let Ok(login) = std::env::var("ROOST_DEMO_LOGIN") else {
        return;
    };
    if device.is_signed_in() {
        return;
    }
    let mut parts = login.split_whitespace();
    let (Some(company), Some(email), Some(password)) = (parts.next(), parts.next(), parts.next())
    else {
        tracing::warn!("ROOST_DEMO_LOGIN must be \"company email password\"");
        return;
    };
    let form = roost_api::app::SignInForm {
        server_url: device.server_url(),
        company: company.into(),
        email: email.into(),
        password: password.into(),
    };
    if let Err(e) = device.sign_in(form).await {
        tracing::warn!("demo sign-in failed: {e}");
    }
}
