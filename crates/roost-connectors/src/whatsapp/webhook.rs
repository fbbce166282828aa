//! WhatsApp webhooks: the subscription handshake (`GET` with `hub.mode`, `hub.verify_token`,
//! `hub.challenge`), the `X-Hub-Signature-256` check of every delivery, and the events in
//! a `messages` change: statuses of sent messages and the client's own messages (which open
//! the 24-hour window).

use std::collections::{HashSet, VecDeque};

use serde::Deserialize;

use super::{GraphError, WhatsAppError};
use crate::Millis;
use crate::sign::{hmac_matches, same};

/// The challenge to echo when Meta's subscription request carries the expected token;
/// `None` means answer 403.
pub fn verify_handshake(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    expected_token: &str,
) -> Option<String> {
    if expected_token.is_empty() || mode? != "subscribe" {
        return None;
    }
    if !same(token?.as_bytes(), expected_token.as_bytes()) {
        return None;
    }
    challenge.map(str::to_owned)
}

/// Why a delivery's signature was refused (answer 401 or 403 and do not process it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not sha256=<hex>")]
    Malformed,
    #[error("the X-Hub-Signature-256 signature does not match the body")]
    Mismatch,
}

/// Checks `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body under the
/// app secret. Must run on the bytes as received, before any JSON parsing.
pub fn verify_signature(
    app_secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    let hex_sig = header
        .ok_or(SignatureError::Missing)?
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex_sig.len() != 64 || !hex_sig.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SignatureError::Malformed);
    }
    if app_secret.is_empty() || !hmac_matches(app_secret, &[body], hex_sig) {
        return Err(SignatureError::Mismatch);
    }
    Ok(())
}

/// One thing a webhook delivery reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    Status(StatusEvent),
    Inbound(InboundMessage),
}

impl WebhookEvent {
    /// What deduplication keys on: the message id and what happened to it.
    pub fn dedup_key(&self) -> (String, String) {
        match self {
            WebhookEvent::Status(s) => (s.wamid.clone(), s.status.as_str().to_owned()),
            WebhookEvent::Inbound(m) => (m.wamid.clone(), "inbound".to_owned()),
        }
    }
}

/// What happened to a message the business sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// The business number the message went from.
    pub phone_number_id: Option<String>,
    pub wamid: String,
    pub status: DeliveryStatus,
    /// The client's WhatsApp id.
    pub recipient: String,
    pub timestamp: Millis,
    pub errors: Vec<StatusError>,
}

impl StatusEvent {
    /// Why a `failed` status failed, classified like a send error.
    pub fn error(&self) -> Option<WhatsAppError> {
        let first = self.errors.first()?;
        let graph = GraphError {
            status: None,
            code: first.code,
            subcode: None,
            message: first.title.clone().unwrap_or_default(),
            details: first.details.clone(),
            fbtrace_id: None,
        };
        Some(WhatsAppError::classify(graph, None))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
    /// Any status this code does not know yet (kept, never dropped).
    Other(String),
}

impl DeliveryStatus {
    fn parse(s: &str) -> Self {
        match s {
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed,
            other => DeliveryStatus::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Other(s) => s,
        }
    }
}

/// An error attached to a failed status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusError {
    pub code: Option<i64>,
    pub title: Option<String>,
    pub details: Option<String>,
}

/// A message the client sent to the business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub phone_number_id: Option<String>,
    pub wamid: String,
    /// The client's WhatsApp id (their number's digits).
    pub from: String,
    /// When the client wrote: the start of a new 24-hour window.
    pub timestamp: Millis,
    /// `text`, `image`, `button`, …
    pub kind: String,
    pub text: Option<String>,
    /// The name on the client's WhatsApp profile.
    pub profile_name: Option<String>,
}

/// A body that is not a WhatsApp webhook payload.
#[derive(Debug, thiserror::Error)]
#[error("the webhook body is not a WhatsApp payload: {0}")]
pub struct WebhookError(#[from] serde_json::Error);

/// The statuses and inbound messages of a delivery, in order. Changes other than
/// `messages` (template or account updates) are skipped.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<WebhookEvent>, WebhookError> {
    let payload: Payload = serde_json::from_slice(body)?;
    let mut events = Vec::new();
    for change in payload.entry.into_iter().flat_map(|e| e.changes) {
        if change.field != "messages" {
            continue;
        }
        let value = change.value;
        let number = value.metadata.and_then(|m| m.phone_number_id);
        for s in value.statuses {
            events.push(WebhookEvent::Status(StatusEvent {
                phone_number_id: number.clone(),
                wamid: s.id,
                status: DeliveryStatus::parse(&s.status),
                recipient: s.recipient_id.unwrap_or_default(),
                timestamp: seconds_to_millis(&s.timestamp),
                errors: s
                    .errors
                    .into_iter()
                    .map(|e| StatusError {
                        code: e.code,
                        title: e.title.or(e.message),
                        details: e.error_data.and_then(|d| d.details),
                    })
                    .collect(),
            }));
        }
        for m in value.messages {
            let profile_name = value
                .contacts
                .iter()
                .find(|c| c.wa_id.as_deref() == Some(m.from.as_str()))
                .or(value.contacts.first())
                .and_then(|c| c.profile.as_ref())
                .and_then(|p| p.name.clone());
            events.push(WebhookEvent::Inbound(InboundMessage {
                phone_number_id: number.clone(),
                wamid: m.id,
                from: m.from,
                timestamp: seconds_to_millis(&m.timestamp),
                kind: m.kind.unwrap_or_default(),
                text: m.text.and_then(|t| t.body),
                profile_name,
            }));
        }
    }
    Ok(events)
}

/// Webhook timestamps are Unix seconds in a string.
fn seconds_to_millis(s: &str) -> Millis {
    s.trim()
        .parse::<Millis>()
        .map(|secs| secs.saturating_mul(1000))
        .unwrap_or(0)
}

/// Remembers the (message id, status) pairs seen, so a redelivered or replayed event is
/// processed once. Bounded: the oldest keys are forgotten first. Meta retries deliveries
/// for days, so the server's durable record is the final word; this saves it the work.
#[derive(Debug, Clone)]
pub struct Dedup {
    capacity: usize,
    seen: HashSet<(String, String)>,
    order: VecDeque<(String, String)>,
}

impl Default for Dedup {
    fn default() -> Self {
        Dedup::new(10_000)
    }
}

impl Dedup {
    pub fn new(capacity: usize) -> Self {
        Dedup {
            capacity: capacity.max(1),
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// `true` the first time an event is seen, `false` for a repeat.
    pub fn admit(&mut self, event: &WebhookEvent) -> bool {
        let key = event.dedup_key();
        if self.seen.contains(&key) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.seen.insert(key.clone());
        self.order.push_back(key);
        true
    }

    /// The events not seen before, in order.
    pub fn filter(&mut self, events: Vec<WebhookEvent>) -> Vec<WebhookEvent> {
        events.into_iter().filter(|e| self.admit(e)).collect()
    }
}

// The documented payload, as far as Roost reads it.

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize, Default)]
struct Value {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: Option<String>,
}

#[derive(Deserialize)]
struct Contact {
    wa_id: Option<String>,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    id: String,
    from: String,
    #[serde(default)]
    timestamp: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<Text>,
}

#[derive(Deserialize)]
struct Text {
    body: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    #[serde(default)]
    timestamp: String,
    recipient_id: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    code: Option<i64>,
    title: Option<String>,
    message: Option<String>,
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    details: Option<String>,
}
