//! Chat answers: retrieval over the tenant's data and the shared knowledge base, then the
//! tenant's provider (the built-in grounded answerer by default, Gemini or an OpenAI-compatible
//! endpoint when configured), streamed as [`ChatEvent`]s.
//!
//! The answer runs on its own task and sends events into a channel the SSE response reads.
//! It ends the stored message exactly once: complete with its citations, or failed with the
//! reason (provider error, or the app went away before the end).

pub mod index;
pub mod retrieve;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use roost_answer::{Question, Source};
use roost_api::chat::{ChatErrorCode, ChatEvent, Citation, LlmConfig, MessageStatus, Usage};
use roost_api::users::Role;
use roost_db::{AnswerEnd, ChatTurn, ChatUsageRow, SHARED_TENANT, TenantId};
use roost_llm::{LlmError, LlmEvent, LlmMessage, LlmProvider, LlmRequest, Timeouts};
use roost_search::retrieve::Asker;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::state::AppState;

/// The name an LLM provider's key is stored under (`integration_secrets`).
pub const LLM_SECRET: &str = "llm_api_key";
/// Characters of sources and history a prompt may carry (~6k tokens).
const PROMPT_BUDGET: usize = 24_000;

/// Who asks, in which role, and where the answer goes.
pub struct Asking {
    pub tenant: TenantId,
    pub user: Uuid,
    pub acting: Vec<Role>,
    pub role: Role,
    pub question: String,
    pub turn: ChatTurn,
    pub started: Instant,
}

/// The role an answer is given in: the switcher's choice, else the user's highest.
pub fn answering_role(acting: &[Role]) -> Role {
    [Role::Admin, Role::Manager, Role::Agent]
        .into_iter()
        .find(|r| acting.contains(r))
        .unwrap_or(Role::Agent)
}

/// Starts answering on its own task; events arrive on the returned channel.
pub fn spawn_answer(state: AppState, asking: Asking) -> mpsc::Receiver<ChatEvent> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let tenant = asking.tenant;
        let message = asking.turn.answer_id;
        if let Err(e) = answer(&state, &asking, &tx).await {
            tracing::error!(tenant = %tenant.uuid(), error = %e, "chat answer failed");
            let _ = tx
                .send(ChatEvent::Error {
                    code: ChatErrorCode::Internal,
                    message: "the answer failed on the server; try again".into(),
                    retry_after_s: None,
                })
                .await;
            let _ = state
                .db
                .finish_answer(
                    tenant,
                    message,
                    AnswerEnd {
                        text: "",
                        citations: &[],
                        status: MessageStatus::Failed,
                        error: Some("the answer failed on the server"),
                        provider: "",
                    },
                )
                .await;
        }
    });
    rx
}

/// The app closed the stream.
struct Gone;

async fn send(tx: &mpsc::Sender<ChatEvent>, event: ChatEvent) -> Result<(), Gone> {
    tx.send(event).await.map_err(|_| Gone)
}

/// What answering produced, however it ended.
struct Outcome {
    text: String,
    error: Option<(ChatErrorCode, String, Option<u64>)>,
    gone: bool,
    first_token_ms: u64,
    input_tokens: Option<u32>,
    output_tokens: Option<u32>,
}

