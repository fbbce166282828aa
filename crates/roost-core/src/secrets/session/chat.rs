//! Chat with the server for a signed-in session: ask (an SSE stream of [`ChatEvent`]s),
//! conversations, feedback. The access token is refreshed once on 401, as for other calls.

use futures_util::StreamExt;
use reqwest::Method;
use roost_api::chat::{
    ChatErrorCode, ChatEvent, ChatRequest, Conversation, ConversationList, FeedbackRequest, Rating,
};
use roost_api::users::Role;
use roost_api::{API_PREFIX, API_VERSION, API_VERSION_HEADER, ErrorBody, ROLE_HEADER};
use uuid::Uuid;

use super::{Session, SessionResult};
use crate::error::CoreError;

/// How asking online ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// The server streamed an answer (complete or ended by an error event).
    Answered,
    /// The server could not be reached before it said anything: answer offline instead.
    Unreachable(String),
}

impl Session {
    /// Asks the server, in `role` when given, handing each event to `on_event` as it
    /// arrives. A stream that breaks after it started ends with an error event.
    pub async fn ask(
        &self,
        req: &ChatRequest,
        role: Option<Role>,
        on_event: &mut (dyn FnMut(ChatEvent) + Send),
    ) -> SessionResult<Asked> {
        let body = serde_json::to_value(req).unwrap_or_default();
        let mut refreshed = false;
        let resp = loop {
            let url = format!("{}{API_PREFIX}/chat", self.base);
            let mut rb = self
                .http
                .post(&url)
                .header(API_VERSION_HEADER, API_VERSION.to_string())
                .header(reqwest::header::ACCEPT, "text/event-stream")
                .bearer_auth(self.access_token())
                .json(&body);
            if let Some(r) = role {
                rb = rb.header(ROLE_HEADER, r.as_str());
            }
            let resp = match rb.send().await {
                Ok(r) => r,
                Err(e) => return Ok(Asked::Unreachable(e.to_string())),
            };
            if resp.status() == reqwest::StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                self.refresh().await?;
                continue;
            }
            if !resp.status().is_success() {
                let status = resp.status().as_u16();
                let bytes = resp.bytes().await.unwrap_or_default();
                let message = match serde_json::from_slice::<ErrorBody>(&bytes) {
                    Ok(b) => b.error.message,
                    Err(_) => format!("the server answered {status}"),
                };
                return Err(CoreError::Server {
                    url,
                    status,
                    message,
                }
                .into());
            }
            break resp;
        };
        let mut events = eventsource_stream::EventStream::new(resp.bytes_stream());
        let mut ended = false;
        while let Some(item) = events.next().await {
            match item {
                Ok(ev) => match serde_json::from_str::<ChatEvent>(&ev.data) {
                    Ok(event) => {
                        ended = matches!(event, ChatEvent::Done { .. } | ChatEvent::Error { .. });
                        on_event(event);
                        if ended {
                            break;
                        }
                    }
                    // Keep-alive comments carry no data; anything else unknown is skipped
                    // so a newer server's extra events do not break an older app.
                    Err(_) => continue,
                },
                Err(e) => {
                    on_event(ChatEvent::Error {
                        code: ChatErrorCode::ProviderUnavailable,
                        message: format!(
                            "the connection to the server broke during the answer: {e}"
                        ),
                        retry_after_s: None,
                    });
                    return Ok(Asked::Answered);
                }
            }
        }
        if !ended {
            on_event(ChatEvent::Error {
                code: ChatErrorCode::ProviderUnavailable,
                message: "the server stopped before the answer ended; ask again".into(),
                retry_after_s: None,
            });
        }
        Ok(Asked::Answered)
    }

    pub async fn conversations(&self) -> SessionResult<ConversationList> {
        self.get("/chat/conversations").await
    }

    pub async fn conversation(&self, id: Uuid) -> SessionResult<Conversation> {
        self.get(&format!("/chat/conversations/{id}")).await
    }

    pub async fn delete_conversation(&self, id: Uuid) -> SessionResult<()> {
        self.authed(Method::DELETE, &format!("/chat/conversations/{id}"), None)
            .await
    }

    pub async fn rate_answer(&self, message: Uuid, rating: Rating) -> SessionResult<()> {
        let body = serde_json::to_value(FeedbackRequest {
            rating,
            comment: None,
        })
        .unwrap_or_default();
        self.authed(
            Method::PUT,
            &format!("/chat/messages/{message}/feedback"),
            Some(body),
        )
        .await
    }

    /// A call with the access token and an optional JSON body whose answer is empty,
    /// refreshed once on 401.
    pub(super) async fn authed(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> SessionResult<()> {
        self.call_authed::<serde::de::IgnoredAny>(method, path, body, &[], false)
            .await
            .map(drop)
    }

    /// A call with the access token, an optional JSON body and extra headers, its JSON answer
    /// read as `T` (an empty answer as `null`); refreshed once on 401.
    pub(super) async fn authed_with<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, String)],
    ) -> SessionResult<T> {
        self.call_authed(method, path, body, headers, true).await
    }

    /// With `read_answer` false a success is not read at all (it may be empty or anything).
    async fn call_authed<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, String)],
        read_answer: bool,
    ) -> SessionResult<T> {
        let url = format!("{}{API_PREFIX}{path}", self.base);
        for attempt in 0..2 {
            let mut rb = self
                .http
                .request(method.clone(), &url)
                .header(API_VERSION_HEADER, API_VERSION.to_string())
                .bearer_auth(self.access_token());
            for (name, value) in headers {
                rb = rb.header(*name, value);
            }
            if let Some(b) = &body {
                rb = rb.json(b);
            }
            let resp = rb.send().await.map_err(|source| CoreError::Http {
                url: url.clone(),
                source,
            })?;
            let status = resp.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                self.refresh().await?;
                continue;
            }
            if status.is_success() {
                let bytes = if read_answer {
                    resp.bytes().await.map_err(|source| CoreError::Http {
                        url: url.clone(),
                        source,
                    })?
                } else {
                    Default::default()
                };
                let bytes = if bytes.is_empty() {
                    &b"null"[..]
                } else {
                    &bytes[..]
                };
                return serde_json::from_slice(bytes).map_err(|e| {
                    CoreError::BadResponse {
                        url,
                        message: e.to_string(),
                    }
                    .into()
                });
            }
            let bytes = resp.bytes().await.unwrap_or_default();
            let message = match serde_json::from_slice::<ErrorBody>(&bytes) {
                // The field a refusal names, so that a form can point at it.
                Ok(b) => match b.error.field {
                    Some(field) => format!("{:?}: {} ({field})", b.error.code, b.error.message),
                    None => format!("{:?}: {}", b.error.code, b.error.message),
                },
                Err(_) => String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            };
            return Err(CoreError::Server {
                url,
                status: status.as_u16(),
                message,
            }
            .into());
        }
        unreachable!("the loop returns on its second pass")
    }
}
