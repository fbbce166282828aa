//! Conversations, their messages, answer usage, and integration secrets.
//!
//! A question and the empty answer it starts are written together; the answer is finished
//! once (complete or failed) when the stream ends, so a stored conversation never holds a
//! half answer marked complete.

use roost_api::chat::{
    ChatMessage, Citation, Conversation, ConversationSummary, MessageAuthor, MessageStatus, Rating,
};
use roost_api::users::Role;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::audit::{AuditEntry, append};
use crate::{Ctx, Db, DbError, Result, TenantId, now_millis, parse_uuid};

/// Answers still "streaming" after this long were cut off by a server stop.
const STALE_STREAM_MS: i64 = 10 * 60 * 1000;
/// Earlier turns given to the answerer.
const HISTORY_TURNS: i64 = 10;

/// A started turn: where the answer goes and what was said before.
#[derive(Debug, Clone)]
pub struct ChatTurn {
    pub conversation_id: Uuid,
    pub question_id: Uuid,
    pub answer_id: Uuid,
    /// Earlier complete messages, oldest first.
    pub history: Vec<(MessageAuthor, String)>,
}

/// How an answer ended.
pub struct AnswerEnd<'a> {
    pub text: &'a str,
    pub citations: &'a [Citation],
    pub status: MessageStatus,
    pub error: Option<&'a str>,
    pub provider: &'a str,
}

/// One answer's figures for analytics.
pub struct ChatUsageRow<'a> {
    pub message_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub provider: &'a str,
    pub model: Option<&'a str>,
    pub outcome: &'a str,
    pub input_tokens: Option<u32>,
    pub output_tokens: Option<u32>,
    pub retrieval_ms: u64,
    pub first_token_ms: u64,
    pub total_ms: u64,
    pub sources: u32,
    pub cited: u32,
}

fn author_str(a: MessageAuthor) -> &'static str {
    match a {
        MessageAuthor::User => "user",
        MessageAuthor::Assistant => "assistant",
    }
}

fn status_str(s: MessageStatus) -> &'static str {
    match s {
        MessageStatus::Streaming => "streaming",
        MessageStatus::Complete => "complete",
        MessageStatus::Failed => "failed",
    }
}

fn rating_str(r: Rating) -> &'static str {
    match r {
        Rating::Up => "up",
        Rating::Down => "down",
    }
}

/// A conversation title from its first question: the first line, at most 80 characters.
fn title_of(question: &str) -> String {
    let line = question.lines().next().unwrap_or("").trim();
    if line.chars().count() <= 80 {
        return line.to_string();
    }
    let cut: String = line.chars().take(79).collect();
    format!("{}…", cut.trim_end())
}

fn message_from_row(row: &AnyRow, now: i64) -> Result<ChatMessage> {
    let author = match row.try_get::<String, _>("author")?.as_str() {
        "user" => MessageAuthor::User,
        "assistant" => MessageAuthor::Assistant,
        other => return Err(DbError::Corrupt(format!("message author '{other}'"))),
    };
    let created_at: i64 = row.try_get("created_at")?;
    let mut error: Option<String> = row.try_get("error")?;
    let status = match row.try_get::<String, _>("status")?.as_str() {
        "complete" => MessageStatus::Complete,
        "failed" => MessageStatus::Failed,
        "streaming" if now - created_at > STALE_STREAM_MS => {
            error = Some("the answer was interrupted; ask again".into());
            MessageStatus::Failed
        }
        "streaming" => MessageStatus::Streaming,
        other => return Err(DbError::Corrupt(format!("message status '{other}'"))),
    };
    let citations: Vec<Citation> = serde_json::from_str(&row.try_get::<String, _>("citations")?)
        .map_err(|e| DbError::Corrupt(format!("citations: {e}")))?;
    let rating = match row.try_get::<Option<String>, _>("rating")?.as_deref() {
        Some("up") => Some(Rating::Up),
        Some("down") => Some(Rating::Down),
        _ => None,
    };
    Ok(ChatMessage {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        author,
        text: row.try_get("text")?,
        citations,
        status,
        error,
        provider: row.try_get("provider")?,
        rating,
        created_at,
    })
}

impl Db {
    /// The tenant's change counter: retrieval caches compare it to know they are current.
    pub async fn change_head(&self, tenant: TenantId) -> Result<i64> {
        let row = sqlx::query("SELECT change_seq FROM tenants WHERE id = $1")
            .bind(tenant.s())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        Ok(row.try_get("change_seq")?)
    }

