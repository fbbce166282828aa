//! A generic CRM reached by a signed webhook: Roost POSTs the event's JSON with
//!
//! - `X-Roost-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
//! - `Idempotency-Key`: the same for every attempt of one action, so the receiver can drop
//!   repeats;
//! - `X-Roost-Event`: the event type (`lead.created`, …).
//!
//! Signing the timestamp with the body lets a receiver refuse old captures ([`verify`]'s
//! tolerance); within the tolerance, a replay is caught by the idempotency key.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::error::{self, ConnectorError, seconds, tidy};
use crate::sign::{hmac_hex, hmac_matches};
use crate::{ConfigError, parse_base};

pub const SIGNATURE_HEADER: &str = "X-Roost-Signature";
pub const EVENT_HEADER: &str = "X-Roost-Event";
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// How far a receiver should accept timestamps from its own clock.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// A receiver's endpoint and the secret shared with it.
#[derive(Clone)]
pub struct SignedWebhook {
    http: reqwest::Client,
    url: url::Url,
    secret: String,
}

impl fmt::Debug for SignedWebhook {
    // The secret stays out of logs, and so does the URL's path, which may carry one too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedWebhook")
            .field("host", &self.url.host_str().unwrap_or_default())
            .finish_non_exhaustive()
    }
}

/// The receiver took the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub status: u16,
}

impl SignedWebhook {
    pub fn new(
        http: reqwest::Client,
        url: &str,
        secret: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let url = parse_base("CRM webhook", url)?;
        let secret = secret.into();
        if secret.is_empty() {
            return Err(ConfigError::Missing {
                service: "CRM webhook",
                what: "signing secret",
            });
        }
        Ok(SignedWebhook { http, url, secret })
    }

    /// Delivers one event, signed with the current time.
    pub async fn deliver(
        &self,
        event_type: &str,
        idempotency_key: &str,
        json: &Value,
    ) -> Result<Delivered, SignedWebhookError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        self.deliver_at(event_type, idempotency_key, json, now)
            .await
    }

    /// [`SignedWebhook::deliver`] with the signing time given (Unix seconds).
    pub async fn deliver_at(
        &self,
        event_type: &str,
        idempotency_key: &str,
        json: &Value,
        unix_secs: i64,
    ) -> Result<Delivered, SignedWebhookError> {
        // The exact bytes sent are the bytes signed.
        let body = serde_json::to_vec(json).unwrap_or_default();
        let resp = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                signature_header(self.secret.as_bytes(), unix_secs, &body),
            )
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .header(EVENT_HEADER, event_type)
            .body(body)
            .send()
            .await
            .map_err(|e| SignedWebhookError::Network(error::transport(&e)))?;
        let answer = error::read(resp).await;
        let status = answer.status;
        if (200..300).contains(&status) {
            return Ok(Delivered { status });
        }
        let message = body_message(&answer.body, &self.secret);
        Err(match status {
            408 | 429 | 500..=599 => SignedWebhookError::RetryLater {
                status,
                after: error::retry_after(&answer.headers),
                message,
            },
            401 | 403 => SignedWebhookError::Unauthorized { status, message },
            _ => SignedWebhookError::Rejected { status, message },
        })
    }
}

/// `t=<t>,v1=<hex>` for `body` signed at `t`.
pub fn signature_header(secret: &[u8], t: i64, body: &[u8]) -> String {
    let stamp = t.to_string();
    format!(
        "t={stamp},v1={}",
        hmac_hex(secret, &[stamp.as_bytes(), b".", body])
    )
}

/// Why a receiver refused a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the X-Roost-Signature header is missing")]
    Missing,
    #[error("the X-Roost-Signature header is not t=<unix>,v1=<hex>")]
    Malformed,
    #[error("the X-Roost-Signature timestamp is {age_secs} s away from now")]
    Stale { age_secs: i64 },
    #[error("the X-Roost-Signature signature does not match the body")]
    Mismatch,
}

