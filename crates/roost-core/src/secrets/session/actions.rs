//! Actions for a signed-in session: `POST /api/v1/actions` with the outbox's idempotency key,
//! its answer read as a [`SendOutcome`]. The access token is refreshed once on 401, as for
//! other calls.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use roost_api::actions::{ActionRecord, ActionRequest, IDEMPOTENCY_KEY_HEADER};
use roost_api::{API_PREFIX, API_VERSION, API_VERSION_HEADER, ErrorBody};

use super::{Session, SessionError, SessionResult};
use crate::error::CoreError;
use crate::outbox::{ActionSender, SendOutcome};

impl Session {
    /// Sends one action with its idempotency key. Every answer of the server, and no answer,
    /// is an outcome; `Err` only when the session cannot be used (refresh refused: signed
    /// out; 401 again with a fresh token; the secret store failed).
    pub async fn send_action(
        &self,
        key: &str,
        request: &ActionRequest,
    ) -> SessionResult<SendOutcome> {
        let url = format!("{}{API_PREFIX}/actions", self.base);
        let mut refreshed = false;
        loop {
            let sent = self
                .http
                .post(&url)
                .header(API_VERSION_HEADER, API_VERSION.to_string())
                .header(IDEMPOTENCY_KEY_HEADER, key)
                .bearer_auth(self.access_token())
                .json(request)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => return Ok(SendOutcome::Unreachable(unreachable(&url, &e))),
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                match self.refresh().await {
                    Ok(()) => continue,
                    Err(SessionError::Core(CoreError::Http { source, url })) => {
                        return Ok(SendOutcome::Unreachable(unreachable(&url, &source)));
                    }
                    Err(e) => return Err(e),
                }
            }
            if status == StatusCode::UNAUTHORIZED {
                // Refused with a token just refreshed: the device or user was revoked. Not
                // the action's fault, so it stays queued; the caller learns of the session.
                let bytes = resp.bytes().await.unwrap_or_default();
                let message = match serde_json::from_slice::<ErrorBody>(&bytes) {
                    Ok(b) => b.error.message,
                    Err(_) => "the server refused this session".into(),
                };
                return Err(CoreError::Server {
                    url,
                    status: status.as_u16(),
                    message,
                }
                .into());
            }
            let retry_after = retry_after(resp.headers());
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                // The answer broke off: whether the server performed it is unknown.
                Err(e) => return Ok(SendOutcome::Unreachable(unreachable(&url, &e))),
            };
            return Ok(outcome(status, retry_after, &bytes));
        }
    }
}

impl ActionSender for Session {
    type Error = SessionError;

    fn send_action(
        &self,
        key: &str,
        request: &ActionRequest,
    ) -> impl Future<Output = Result<SendOutcome, SessionError>> + Send {
        Session::send_action(self, key, request)
    }
}

fn unreachable(url: &str, e: &reqwest::Error) -> String {
    let why = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the connection broke"
    };
    // The details are for the log; the agent reads the sentence in the Activity screen.
    tracing::info!(url, error = %e, "an action did not reach the server");
    format!("Could not reach the server ({why}); it will be sent again.")
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Roost's server).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Reads one answer of `POST /actions`.
fn outcome(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> SendOutcome {
    let message = || match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => b.error.message,
        Err(_) => format!("the server answered {status}"),
    };
    if status.is_success() {
        return match serde_json::from_slice::<ActionRecord>(body) {
            Ok(record) => SendOutcome::Recorded(Box::new(record)),
            Err(e) => SendOutcome::RetryLater {
                reason: format!("The server's answer is not an action record ({e})."),
                retry_after: None,
            },
        };
    }
    let temporary = matches!(
        status,
        StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT
    ) || status.is_server_error()
        || !status.is_client_error();
    if temporary {
        let reason = if status == StatusCode::CONFLICT {
            "The server is still performing this action; checking again.".to_string()
        } else {
            format!("{} ({status})", message())
        };
        SendOutcome::RetryLater {
            reason,
            retry_after,
        }
    } else {
        SendOutcome::Rejected {
            status: status.as_u16(),
            message: message(),
        }
    }
}

#[cfg(test)]
mod tests {
    use roost_api::actions::ActionStatus;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn answers_map_to_outcomes() {
        let err = br#"{"error":{"code":"validation_failed","message":"The number is not on WhatsApp.","field":"client.phone"}}"#;
        assert_eq!(
            outcome(StatusCode::UNPROCESSABLE_ENTITY, None, err),
            SendOutcome::Rejected {
                status: 422,
                message: "The number is not on WhatsApp.".into()
            }
        );
        let after = Some(Duration::from_secs(7));
        for s in [
            StatusCode::CONFLICT,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::BAD_GATEWAY,
        ] {
            match outcome(s, after, b"") {
                SendOutcome::RetryLater { retry_after, .. } => assert_eq!(retry_after, after),
                other => panic!("{s}: {other:?}"),
            }
        }
        assert!(matches!(
            outcome(StatusCode::OK, None, b"{}"),
            SendOutcome::RetryLater { .. }
        ));
        let record = ActionRecord {
            id: Uuid::nil(),
            idempotency_key: "k".into(),
            request: ActionRequest::CreateLead {
                lead: roost_api::actions::LeadInput {
                    name: "Ivan".into(),
                    phone: None,
                    email: Some("i@x.test".into()),
                    budget: None,
                    interests: None,
                    listings: vec![],
                },
            },
            status: ActionStatus::Delivered,
            reason: None,
            retry_after_s: None,
            external_id: Some("c-1".into()),
            client_id: None,
            created_at: 1,
            updated_at: 2,
        };
        let body = serde_json::to_vec(&record).unwrap();
        assert_eq!(
            outcome(StatusCode::OK, None, &body),
            SendOutcome::Recorded(Box::new(record))
        );
    }

    #[test]
    fn retry_after_in_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, "12".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(12)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