    /// Stores a question and the empty answer that follows it, in a new conversation or in
    /// `conversation` (which must be the user's: `NotFound` otherwise).
    pub async fn start_turn(
        &self,
        tenant: TenantId,
        user: Uuid,
        conversation: Option<Uuid>,
        question: &str,
        role: Role,
    ) -> Result<ChatTurn> {
        let mut tx = self.write_tx().await?;
        let now = now_millis();
        let conversation_id = match conversation {
            Some(id) => {
                let found = sqlx::query(
                    "SELECT id FROM conversations WHERE tenant_id = $1 AND id = $2
                       AND user_id = $3",
                )
                .bind(tenant.s())
                .bind(id.to_string())
                .bind(user.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                if found.is_none() {
                    return Err(DbError::NotFound);
                }
                id
            }
            None => {
                let id = Uuid::now_v7();
                sqlx::query(
                    "INSERT INTO conversations (tenant_id, id, user_id, title, messages,
                         created_at, updated_at)
                     VALUES ($1, $2, $3, $4, 0, $5, $5)",
                )
                .bind(tenant.s())
                .bind(id.to_string())
                .bind(user.to_string())
                .bind(title_of(question))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let rows = sqlx::query(
            "SELECT author, text FROM chat_messages
             WHERE tenant_id = $1 AND conversation_id = $2 AND status = 'complete'
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(tenant.s())
        .bind(conversation_id.to_string())
        .bind(HISTORY_TURNS)
        .fetch_all(&mut *tx)
        .await?;
        let mut history = Vec::with_capacity(rows.len());
        for row in rows.iter().rev() {
            let author = match row.try_get::<String, _>("author")?.as_str() {
                "user" => MessageAuthor::User,
                _ => MessageAuthor::Assistant,
            };
            history.push((author, row.try_get::<String, _>("text")?));
        }
        let question_id = Uuid::now_v7();
        let answer_id = Uuid::now_v7();
        for (id, author, text, status, at) in [
            (
                question_id,
                MessageAuthor::User,
                question,
                MessageStatus::Complete,
                now,
            ),
            // One millisecond later, so the order by time is question then answer.
            (
                answer_id,
                MessageAuthor::Assistant,
                "",
                MessageStatus::Streaming,
                now + 1,
            ),
        ] {
            sqlx::query(
                "INSERT INTO chat_messages (tenant_id, id, conversation_id, author, text,
                     citations, status, role, created_at)
                 VALUES ($1, $2, $3, $4, $5, '[]', $6, $7, $8)",
            )
            .bind(tenant.s())
            .bind(id.to_string())
            .bind(conversation_id.to_string())
            .bind(author_str(author))
            .bind(text)
            .bind(status_str(status))
            .bind(role.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE conversations SET messages = messages + 2, updated_at = $3
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.s())
        .bind(conversation_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ChatTurn {
            conversation_id,
            question_id,
            answer_id,
            history,
        })
    }

    /// Ends an answer once: later calls for the same message change nothing.
    pub async fn finish_answer(
        &self,
        tenant: TenantId,
        message: Uuid,
        end: AnswerEnd<'_>,
    ) -> Result<()> {
        let citations =
            serde_json::to_string(end.citations).map_err(|e| DbError::Corrupt(e.to_string()))?;
        sqlx::query(
            "UPDATE chat_messages SET text = $3, citations = $4, status = $5, error = $6,
                 provider = $7
             WHERE tenant_id = $1 AND id = $2 AND status = 'streaming'",
        )
        .bind(tenant.s())
        .bind(message.to_string())
        .bind(end.text)
        .bind(citations)
        .bind(status_str(end.status))
        .bind(end.error)
        .bind(end.provider)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn record_chat_usage(&self, tenant: TenantId, u: ChatUsageRow<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO chat_usage (tenant_id, message_id, user_id, role, provider, model,
                 outcome, input_tokens, output_tokens, retrieval_ms, first_token_ms, total_ms,
                 sources, cited, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(tenant.s())
        .bind(u.message_id.to_string())
        .bind(u.user_id.to_string())
        .bind(u.role.as_str())
        .bind(u.provider)
        .bind(u.model)
        .bind(u.outcome)
        .bind(u.input_tokens.map(i64::from))
        .bind(u.output_tokens.map(i64::from))
        .bind(u.retrieval_ms as i64)
        .bind(u.first_token_ms as i64)
        .bind(u.total_ms as i64)
        .bind(i64::from(u.sources))
        .bind(i64::from(u.cited))
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user's conversations, newest first.
    pub async fn conversations(
        &self,
        tenant: TenantId,
        user: Uuid,
    ) -> Result<Vec<ConversationSummary>> {
        let rows = sqlx::query(
            "SELECT id, title, messages, created_at, updated_at FROM conversations
             WHERE tenant_id = $1 AND user_id = $2 ORDER BY updated_at DESC, id DESC LIMIT 200",
        )
        .bind(tenant.s())
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ConversationSummary {
                    id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                    title: r.try_get("title")?,
                    messages: r.try_get::<i64, _>("messages")? as u32,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// One of the user's conversations with its messages, oldest first.
    pub async fn conversation(
        &self,
        tenant: TenantId,
        user: Uuid,
        id: Uuid,
    ) -> Result<Conversation> {
        let head = sqlx::query(
            "SELECT title, created_at, updated_at FROM conversations
             WHERE tenant_id = $1 AND id = $2 AND user_id = $3",
        )
        .bind(tenant.s())
        .bind(id.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(DbError::NotFound)?;
        let rows = sqlx::query(
            "SELECT id, author, text, citations, status, error, provider, rating, created_at
             FROM chat_messages WHERE tenant_id = $1 AND conversation_id = $2
             ORDER BY created_at, id",
        )
        .bind(tenant.s())
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let now = now_millis();
        Ok(Conversation {
            id,
            title: head.try_get("title")?,
            messages: rows
                .iter()
                .map(|r| message_from_row(r, now))
                .collect::<Result<_>>()?,
            created_at: head.try_get("created_at")?,
            updated_at: head.try_get("updated_at")?,
        })
    }

    /// Deletes one of the user's conversations and its messages (usage figures stay).
    pub async fn delete_conversation(&self, ctx: &Ctx, user: Uuid, id: Uuid) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let found = sqlx::query(
            "SELECT id FROM conversations WHERE tenant_id = $1 AND id = $2 AND user_id = $3",
        )
        .bind(ctx.tenant.s())
        .bind(id.to_string())
        .bind(user.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(DbError::NotFound);
        }
        sqlx::query("DELETE FROM chat_messages WHERE tenant_id = $1 AND conversation_id = $2")
            .bind(ctx.tenant.s())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM conversations WHERE tenant_id = $1 AND id = $2")
            .bind(ctx.tenant.s())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            AuditEntry {
                action: "chat.delete_conversation",
                target_type: "conversation",
                target_id: Some(id.to_string()),
                details: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Thumbs up or down on one of the user's answers (the latest rating counts).
    pub async fn rate_answer(
        &self,
        tenant: TenantId,
        user: Uuid,
        message: Uuid,
        rating: Rating,
        comment: Option<&str>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE chat_messages SET rating = $4, feedback = $5
             WHERE tenant_id = $1 AND id = $2 AND author = 'assistant'
               AND conversation_id IN (SELECT id FROM conversations
                                       WHERE tenant_id = $1 AND user_id = $3)",
        )
        .bind(tenant.s())
        .bind(message.to_string())
        .bind(user.to_string())
        .bind(rating_str(rating))
        .bind(comment)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Stores an integration's secret, already encrypted by the caller.
    pub async fn put_integration_secret(
        &self,
        ctx: &Ctx,
        name: &str,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM integration_secrets WHERE tenant_id = $1 AND name = $2")
            .bind(ctx.tenant.s())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO integration_secrets (tenant_id, name, nonce, ciphertext, updated_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(ctx.tenant.s())
        .bind(name)
        .bind(nonce.to_vec())
        .bind(ciphertext.to_vec())
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            AuditEntry {
                action: "integration.secret_set",
                target_type: "integration",
                target_id: Some(name.to_string()),
                // Never the secret, nor its length.
                details: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// (nonce, ciphertext) of an integration's secret.
    pub async fn integration_secret(
        &self,
        tenant: TenantId,
        name: &str,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT nonce, ciphertext FROM integration_secrets WHERE tenant_id = $1 AND name = $2",
        )
        .bind(tenant.s())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("nonce")?, r.try_get("ciphertext")?)))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::title_of;

    #[test]
    fn titles_are_the_first_line_shortened() {
        assert_eq!(title_of("Villas in Ranches?\nmore"), "Villas in Ranches?");
        let long = "word ".repeat(40);
        let t = title_of(&long);
        assert!(t.chars().count() <= 80 && t.ends_with('…'), "{t}");
    }
}
