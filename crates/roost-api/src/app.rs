//! What the app shell (Tauri commands and events) and its UI say to each other. Not part of
//! the HTTP API: these types cross the webview bridge, so both sides share one definition.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;
use crate::actions::{ActionRecord, ActionRequest, ActionStatus};
use crate::config::VersionedConfig;
use crate::search::{Facets, Filters, SearchResults};
use crate::users::Role;

/// Tauri event carrying a [`SyncStatus`] whenever it changes.
pub const SYNC_EVENT: &str = "roost://sync";

/// Tauri event (no payload) sent when the outbox changed: an action was queued, sent,
/// settled or updated by sync. The Activity screen reloads `actions` on it.
pub const OUTBOX_EVENT: &str = "roost://outbox";

/// Tauri event (no payload) sent when the search model finished loading after a search had
/// to go without it (the model was released while idle, or the app had just started): the
/// UI searches again so the results gain semantic ranking.
pub const SEARCH_MODEL_EVENT: &str = "roost://search-model";

/// The sign-in form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignInForm {
    /// e.g. `https://roost.example.com`; a branded build prefills it.
    pub server_url: String,
    /// The company's slug.
    pub company: String,
    pub email: String,
    pub password: String,
}

/// Everything the UI needs to draw its frame, from the cache: the app works without network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppState {
    /// Prefill of the sign-in form (the last server used, or the branded default).
    pub server_url: String,
    pub company: String,
    pub email: String,
    pub signed_in: Option<SignedIn>,
    pub sync: SyncStatus,
    /// How photo URLs start in this webview (`roost-photo://localhost` on Linux and macOS,
    /// `http://roost-photo.localhost` on Windows and Android).
    pub photo_base: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub company_slug: String,
    pub company_name: String,
    pub roles: Vec<Role>,
    /// The role the user works in now (the role switcher); one of `roles`.
    pub role: Role,
    /// The tenant's config as last synced; `None` before the first sync.
    pub config: Option<VersionedConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    Idle,
    Connecting,
    Downloading,
    /// The server asked for a full resync: the cache was emptied and is filling again.
    Resyncing,
    Done,
    Failed,
}

/// The state of sync for the status bar and the first-sync progress screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub phase: SyncPhase,
    /// False when the server could not be reached on the last try.
    pub online: bool,
    pub pages: u32,
    pub changes: u64,
    pub bytes: u64,
    /// Changes the server still had after the last page, when known: makes the bar a fraction.
    pub remaining: Option<u64>,
    pub last_synced: Option<Millis>,
    /// In words, for the agent: "The server could not be reached", not an error code.
    pub message: Option<String>,
    pub listings: u64,
}

impl SyncStatus {
    pub fn idle() -> SyncStatus {
        SyncStatus {
            phase: SyncPhase::Idle,
            online: true,
            pages: 0,
            changes: 0,
            bytes: 0,
            remaining: None,
            last_synced: None,
            message: None,
            listings: 0,
        }
    }

    /// Progress in 0..=1 when the server said how much was left.
    pub fn fraction(&self) -> Option<f64> {
        let remaining = self.remaining?;
        let total = self.changes + remaining;
        (total > 0).then(|| self.changes as f64 / total as f64)
    }
}

/// One search as the UI asks it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub text: String,
    /// The filter controls; they win over filters read from the text.
    pub filters: Filters,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchView {
    pub results: SearchResults,
    pub facets: Facets,
    /// Time spent in the core, for the "in 3 ms" hint.
    pub took_ms: f64,
    /// Ranked without the search model because it is still loading; [`SEARCH_MODEL_EVENT`]
    /// follows when it is ready.
    #[serde(default)]
    pub model_loading: bool,
}

/// The company's branding as an admin edits it in Settings (the rest of the configuration is
/// kept as the server has it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandingForm {
    pub name: String,
    /// `#RRGGBB`.
    pub primary_color: String,
    /// `#RRGGBB`.
    pub secondary_color: String,
    /// ISO 4217 code such as `AED`; empty: the server's default.
    pub currency: String,
    /// The configuration version the form started from; the save is refused if another admin
    /// saved since (`None` before the first sync: the server's current version).
    #[serde(default)]
    pub base_version: Option<i64>,
}

/// The settings screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    pub server_url: String,
    pub cache_bytes: u64,
    pub photo_bytes: u64,
    pub listings: u64,
    pub cache_path: String,
    pub search_model: Option<String>,
    pub devices: Vec<crate::auth::Device>,
    /// Set when the device list could not be fetched (offline).
    pub devices_message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_needs_a_known_remainder() {
        let mut s = SyncStatus::idle();
        assert_eq!(s.fraction(), None);
        s.changes = 300;
        s.remaining = Some(700);
        assert_eq!(s.fraction(), Some(0.3));
        s.changes = 0;
        s.remaining = Some(0);
        assert_eq!(s.fraction(), None);
    }
}

/// Event the shell emits for each step of a chat answer (payload [`ChatTurnEvent`]).
pub const CHAT_EVENT: &str = "roost://chat";

/// `chat_ask`: a question from the chat screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskForm {
    pub question: String,
    /// Continue this (server) conversation; a new one when absent.
    #[serde(default)]
    pub conversation_id: Option<uuid::Uuid>,
}

/// `chat_ask` answers at once with the turn its events will carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskStarted {
    pub turn: uuid::Uuid,
}

/// One step of an answer, as the shell forwards it to the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatTurnEvent {
    pub turn: uuid::Uuid,
    /// Answered on the device from its cache because the server could not be reached; the
    /// UI labels it and offers to ask again online.
    pub offline: bool,
    pub event: crate::chat::ChatEvent,
}

/// One action in the outbox, as the Activity screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Local row id; ascending in the order the agent acted.
    pub id: i64,
    /// The `Idempotency-Key` sent with every attempt (a UUID v7, made when the agent acted).
    pub key: String,
    pub request: ActionRequest,
    /// `queued` until the server has recorded the action (`sending` while a request is out),
    /// then the server's status.
    pub status: ActionStatus,
    /// Requests sent so far.
    pub attempts: u32,
    /// Why the last attempt did not settle the action, or why it failed.
    pub last_error: Option<String>,
    /// When the next attempt is due; `None` once there is nothing more to send.
    pub next_attempt_at: Option<Millis>,
    /// The server's record, once it answered.
    pub server: Option<ActionRecord>,
    pub created_at: Millis,
    pub updated_at: Millis,
}