async fn answer(
    state: &AppState,
    asking: &Asking,
    tx: &mpsc::Sender<ChatEvent>,
) -> anyhow::Result<()> {
    let tenant = asking.tenant;
    let model = state
        .embedder
        .as_ref()
        .map(|e| (e.model_id().to_string(), e.dim()));
    let model_ref = model.as_ref().map(|(id, dim)| (id.as_str(), *dim));
    let data = state.chat.current(&state.db, tenant, model_ref).await?;
    let shared = state
        .chat
        .current(&state.db, SHARED_TENANT, model_ref)
        .await?;
    let query_vector = match &state.embedder {
        Some(e) => {
            let e = e.clone();
            let q = asking.question.clone();
            tokio::task::spawn_blocking(move || e.embed_query(&q))
                .await?
                .map_err(|err| tracing::warn!(error = %err, "question not embedded"))
                .ok()
        }
        None => None,
    };
    let asker = Asker {
        user: asking.user,
        acting: &asking.acting,
    };
    let found = retrieve::retrieve(
        &data,
        &shared,
        &asking.question,
        query_vector.as_deref(),
        asker,
    );
    drop((data, shared));
    let config = state.db.config(tenant).await?;
    let company = config.config.company_info.name.clone();
    let question = Question {
        text: &asking.question,
        filters: &found.filters,
        listing_total: found.listing_total,
        company: &company,
    };
    let retrieval_ms = asking.started.elapsed().as_millis() as u64;

    let start = ChatEvent::Start {
        conversation_id: asking.turn.conversation_id,
        message_id: asking.turn.answer_id,
        role: asking.role,
    };
    let llm = config.config.integrations.llm.clone();
    let (outcome, provider, model_name) = if send(tx, start).await.is_err() {
        (gone_outcome(), provider_name(&llm), None)
    } else {
        match llm_provider(state, tenant, &llm).await {
            Ok(None) => (
                grounded(&question, &found.sources, tx, asking.started).await,
                "grounded",
                None,
            ),
            Ok(Some(p)) => {
                let prompt = roost_answer::prompt(
                    &company,
                    asking.role,
                    &question,
                    &asking.turn.history,
                    &found.sources,
                    PROMPT_BUDGET,
                );
                let name = p.provider();
                let model = p.model().to_string();
                (
                    streamed(p.as_ref(), prompt, tx, asking.started).await,
                    name,
                    Some(model),
                )
            }
            Err(message) => (
                Outcome {
                    error: Some((ChatErrorCode::ProviderAuth, message, None)),
                    ..empty_outcome()
                },
                provider_name(&llm),
                None,
            ),
        }
    };

    let citations: Vec<Citation> = roost_answer::citations(&outcome.text, &found.sources);
    let (status, error_text) = match (&outcome.error, outcome.gone) {
        (Some((_, message, _)), _) => (MessageStatus::Failed, Some(message.clone())),
        (None, true) => (
            MessageStatus::Failed,
            Some("the app closed the answer before it ended".to_string()),
        ),
        (None, false) => (MessageStatus::Complete, None),
    };
    state
        .db
        .finish_answer(
            tenant,
            asking.turn.answer_id,
            AnswerEnd {
                text: &outcome.text,
                citations: if status == MessageStatus::Complete {
                    &citations
                } else {
                    &[]
                },
                status,
                error: error_text.as_deref(),
                provider,
            },
        )
        .await?;
    let total_ms = asking.started.elapsed().as_millis() as u64;
    let usage = Usage {
        provider: provider.to_string(),
        model: model_name.clone(),
        input_tokens: outcome.input_tokens,
        output_tokens: outcome.output_tokens,
        retrieval_ms,
        first_token_ms: outcome.first_token_ms,
        total_ms,
        sources: found.sources.len() as u32,
    };
    let outcome_name = match (&outcome.error, outcome.gone) {
        (Some((code, _, _)), _) => serde_json::to_value(code)?
            .as_str()
            .unwrap_or("internal")
            .to_string(),
        (None, true) => "disconnected".into(),
        (None, false) => "complete".into(),
    };
    state
        .db
        .record_chat_usage(
            tenant,
            ChatUsageRow {
                message_id: asking.turn.answer_id,
                user_id: asking.user,
                role: asking.role,
                provider,
                model: model_name.as_deref(),
                outcome: &outcome_name,
                input_tokens: outcome.input_tokens,
                output_tokens: outcome.output_tokens,
                retrieval_ms,
                first_token_ms: outcome.first_token_ms,
                total_ms,
                sources: usage.sources,
                cited: citations.len() as u32,
            },
        )
        .await?;
    if outcome.gone {
        return Ok(());
    }
    match outcome.error {
        Some((code, message, retry_after_s)) => {
            let _ = send(
                tx,
                ChatEvent::Error {
                    code,
                    message,
                    retry_after_s,
                },
            )
            .await;
        }
        None => {
            if send(tx, ChatEvent::Sources { citations }).await.is_ok() {
                let _ = send(tx, ChatEvent::Done { usage }).await;
            }
        }
    }
    Ok(())
}

fn empty_outcome() -> Outcome {
    Outcome {
        text: String::new(),
        error: None,
        gone: false,
        first_token_ms: 0,
        input_tokens: None,
        output_tokens: None,
    }
}