/// A receiver's check: the signature covers this body and timestamp under `secret`, and
/// the timestamp is within `tolerance` of `now` (Unix seconds). Several `v1` entries are
/// allowed (during a secret rotation); one must match. Returns the signed timestamp.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<i64, VerifyError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(VerifyError::Missing)?;
    let mut stamp = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => stamp = Some(v),
            Some(("v1", v)) => sigs.push(v),
            // Unknown schemes are ignored, so new ones can be added beside v1.
            Some(_) => {}
            None => return Err(VerifyError::Malformed),
        }
    }
    let stamp = stamp.ok_or(VerifyError::Malformed)?;
    let t: i64 = stamp.parse().map_err(|_| VerifyError::Malformed)?;
    if sigs.is_empty() {
        return Err(VerifyError::Malformed);
    }
    // The signature first: an unsigned timestamp says nothing.
    if !sigs
        .iter()
        .any(|s| hmac_matches(secret, &[stamp.as_bytes(), b".", body], s))
    {
        return Err(VerifyError::Mismatch);
    }
    let age = now.saturating_sub(t);
    let limit = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if age.saturating_abs() > limit {
        return Err(VerifyError::Stale { age_secs: age });
    }
    Ok(t)
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedWebhookError {
    #[error(
        "The CRM refused the lead (HTTP {status}): {message}; correct the lead and send again."
    )]
    Rejected { status: u16, message: String },
    #[error(
        "The CRM refused Roost's signature (HTTP {status}): an admin must check the CRM webhook secret."
    )]
    Unauthorized { status: u16, message: String },
    #[error("The CRM is busy or unavailable (HTTP {status}): {}.", retry_words(*after))]
    RetryLater {
        status: u16,
        after: Option<Duration>,
        message: String,
    },
    #[error("The CRM could not be reached ({0}): the lead will be retried.")]
    Network(String),
}

fn retry_words(after: Option<Duration>) -> String {
    match after {
        Some(d) => format!("retry in {}", seconds(d)),
        None => "the lead will be retried".to_owned(),
    }
}

impl From<SignedWebhookError> for ConnectorError {
    fn from(e: SignedWebhookError) -> Self {
        let reason = e.to_string();
        match e {
            SignedWebhookError::Rejected { .. } => ConnectorError::Permanent { reason },
            SignedWebhookError::Unauthorized { .. } => ConnectorError::NeedsAdmin { reason },
            SignedWebhookError::RetryLater { after, .. } => {
                ConnectorError::Retryable { after, reason }
            }
            SignedWebhookError::Network(_) => ConnectorError::Retryable {
                after: None,
                reason,
            },
        }
    }
}

/// The receiver's explanation: `message`, `error` (a string or `{message}`), `detail`, or
/// the text itself.
fn body_message(body: &str, secret: &str) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        let pick = |k: &str| match v.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("message")?.as_str().map(str::to_owned),
            _ => None,
        };
        pick("message")
            .or_else(|| pick("error"))
            .or_else(|| pick("detail"))
    });
    let text = tidy(from_json.as_deref().unwrap_or(body), &[secret]);
    if text.is_empty() {
        "no explanation given".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_messages_are_found_in_common_shapes() {
        assert_eq!(
            body_message(r#"{"message":"bad phone."}"#, "s3cret"),
            "bad phone"
        );
        assert_eq!(
            body_message(r#"{"error":{"message":"nope"}}"#, "s3cret"),
            "nope"
        );
        assert_eq!(body_message(r#"{"error":"x"}"#, "s3cret"), "x");
        assert_eq!(body_message("plain text", "s3cret"), "plain text");
        assert_eq!(body_message("", "s3cret"), "no explanation given");
        assert_eq!(
            body_message("key s3cret wrong", "s3cret"),
            "key [redacted] wrong"
        );
    }

    #[test]
    fn header_shape() {
        let h = signature_header(b"k", 1_700_000_000, b"{}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(h.len(), "t=1700000000,v1=".len() + 64);
    }
}
