//! The Tauri commands: parse, call the [`Device`], map the error. Nothing else lives here.
//! Every command is listed in `commands.txt` (permissions) and in [`crate::handler`].

use roost_api::app::{AppState, SearchQuery, SearchView, SettingsView, SignInForm, SyncStatus};
use roost_api::listings::Listing;
use roost_api::users::Role;
use tauri::{AppHandle, Emitter, Runtime, State};
use uuid::Uuid;

use crate::Shell;
use crate::error::AppResult;

#[tauri::command]
pub fn app_state(shell: State<'_, Shell>) -> AppResult<AppState> {
    shell.device()?.state()
}

#[tauri::command]
pub async fn sign_in(shell: State<'_, Shell>, form: SignInForm) -> AppResult<AppState> {
    let state = shell.device()?.sign_in(form).await?;
    shell.wake_sync();
    Ok(state)
}

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>, wipe: bool) -> AppResult<AppState> {
    shell.device()?.sign_out(wipe).await
}

#[tauri::command]
pub fn set_role(shell: State<'_, Shell>, role: Role) -> AppResult<AppState> {
    shell.device()?.set_role(role)
}

#[tauri::command]
pub async fn sync_now<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> AppResult<SyncStatus> {
    let device = shell.device()?;
    device
        .sync(&|s: &SyncStatus| {
            let _ = app.emit(roost_api::app::SYNC_EVENT, s);
        })
        .await
}

#[tauri::command]
pub async fn search(shell: State<'_, Shell>, query: SearchQuery) -> AppResult<SearchView> {
    let device = shell.device()?;
    // Off the async runtime's workers: a first search may build the index or load the model.
    tauri::async_runtime::spawn_blocking(move || device.search(&query))
        .await
        .map_err(|e| crate::error::AppError::Other(e.to_string()))?
}

#[tauri::command]
pub fn listings(shell: State<'_, Shell>, ids: Vec<Uuid>) -> AppResult<Vec<Listing>> {
    shell.device()?.listings(&ids)
}

#[tauri::command]
pub fn listing(shell: State<'_, Shell>, id: Uuid) -> AppResult<Listing> {
    shell.device()?.listing(id)
}

#[tauri::command]
pub async fn settings(shell: State<'_, Shell>) -> AppResult<SettingsView> {
    shell.device()?.settings().await
}

#[tauri::command]
pub fn clear_cache(shell: State<'_, Shell>) -> AppResult<()> {
    shell.device()?.clear_cache()?;
    shell.wake_sync();
    Ok(())
}
