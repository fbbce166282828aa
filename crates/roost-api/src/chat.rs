//! Chat: `POST /api/v1/chat` streams an answer as Server-Sent Events; conversations are kept
//! per tenant and user (`GET/DELETE /api/v1/chat/conversations[/{id}]`).
//!
//! The stream is, in order: one `start`, any number of `token`, one `sources`, then either
//! `done` (with usage) or `error`. An `error` may also come at any point before `done`; the
//! stored answer is then marked failed, never complete.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;

/// SSE event names, one per [`ChatEvent`] variant.
pub const EVENT_START: &str = "start";
pub const EVENT_TOKEN: &str = "token";
pub const EVENT_SOURCES: &str = "sources";
pub const EVENT_DONE: &str = "done";
pub const EVENT_ERROR: &str = "error";

/// What the app asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// Continue this conversation; a new one starts when absent.
    #[serde(default)]
    pub conversation_id: Option<Uuid>,
    pub question: String,
}

/// What a cited source is, so the app can open it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Listing,
    MarketIntelligence,
    AgentResource,
    Document,
    Employee,
    Client,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Listing => "listing",
            SourceKind::MarketIntelligence => "market_intelligence",
            SourceKind::AgentResource => "agent_resource",
            SourceKind::Document => "document",
            SourceKind::Employee => "employee",
            SourceKind::Client => "client",
        }
    }
}

impl From<crate::knowledge::KnowledgeKind> for SourceKind {
    fn from(k: crate::knowledge::KnowledgeKind) -> SourceKind {
        use crate::knowledge::KnowledgeKind as K;
        match k {
            K::MarketIntelligence => SourceKind::MarketIntelligence,
            K::AgentResource => SourceKind::AgentResource,
            K::Document => SourceKind::Document,
            K::Employee => SourceKind::Employee,
        }
    }
}

/// A numbered source the answer cites as `[n]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Citation {
    /// The number the answer text uses: `[n]`.
    pub n: u32,
    pub kind: SourceKind,
    pub id: Uuid,
    /// A short label for the chip (listing title, document title, person's name).
    pub title: String,
    /// From the operator's shared knowledge base rather than the company's own.
    #[serde(default)]
    pub shared: bool,
}

/// Figures of one answer, for the app and for analytics.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    /// `grounded` (built in), `gemini`, `openai_compatible`; `offline` on the device.
    pub provider: String,
    pub model: Option<String>,
    pub input_tokens: Option<u32>,
    pub output_tokens: Option<u32>,
    /// Retrieval and prompt assembly.
    pub retrieval_ms: u64,
    /// From the request to the first token.
    pub first_token_ms: u64,
    pub total_ms: u64,
    /// Sources given to the answerer; `citations` of the `sources` event are those it used.
    pub sources: u32,
}

/// One Server-Sent Event of a chat answer; the SSE `event:` field is the variant's name and
/// `data:` its JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChatEvent {
    Start {
        conversation_id: Uuid,
        /// The assistant message being written.
        message_id: Uuid,
        /// The role the question is answered in.
        role: crate::users::Role,
    },
    Token {
        text: String,
    },
    Sources {
        citations: Vec<Citation>,
    },
    Done {
        usage: Usage,
    },
    Error {
        code: ChatErrorCode,
        message: String,
        /// Seconds to wait before asking again, when the provider said.
        retry_after_s: Option<u64>,
    },
}

impl ChatEvent {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            ChatEvent::Start { .. } => EVENT_START,
            ChatEvent::Token { .. } => EVENT_TOKEN,
            ChatEvent::Sources { .. } => EVENT_SOURCES,
            ChatEvent::Done { .. } => EVENT_DONE,
            ChatEvent::Error { .. } => EVENT_ERROR,
        }
    }
}

/// Why an answer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChatErrorCode {
    /// The provider did not answer in time.
    Timeout,
    /// The provider is rate limiting; see `retry_after_s`.
    RateLimited,
    /// The provider failed (5xx) or could not be reached.
    ProviderUnavailable,
    /// The provider refused the credentials; an admin must fix the integration.
    ProviderAuth,
    /// The provider's stream could not be read.
    MalformedStream,
    /// The provider blocked the question or the answer (safety filters).
    Blocked,
    /// Anything else.
    Internal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageAuthor {
    User,
    Assistant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Being written (or the server stopped while writing it).
    Streaming,
    Complete,
    /// Ended by an error; `error` says why. Its text is not an answer.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Up,
    Down,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    pub id: Uuid,
    pub author: MessageAuthor,
    pub text: String,
    pub citations: Vec<Citation>,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub provider: Option<String>,
    pub rating: Option<Rating>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    pub id: Uuid,
    /// The first question, shortened.
    pub title: String,
    pub messages: u32,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversation {
    pub id: Uuid,
    pub title: String,
    pub messages: Vec<ChatMessage>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationList {
    /// Newest first.
    pub conversations: Vec<ConversationSummary>,
}

/// `PUT /api/v1/chat/messages/{id}/feedback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    pub rating: Rating,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `PUT /api/v1/integrations/llm/key`: the provider's API key, write-only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LlmKeyRequest {
    pub api_key: String,
}

impl std::fmt::Debug for LlmKeyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LlmKeyRequest { api_key: [redacted] }")
    }
}

/// The LLM a tenant answers with (`integrations.llm` of its config). Credentials are not
/// here: the server keeps them (`PUT /api/v1/integrations/llm/credentials`) and never sends
/// them to devices.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "provider", rename_all = "snake_case", deny_unknown_fields)]
pub enum LlmConfig {
    /// The built-in grounded answerer: no model, no key.
    #[default]
    Grounded,
    /// Google Gemini over its REST API.
    Gemini {
        /// e.g. `gemini-2.5-flash`.
        model: String,
        /// Defaults to `https://generativelanguage.googleapis.com`.
        #[serde(default)]
        base_url: Option<String>,
    },
    /// Any endpoint that speaks OpenAI's chat completions (OpenAI, Ollama, vLLM, llama.cpp).
    OpenaiCompatible {
        model: String,
        /// e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.
        base_url: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_name() {
        let e = ChatEvent::Token { text: "Hi".into() };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["event"], "token");
        assert_eq!(e.name(), "token");
        let back: ChatEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn llm_config_reads_each_provider() {
        let g: LlmConfig =
            serde_json::from_str(r#"{"provider":"gemini","model":"gemini-2.5-flash"}"#).unwrap();
        assert_eq!(
            g,
            LlmConfig::Gemini {
                model: "gemini-2.5-flash".into(),
                base_url: None
            }
        );
        let d: LlmConfig = serde_json::from_str(r#"{"provider":"grounded"}"#).unwrap();
        assert_eq!(d, LlmConfig::Grounded);
        let bad =
            serde_json::from_str::<LlmConfig>(r#"{"provider":"gemini","model":"m","key":"x"}"#);
        assert!(bad.is_err(), "a key must never sit in the config");
    }
}
