use std::sync::Arc;

use roost_db::Db;
use roost_embed::Embedder;

use crate::embedding::EmbedSignal;

use crate::ratelimit::LoginLimiter;
use crate::settings::Settings;
use crate::tokens::TokenKeys;

/// Everything handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub keys: TokenKeys,
    pub settings: Settings,
    pub limiter: LoginLimiter,
    /// The embedding model, when configured.
    pub embedder: Option<Arc<Embedder>>,
    pub embed_signal: EmbedSignal,
    /// Each tenant's retrieval data for chat, kept current from its change feed.
    pub chat: crate::chat::index::ChatIndexes,
    /// Encrypts integration secrets at rest.
    pub secret_box: crate::secret_box::SecretBox,
    /// Connector clients and WhatsApp pacing for actions.
    pub actions: crate::actions::Actions,
    /// Outgoing HTTP (LLM providers); one pool for the process.
    pub http: reqwest::Client,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
