//! The Tauri commands: parse, call the [`Device`], map the error. Nothing else lives here.
//! Every command is listed in `commands.txt` (permissions) and in [`crate::handler`].

use std::sync::Arc;

use roost_api::actions::{ActionRequest, ConnectorSettings, IntegrationsStatus};
use roost_api::app::{
    AppState, AskForm, AskStarted, BrandingForm, CHAT_EVENT, ChatTurnEvent, OUTBOX_EVENT,
    OutboxEntry, SearchQuery, SearchView, SettingsView, SignInForm, SyncStatus,
};
use roost_api::chat::{Conversation, ConversationList, Rating};
use roost_api::knowledge::{Client, KnowledgeItem};
use roost_api::listings::Listing;
use roost_api::users::Role;
use tauri::{AppHandle, Emitter, Runtime, State};
use uuid::Uuid;

use crate::Shell;
use crate::error::AppResult;

#[tauri::command]
pub fn app_state(shell: State<'_, Shell>) -> AppResult<AppState> {
    tracing::debug!(
        ms = crate::since_start_ms(),
        "start-up: the UI asked for the app state"
    );
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
    let status = device
        .sync(&|s: &SyncStatus| {
            let _ = app.emit(roost_api::app::SYNC_EVENT, s);
        })
        .await?;
    // "Sync now" is also "send now": queued actions go at once when the server answers.
    // Offline, the schedule is woken so it retries every few seconds until it is back.
    if status.online {
        if let Err(e) = device.send_actions_now().await {
            tracing::info!("actions not sent: {e}");
        }
        let _ = app.emit(OUTBOX_EVENT, ());
    } else {
        shell.wake_sync();
    }
    Ok(status)
}

#[tauri::command]
pub async fn search<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    query: SearchQuery,
) -> AppResult<SearchView> {
    let device = shell.device()?;
    // Off the async runtime's workers: a first search may build the index.
    let d = Arc::clone(&device);
    let view = tauri::async_runtime::spawn_blocking(move || d.search(&query))
        .await
        .map_err(|e| crate::error::AppError::Other(e.to_string()))?;
    shell.searched();
    if view.as_ref().is_ok_and(|v| v.model_loading) {
        crate::load_search_model(&app, &device);
    }
    view
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

/// Saves the company's branding (admins; online only), then syncs to show it (or, when
/// another admin saved first, to show theirs).
#[tauri::command]
pub async fn save_branding(shell: State<'_, Shell>, form: BrandingForm) -> AppResult<i64> {
    let saved = shell.device()?.save_branding(form).await;
    // Saved or refused as stale, the device should have the newest configuration.
    shell.wake_sync();
    saved
}

/// What the company has connected (admins; online only).
#[tauri::command]
pub async fn integrations(shell: State<'_, Shell>) -> AppResult<IntegrationsStatus> {
    shell.device()?.integrations().await
}

/// Connects one of the company's services (admins; online only).
#[tauri::command]
pub async fn connect_integration(
    shell: State<'_, Shell>,
    settings: ConnectorSettings,
) -> AppResult<IntegrationsStatus> {
    shell.device()?.connect(settings).await
}

#[tauri::command]
pub fn clear_cache(shell: State<'_, Shell>) -> AppResult<()> {
    shell.device()?.clear_cache()?;
    shell.wake_sync();
    Ok(())
}

/// Starts an answer; its steps arrive as `roost://chat` events carrying the returned turn.
#[tauri::command]
pub fn chat_ask<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    form: AskForm,
) -> AppResult<AskStarted> {
    let device = shell.device()?;
    let turn = Uuid::new_v4();
    tauri::async_runtime::spawn(async move {
        device
            .ask(turn, form, &|e: ChatTurnEvent| {
                let _ = app.emit(CHAT_EVENT, &e);
            })
            .await;
    });
    Ok(AskStarted { turn })
}

#[tauri::command]
pub async fn chat_conversations(shell: State<'_, Shell>) -> AppResult<ConversationList> {
    shell.device()?.conversations().await
}

#[tauri::command]
pub async fn chat_conversation(shell: State<'_, Shell>, id: Uuid) -> AppResult<Conversation> {
    shell.device()?.conversation(id).await
}

#[tauri::command]
pub async fn chat_delete(shell: State<'_, Shell>, id: Uuid) -> AppResult<()> {
    shell.device()?.delete_conversation(id).await
}

#[tauri::command]
pub async fn chat_feedback(
    shell: State<'_, Shell>,
    message_id: Uuid,
    rating: Rating,
) -> AppResult<()> {
    shell.device()?.rate_answer(message_id, rating).await
}

#[tauri::command]
pub fn knowledge_item(shell: State<'_, Shell>, id: Uuid) -> AppResult<KnowledgeItem> {
    shell.device()?.knowledge_item(id)
}

/// The clients synced to this device (the agent's own, or all for managers), by name.
#[tauri::command]
pub fn clients(shell: State<'_, Shell>) -> AppResult<Vec<Client>> {
    shell.device()?.clients()
}

#[tauri::command]
pub fn client(shell: State<'_, Shell>, id: Uuid) -> AppResult<Client> {
    shell.device()?.client(id)
}

/// Queues an action in the outbox (offline too) and tries to send it at once.
#[tauri::command]
pub fn enqueue_action<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    request: ActionRequest,
) -> AppResult<OutboxEntry> {
    let device = shell.device()?;
    let entry = device.enqueue_action(&request)?;
    let _ = app.emit(OUTBOX_EVENT, ());
    tauri::async_runtime::spawn(async move {
        if let Err(e) = device.drain_actions().await {
            tracing::info!("actions not sent yet: {e}");
        }
        let _ = app.emit(OUTBOX_EVENT, ());
    });
    Ok(entry)
}

/// The outbox for the Activity screen, newest first.
#[tauri::command]
pub fn actions(shell: State<'_, Shell>) -> AppResult<Vec<OutboxEntry>> {
    shell.device()?.actions()
}
