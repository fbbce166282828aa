//! Chat: ask (streamed as Server-Sent Events), conversations, feedback, and the LLM key.

use std::convert::Infallible;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use roost_api::chat::{
    ChatEvent, ChatRequest, Conversation, ConversationList, FeedbackRequest, LlmKeyRequest,
};
use roost_api::users::Role;
use roost_api::{ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::chat::{Asking, LLM_SECRET, answering_role, spawn_answer};
use crate::error::{AppError, AppResult};
use crate::extract::{Authed, Json, Path};
use crate::state::AppState;

/// Longest question accepted, in characters.
const MAX_QUESTION_CHARS: usize = 4_000;

/// Ask a question. The answer streams as Server-Sent Events (`text/event-stream`): `start`,
/// `token`s, `sources` (the citations the answer used: type, id, title), then `done` with
/// usage — or `error` (provider timeout, rate limit with `retry_after_s`, unavailable,
/// blocked …), after which the stored answer is marked failed. Each event's `data` is the
/// JSON of a `ChatEvent`. Retrieval sees what the caller's acting role may see.
#[utoipa::path(
    post, path = "/api/v1/chat", tag = "chat",
    request_body = ChatRequest,
    responses(
        (status = 200, description = "the answer as Server-Sent Events", content_type = "text/event-stream", body = ChatEvent),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "chat is not enabled for this company", body = ErrorBody),
        (status = 404, description = "no such conversation of the caller", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn ask(
    State(state): State<AppState>,
    auth: Authed,
    Json(req): Json<ChatRequest>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let started = Instant::now();
    let question = req.question.trim().to_string();
    if question.is_empty() {
        return Err(AppError::bad_request(
            ErrorCode::ValidationFailed,
            "ask a question: it is empty",
        )
        .with_field("question"));
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(AppError::bad_request(
            ErrorCode::ValidationFailed,
            format!("a question may have at most {MAX_QUESTION_CHARS} characters"),
        )
        .with_field("question"));
    }
    let config = state.db.config(auth.tenant).await?;
    if !config.config.features.chat {
        return Err(AppError::forbidden(
            "chat is not enabled for this company; an admin can turn it on in settings",
        ));
    }
    let role = answering_role(&auth.acting);
    let turn = state
        .db
        .start_turn(
            auth.tenant,
            auth.user_id,
            req.conversation_id,
            &question,
            role,
        )
        .await
        .map_err(|e| match e {
            roost_db::DbError::NotFound => AppError::not_found("conversation"),
            other => other.into(),
        })?;
    let rx = spawn_answer(
        state.clone(),
        Asking {
            tenant: auth.tenant,
            user: auth.user_id,
            acting: auth.acting.clone(),
            role,
            question,
            turn,
            started,
        },
    );
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        let sse = Event::default()
            .event(event.name())
            .json_data(&event)
            .unwrap_or_else(|_| Event::default().event("error").data("{}"));
        Some((Ok(sse), rx))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The caller's conversations, newest first.
#[utoipa::path(
    get, path = "/api/v1/chat/conversations", tag = "chat",
    responses((status = 200, body = ConversationList), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authed,
) -> AppResult<axum::Json<ConversationList>> {
    let conversations = state.db.conversations(auth.tenant, auth.user_id).await?;
    Ok(axum::Json(ConversationList { conversations }))
}

/// One of the caller's conversations with its messages.
#[utoipa::path(
    get, path = "/api/v1/chat/conversations/{id}", tag = "chat",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Conversation), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Conversation>> {
    let c = state
        .db
        .conversation(auth.tenant, auth.user_id, id)
        .await
        .map_err(not_found("conversation"))?;
    Ok(axum::Json(c))
}

/// Deletes one of the caller's conversations.
#[utoipa::path(
    delete, path = "/api/v1/chat/conversations/{id}", tag = "chat",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    state
        .db
        .delete_conversation(&auth.ctx(), auth.user_id, id)
        .await
        .map_err(not_found("conversation"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Thumbs up or down on one of the caller's answers.
#[utoipa::path(
    put, path = "/api/v1/chat/messages/{id}/feedback", tag = "chat",
    params(("id" = Uuid, Path)),
    request_body = FeedbackRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn feedback(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
    Json(req): Json<FeedbackRequest>,
) -> AppResult<StatusCode> {
    if req
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > 2_000)
    {
        return Err(AppError::bad_request(
            ErrorCode::ValidationFailed,
            "a comment may have at most 2000 characters",
        )
        .with_field("comment"));
    }
    state
        .db
        .rate_answer(
            auth.tenant,
            auth.user_id,
            id,
            req.rating,
            req.comment.as_deref(),
        )
        .await
        .map_err(not_found("answer"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the API key of the company's LLM provider (admins). It is stored encrypted, used
/// only by the server, and never returned by any endpoint or sent to devices.
#[utoipa::path(
    put, path = "/api/v1/integrations/llm/key", tag = "chat",
    request_body = LlmKeyRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_llm_key(
    State(state): State<AppState>,
    auth: Authed,
    Json(req): Json<LlmKeyRequest>,
) -> AppResult<impl IntoResponse> {
    auth.require(&[Role::Admin])?;
    let key = req.api_key.trim();
    if key.is_empty() || key.len() > 4_096 || key.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            ErrorCode::ValidationFailed,
            "the key must be 1–4096 printable characters",
        )
        .with_field("api_key"));
    }
    let (nonce, sealed) = state.secret_box.seal(auth.tenant, LLM_SECRET, key);
    state
        .db
        .put_integration_secret(&auth.ctx(), LLM_SECRET, &nonce, &sealed)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn not_found(what: &'static str) -> impl Fn(roost_db::DbError) -> AppError {
    move |e| match e {
        roost_db::DbError::NotFound => AppError::not_found(what),
        other => other.into(),
    }
}