fn gone_outcome() -> Outcome {
    Outcome {
        gone: true,
        ..empty_outcome()
    }
}

fn provider_name(cfg: &LlmConfig) -> &'static str {
    match cfg {
        LlmConfig::Grounded => "grounded",
        LlmConfig::Gemini { .. } => "gemini",
        LlmConfig::OpenaiCompatible { .. } => "openai_compatible",
    }
}

/// The tenant's LLM client, `None` for the grounded answerer, or why it cannot be made.
async fn llm_provider(
    state: &AppState,
    tenant: TenantId,
    cfg: &LlmConfig,
) -> Result<Option<Arc<dyn LlmProvider>>, String> {
    if *cfg == LlmConfig::Grounded {
        return Ok(None);
    }
    let key = match state.db.integration_secret(tenant, LLM_SECRET).await {
        Ok(Some((nonce, sealed))) => Some(
            state
                .secret_box
                .open(tenant, LLM_SECRET, &nonce, &sealed)
                .map_err(|e| e.to_string())?,
        ),
        Ok(None) => None,
        Err(e) => return Err(format!("the provider's key could not be read: {e}")),
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(state.settings.llm_connect_timeout_secs),
        first_byte: Duration::from_secs(state.settings.llm_first_byte_timeout_secs),
        idle: Duration::from_secs(state.settings.llm_idle_timeout_secs),
    };
    roost_llm::provider_from_config(cfg, key, state.http.clone(), timeouts)
        .map_err(|e| e.to_string())
}

/// The built-in answerer: composed at once, streamed in pieces.
async fn grounded(
    q: &Question<'_>,
    sources: &[Source],
    tx: &mpsc::Sender<ChatEvent>,
    started: Instant,
) -> Outcome {
    let answer = roost_answer::grounded_answer(q, sources);
    let mut out = empty_outcome();
    out.first_token_ms = started.elapsed().as_millis() as u64;
    for piece in roost_answer::stream_pieces(&answer.text) {
        if send(
            tx,
            ChatEvent::Token {
                text: piece.to_string(),
            },
        )
        .await
        .is_err()
        {
            out.gone = true;
            return out;
        }
        out.text.push_str(piece);
    }
    out
}

/// An LLM's answer, forwarded as it streams.
async fn streamed(
    provider: &dyn LlmProvider,
    prompt: roost_answer::Prompt,
    tx: &mpsc::Sender<ChatEvent>,
    started: Instant,
) -> Outcome {
    let mut messages: Vec<LlmMessage> = prompt
        .messages
        .into_iter()
        .map(|(author, text)| match author {
            roost_api::chat::MessageAuthor::User => LlmMessage::user(text),
            roost_api::chat::MessageAuthor::Assistant => LlmMessage::assistant(text),
        })
        .collect();
    messages.retain(|m| !m.text.is_empty());
    let req = LlmRequest {
        system: prompt.system,
        messages,
        temperature: Some(0.2),
        max_output_tokens: Some(1024),
    };
    let mut out = empty_outcome();
    let fail = |e: LlmError, out: &mut Outcome| {
        tracing::warn!(provider = provider.provider(), error = %e, "LLM provider error");
        out.error = Some((
            e.code(),
            e.to_string(),
            e.retry_after().map(|d| d.as_secs().max(1)),
        ));
    };
    let mut stream = match provider.stream(req).await {
        Ok(s) => s,
        Err(e) => {
            fail(e, &mut out);
            return out;
        }
    };
    let mut done = false;
    while let Some(event) = stream.next().await {
        match event {
            Ok(LlmEvent::Text(text)) => {
                if out.text.is_empty() {
                    out.first_token_ms = started.elapsed().as_millis() as u64;
                }
                out.text.push_str(&text);
                if send(tx, ChatEvent::Token { text }).await.is_err() {
                    out.gone = true;
                    return out;
                }
            }
            Ok(LlmEvent::Done {
                input_tokens,
                output_tokens,
                ..
            }) => {
                out.input_tokens = input_tokens;
                out.output_tokens = output_tokens;
                done = true;
                break;
            }
            Err(e) => {
                fail(e, &mut out);
                return out;
            }
        }
    }
    if !done {
        fail(
            LlmError::Malformed {
                detail: "the stream ended without its end marker".into(),
            },
            &mut out,
        );
    }
    out
}
