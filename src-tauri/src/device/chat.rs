//! Chat for the app: asks the server and streams its events; when the server cannot be
//! reached, answers on the device from the cache (labelled offline). Also the conversation
//! list, feedback, and the cited records the chat links to.

use std::sync::Arc;
use std::time::Instant;

use roost_api::app::{AskForm, ChatTurnEvent};
use roost_api::chat::{
    ChatErrorCode, ChatEvent, ChatRequest, Conversation, ConversationList, Rating, Usage,
};
use roost_api::knowledge::{Client, KnowledgeItem};
use roost_core::QueryEmbedder;
use roost_core::secrets::{Account, Asked, Session};
use roost_search::retrieve::Asker;
use uuid::Uuid;

use super::Device;
use crate::error::{AppError, AppResult};

/// Longest question accepted (the server's limit).
const MAX_QUESTION_CHARS: usize = 4_000;

impl Device {
    fn chat_account(&self) -> AppResult<(Account, Option<Arc<Session>>)> {
        let signed = self.signed.lock().unwrap();
        let signed = signed.as_ref().ok_or(AppError::SignedOut)?;
        Ok((signed.account.clone(), signed.session.clone()))
    }

    pub(super) async fn chat_session(&self) -> AppResult<Arc<Session>> {
        let (account, session) = self.chat_account()?;
        self.live_session(&account, session).await
    }

    /// Answers `form` as turn `turn`, handing every step to `emit`: from the server when it
    /// can be reached, else from the cache.
    pub async fn ask(&self, turn: Uuid, form: AskForm, emit: &(dyn Fn(ChatTurnEvent) + Sync)) {
        let question = form.question.trim().to_string();
        let online = |event| {
            emit(ChatTurnEvent {
                turn,
                offline: false,
                event,
            })
        };
        if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
            online(ChatEvent::Error {
                code: ChatErrorCode::Internal,
                message: format!("Ask a question of 1 to {MAX_QUESTION_CHARS} characters."),
                retry_after_s: None,
            });
            return;
        }
        let role = self.prefs.lock().unwrap().account.as_ref().map(|a| a.role);
        let request = ChatRequest {
            conversation_id: form.conversation_id,
            question: question.clone(),
        };
        let unreachable = match self.chat_session().await {
            Ok(session) => {
                let mut forward = |event| online(event);
                match session.ask(&request, role, &mut forward).await {
                    Ok(Asked::Answered) => return,
                    Ok(Asked::Unreachable(why)) => why,
                    Err(e) => {
                        online(ChatEvent::Error {
                            code: ChatErrorCode::Internal,
                            message: AppError::from(e).to_string(),
                            retry_after_s: None,
                        });
                        return;
                    }
                }
            }
            Err(e) if e.is_offline() => e.to_string(),
            Err(e) => {
                online(ChatEvent::Error {
                    code: ChatErrorCode::Internal,
                    message: e.to_string(),
                    retry_after_s: None,
                });
                return;
            }
        };
        tracing::info!(reason = %unreachable, "answering offline");
        if let Err(e) = self.answer_offline(&question, &|event| {
            emit(ChatTurnEvent {
                turn,
                offline: true,
                event,
            })
        }) {
            emit(ChatTurnEvent {
                turn,
                offline: true,
                event: ChatEvent::Error {
                    code: ChatErrorCode::Internal,
                    message: e.to_string(),
                    retry_after_s: None,
                },
            });
        }
    }

    /// The grounded answer from the cache, streamed like the server's.
    fn answer_offline(&self, question: &str, emit: &dyn Fn(ChatEvent)) -> AppResult<()> {
        let started = Instant::now();
        let (user, role, company) = {
            let prefs = self.prefs.lock().unwrap();
            let saved = prefs.account.as_ref().ok_or(AppError::SignedOut)?;
            (
                saved.me.user.id,
                saved.role,
                saved.me.tenant.company_name.clone(),
            )
        };
        let embedder = self.embedder();
        let reader = self.reader()?;
        let answer = {
            let mut cache = reader.lock().unwrap();
            let acting = [role];
            cache.answer_offline(
                question,
                Asker {
                    user,
                    acting: &acting,
                },
                &company,
                embedder.as_deref().map(|e| e as &dyn QueryEmbedder),
            )?
        };
        let retrieval_ms = started.elapsed().as_millis() as u64;
        emit(ChatEvent::Start {
            conversation_id: Uuid::nil(),
            message_id: Uuid::new_v4(),
            role,
        });
        for piece in roost_answer::stream_pieces(&answer.answer.text) {
            emit(ChatEvent::Token {
                text: piece.to_string(),
            });
        }
        let citations = roost_answer::citations(&answer.answer.text, &answer.sources);
        emit(ChatEvent::Sources { citations });
        let total_ms = started.elapsed().as_millis() as u64;
        emit(ChatEvent::Done {
            usage: Usage {
                provider: "offline".into(),
                model: None,
                input_tokens: None,
                output_tokens: None,
                retrieval_ms,
                first_token_ms: total_ms,
                total_ms,
                sources: answer.sources.len() as u32,
            },
        });
        Ok(())
    }

    pub async fn conversations(&self) -> AppResult<ConversationList> {
        Ok(self.chat_session().await?.conversations().await?)
    }

    pub async fn conversation(&self, id: Uuid) -> AppResult<Conversation> {
        Ok(self.chat_session().await?.conversation(id).await?)
    }

    pub async fn delete_conversation(&self, id: Uuid) -> AppResult<()> {
        Ok(self.chat_session().await?.delete_conversation(id).await?)
    }

    pub async fn rate_answer(&self, message: Uuid, rating: Rating) -> AppResult<()> {
        Ok(self
            .chat_session()
            .await?
            .rate_answer(message, rating)
            .await?)
    }

    /// A cited document, market figure or profile from the cache.
    pub fn knowledge_item(&self, id: Uuid) -> AppResult<KnowledgeItem> {
        let reader = self.reader()?;
        let cache = reader.lock().unwrap();
        cache.knowledge_item(id)?.ok_or_else(|| {
            AppError::NotFound("This document is not on this device (yet): sync first.".into())
        })
    }

    /// The synced clients, by name.
    pub fn clients(&self) -> AppResult<Vec<Client>> {
        let reader = self.reader()?;
        let cache = reader.lock().unwrap();
        let mut clients = cache.clients()?;
        clients.sort_by_cached_key(|c| c.name.to_lowercase());
        Ok(clients)
    }

    /// A cited client from the cache.
    pub fn client(&self, id: Uuid) -> AppResult<Client> {
        let reader = self.reader()?;
        let cache = reader.lock().unwrap();
        cache
            .client(id)?
            .ok_or_else(|| AppError::NotFound("This client is not on this device.".into()))
    }
}
