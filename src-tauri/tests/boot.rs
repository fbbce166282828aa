//! The shell boots on Tauri's mock runtime with the real config and capabilities, and every
//! command it registers is granted to the main window: a command missing from
//! `commands.txt` or `capabilities/default.json` would work in a debug session and be refused
//! in a release build.

use std::sync::Arc;

use roost_core::secrets::{SecretError, SecretId, SecretStore};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindowBuilder};

/// Nothing signs in here, so no secret is ever read or written.
struct Unused;

impl SecretStore for Unused {
    fn describe(&self) -> String {
        "unused".into()
    }
    fn get(&self, _: &SecretId) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, SecretError> {
        Ok(None)
    }
    fn set(&self, _: &SecretId, _: &[u8]) -> Result<(), SecretError> {
        Ok(())
    }
    fn delete(&self, _: &SecretId) -> Result<(), SecretError> {
        Ok(())
    }
}

fn commands() -> Vec<&'static str> {
    include_str!("../commands.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn invoke(
    webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, serde_json::Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<serde_json::Value>().unwrap())
}

#[test]
fn the_shell_boots_and_every_command_is_registered_and_granted() {
    let dir = tempfile::tempdir().unwrap();
    let device = roost_desktop::device::Device::open(
        dir.path(),
        Arc::new(Unused),
        None,
        "roost-photo://localhost",
        "http://127.0.0.1:9",
    )
    .map(Arc::new)
    .map_err(|e| e.to_string());
    let app = roost_desktop::configure(mock_builder())
        .build(tauri::generate_context!())
        .expect("the app builds on the mock runtime");
    app.manage(roost_desktop::shell(device));
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();

    // Booted: nobody signed in, the server prefilled.
    let state = invoke(&webview, "app_state", serde_json::json!({})).unwrap();
    assert!(state["signed_in"].is_null(), "{state}");
    assert_eq!(state["server_url"], "http://127.0.0.1:9");

    let listed = commands();
    assert_eq!(listed.len(), 23, "commands.txt and this test disagree");
    for cmd in listed {
        // Arguments are deliberately missing: past the permission check every command then
        // fails on its arguments (or answers), never with "not allowed" or "not found".
        let outcome = invoke(&webview, cmd, serde_json::json!({}));
        if let Err(e) = &outcome {
            let text = e.to_string();
            assert!(
                !text.contains("not allowed") && !text.contains("not found"),
                "{cmd}: {text}"
            );
        }
    }
    // And the check can fail: an unregistered command is refused.
    let refused = invoke(&webview, "drop_database", serde_json::json!({})).unwrap_err();
    assert!(refused.to_string().contains("not"), "{refused}");
}
