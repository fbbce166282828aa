//! The WhatsApp Business Cloud API (Meta Graph API): sending messages, the 24-hour
//! customer-service window, pacing, and webhooks.
//!
//! Sending is `POST {base}/{version}/{phone-number-id}/messages` with a bearer token and the
//! documented body (`messaging_product: "whatsapp"`, `recipient_type: "individual"`, `to`,
//! `type` and the object of that type). Errors come back as the Graph error object
//! (`error.code`, `error.error_data.details`, `error.fbtrace_id`); the code decides the
//! [`WhatsAppError`], never the message text.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{self, ConnectorError, seconds, tidy};
use crate::{ConfigError, join, parse_base};

mod pacer;
mod webhook;
mod window;

pub use pacer::Pacer;
pub use webhook::{
    Dedup, DeliveryStatus, InboundMessage, SignatureError, StatusError, StatusEvent, WebhookError,
    WebhookEvent, parse_webhook, verify_handshake, verify_signature,
};
pub use window::{Choice, SERVICE_WINDOW, WINDOW_MARGIN, choose, window_open};

/// Where the Graph API lives.
pub const GRAPH_BASE_URL: &str = "https://graph.facebook.com";
/// The Cloud API's limit on a text body.
pub const TEXT_LIMIT: usize = 4096;
/// The Cloud API's limit on a media caption.
pub const CAPTION_LIMIT: usize = 1024;

/// A client for one business phone number.
#[derive(Clone)]
pub struct WhatsApp {
    http: reqwest::Client,
    messages_url: url::Url,
    token: String,
}

impl fmt::Debug for WhatsApp {
    // The token stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsApp")
            .field("messages_url", &self.messages_url.as_str())
            .finish_non_exhaustive()
    }
}

impl WhatsApp {
    /// `base_url` is normally [`GRAPH_BASE_URL`]; `api_version` looks like `v21.0`.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        api_version: &str,
        phone_number_id: &str,
        access_token: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let base = parse_base("WhatsApp", base_url)?;
        let token = access_token.into();
        for (what, value) in [
            ("API version", api_version),
            ("phone number id", phone_number_id),
            ("access token", token.as_str()),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::Missing {
                    service: "WhatsApp",
                    what,
                });
            }
        }
        let messages_url = join(&base, &[api_version, phone_number_id, "messages"]);
        Ok(WhatsApp {
            http,
            messages_url,
            token,
        })
    }

    /// Sends one message. The Cloud API has no idempotency key: a network failure after the
    /// request left may still have delivered it, which the caller learns from the webhook.
    pub async fn send(&self, msg: &OutgoingMessage) -> Result<SentMessage, WhatsAppError> {
        let to = normalize_number(&msg.to).ok_or_else(|| {
            WhatsAppError::InvalidRecipient(Box::new(GraphError::local(
                "expected a phone number of 7 to 15 digits with its country code",
            )))
        })?;
        msg.body.check()?;
        let resp = self
            .http
            .post(self.messages_url.clone())
            .bearer_auth(&self.token)
            .json(&msg.payload(&to))
            .send()
            .await
            .map_err(|e| WhatsAppError::Network(error::transport(&e)))?;
        let answer = error::read(resp).await;
        if !(200..300).contains(&answer.status) {
            let graph = GraphError::parse(answer.status, &answer.body, &self.token);
            return Err(WhatsAppError::classify(
                graph,
                error::retry_after(&answer.headers),
            ));
        }
        #[derive(Deserialize)]
        struct Sent {
            #[serde(default)]
            messages: Vec<Id>,
            #[serde(default)]
            contacts: Vec<Contact>,
        }
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        #[derive(Deserialize)]
        struct Contact {
            wa_id: Option<String>,
        }
        let sent: Sent = serde_json::from_str(&answer.body)
            .map_err(|e| WhatsAppError::Malformed(format!("unreadable body: {e}")))?;
        let wamid = sent
            .messages
            .into_iter()
            .next()
            .map(|m| m.id)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| WhatsAppError::Malformed("no messages[0].id".to_owned()))?;
        Ok(SentMessage {
            wamid,
            wa_id: sent.contacts.into_iter().next().and_then(|c| c.wa_id),
        })
    }
}

/// A message to one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The client's number, any common notation (`+971 50 123 4567`, `00971501234567`).
    pub to: String,
    pub body: MessageBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageBody {
    Text {
        body: String,
        /// Ask WhatsApp to render a preview of the first link.
        preview_url: bool,
    },
    Image {
        link: String,
        caption: Option<String>,
    },
    Document {
        link: String,
        filename: Option<String>,
        caption: Option<String>,
    },
    /// An approved template: the only kind accepted outside the 24-hour window.
    Template {
        name: String,
        /// The template's language code, such as `en_US` or `ar`.
        language: String,
        /// The image of a template approved with an image header (a link WhatsApp can fetch).
        header_image: Option<String>,
        /// Values of the body's `{{1}}`, `{{2}}`, … in order.
        body_params: Vec<String>,
    },
}

impl OutgoingMessage {
    pub fn text(to: impl Into<String>, body: impl Into<String>, preview_url: bool) -> Self {
        OutgoingMessage {
            to: to.into(),
            body: MessageBody::Text {
                body: body.into(),
                preview_url,
            },
        }
    }

    pub fn image(to: impl Into<String>, link: impl Into<String>, caption: Option<String>) -> Self {
        OutgoingMessage {
            to: to.into(),
            body: MessageBody::Image {
                link: link.into(),
                caption,
            },
        }
    }

    pub fn document(
        to: impl Into<String>,
        link: impl Into<String>,
        filename: Option<String>,
        caption: Option<String>,
    ) -> Self {
        OutgoingMessage {
            to: to.into(),
            body: MessageBody::Document {
                link: link.into(),
                filename,
                caption,
            },
        }
    }

    pub fn template(
        to: impl Into<String>,
        name: impl Into<String>,
        language: impl Into<String>,
        body_params: Vec<String>,
    ) -> Self {
        OutgoingMessage {
            to: to.into(),
            body: MessageBody::Template {
                name: name.into(),
                language: language.into(),
                header_image: None,
                body_params,
            },
        }
    }

    /// Fills a template's image header (no effect on other kinds of message).
    pub fn with_header_image(mut self, link: impl Into<String>) -> Self {
        if let MessageBody::Template { header_image, .. } = &mut self.body {
            *header_image = Some(link.into());
        }
        self
    }

    /// The request body for `to` (already normalised).
    pub fn payload(&self, to: &str) -> Value {
        let mut v = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
        });
        let (kind, object) = match &self.body {
            MessageBody::Text { body, preview_url } => {
                ("text", json!({ "preview_url": preview_url, "body": body }))
            }
            MessageBody::Image { link, caption } => {
                let mut o = json!({ "link": link });
                if let Some(c) = caption {
                    o["caption"] = json!(c);
                }
                ("image", o)
            }
            MessageBody::Document {
                link,
                filename,
                caption,
            } => {
                let mut o = json!({ "link": link });
                if let Some(f) = filename {
                    o["filename"] = json!(f);
                }
                if let Some(c) = caption {
                    o["caption"] = json!(c);
                }
                ("document", o)
            }
            MessageBody::Template {
                name,
                language,
                header_image,
                body_params,
            } => {
                let mut o = json!({ "name": name, "language": { "code": language } });
                let mut components = Vec::new();
                if let Some(link) = header_image {
                    components.push(json!({
                        "type": "header",
                        "parameters": [{ "type": "image", "image": { "link": link } }],
                    }));
                }
                if !body_params.is_empty() {
                    let params: Vec<Value> = body_params
                        .iter()
                        .map(|p| json!({ "type": "text", "text": p }))
                        .collect();
                    components.push(json!({ "type": "body", "parameters": params }));
                }
                if !components.is_empty() {
                    o["components"] = json!(components);
                }
                ("template", o)
            }
        };
        v["type"] = json!(kind);
        v[kind] = object;
        v
    }
}

impl MessageBody {
    /// Limits the Cloud API would reject anyway, caught before a request is spent.
    fn check(&self) -> Result<(), WhatsAppError> {
        let reject = |m: &str| Err(WhatsAppError::Rejected(Box::new(GraphError::local(m))));
        match self {
            MessageBody::Text { body, .. } if body.trim().is_empty() => reject("the text is empty"),
            MessageBody::Text { body, .. } if body.chars().count() > TEXT_LIMIT => {
                reject("the text is longer than WhatsApp's 4,096 characters")
            }
            MessageBody::Image {
                caption: Some(c), ..
            }
            | MessageBody::Document {
                caption: Some(c), ..
            } if c.chars().count() > CAPTION_LIMIT => {
                reject("the caption is longer than WhatsApp's 1,024 characters")
            }
            MessageBody::Template { name, .. } if name.trim().is_empty() => {
                reject("the template has no name")
            }
            _ => Ok(()),
        }
    }

    pub fn is_template(&self) -> bool {
        matches!(self, MessageBody::Template { .. })
    }
}

/// What the Cloud API answered for an accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The message id (`wamid.…`) that status webhooks will name.
    pub wamid: String,
    /// The WhatsApp id the number resolved to.
    pub wa_id: Option<String>,
}

/// The digits of a phone number in international form, or `None` when it cannot be one.
/// Accepts `+`, a `00` prefix, spaces, dots, dashes and parentheses.
pub fn normalize_number(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let rest = trimmed
        .strip_prefix('+')
        .or_else(|| trimmed.strip_prefix("00"))
        .unwrap_or(trimmed);
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    (7..=15).contains(&digits.len()).then_some(digits)
}

/// The Graph API's error object, with the token removed from its texts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GraphError {
    /// HTTP status; `None` for errors found locally or reported by a webhook.
    pub status: Option<u16>,
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub message: String,
    /// `error_data.details`: the most specific explanation.
    pub details: Option<String>,
    /// Meta's trace id, for support requests.
    pub fbtrace_id: Option<String>,
}

impl GraphError {
    fn local(message: &str) -> Self {
        GraphError {
            message: message.to_owned(),
            ..GraphError::default()
        }
    }

    /// Reads the documented `{"error": {...}}` body; anything else keeps the status and a
    /// snippet of the text.
    pub fn parse(status: u16, body: &str, token: &str) -> Self {
        #[derive(Deserialize)]
        struct Envelope {
            error: Body,
        }
        #[derive(Deserialize)]
        struct Body {
            message: Option<String>,
            code: Option<i64>,
            error_subcode: Option<i64>,
            error_data: Option<Data>,
            fbtrace_id: Option<String>,
        }
        #[derive(Deserialize)]
        struct Data {
            details: Option<String>,
        }
        match serde_json::from_str::<Envelope>(body) {
            Ok(Envelope { error: e }) => GraphError {
                status: Some(status),
                code: e.code,
                subcode: e.error_subcode,
                message: tidy(e.message.as_deref().unwrap_or_default(), &[token]),
                details: e
                    .error_data
                    .and_then(|d| d.details)
                    .map(|d| tidy(&d, &[token]))
                    .filter(|d| !d.is_empty()),
                fbtrace_id: e.fbtrace_id,
            },
            Err(_) => GraphError {
                status: Some(status),
                message: tidy(body, &[token]),
                ..GraphError::default()
            },
        }
    }

    /// The most specific text, for an error sentence.
    fn summary(&self) -> String {
        let text = self
            .details
            .as_deref()
            .filter(|d| !d.is_empty())
            .unwrap_or(&self.message);
        let text = if text.is_empty() {
            match self.status {
                Some(s) => format!("HTTP {s}"),
                None => "no details".to_owned(),
            }
        } else {
            text.to_owned()
        };
        match self.code {
            Some(code) => format!("{text}, code {code}"),
            None => text,
        }
    }

    fn mentions_recipient(&self) -> bool {
        let text = format!(
            "{} {}",
            self.message.to_lowercase(),
            self.details.as_deref().unwrap_or_default().to_lowercase()
        );
        [
            "recipient",
            "phone number",
            "\"to\"",
            "parameter to",
            "wa_id",
        ]
        .iter()
        .any(|w| text.contains(w))
    }
}

/// Which limit a rate-limit error names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// 130429: the business number's messages per second.
    Throughput,
    /// 131056: too many messages to the same client in a short time.
    PairRate,
    /// 4 / 80007: the app's or business account's API calls.
    ApiCalls,
}

impl RateLimit {
    /// The wait when the answer names none: about one message per 6 s to the same client.
    fn default_wait(self) -> Duration {
        match self {
            RateLimit::Throughput => Duration::from_secs(2),
            RateLimit::PairRate => Duration::from_secs(6),
            RateLimit::ApiCalls => Duration::from_secs(60),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            RateLimit::Throughput => "WhatsApp is limiting how fast this business number sends",
            RateLimit::PairRate => "WhatsApp is limiting messages to this client",
            RateLimit::ApiCalls => "WhatsApp is limiting Roost's API calls",
        }
    }
}

/// Why a message was not accepted, in words the agent can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhatsAppError {
    #[error(
        "The number is not on WhatsApp or is not a valid phone number: check the client's number ({}).",
        .0.summary()
    )]
    InvalidRecipient(Box<GraphError>),
    #[error(
        "Send a template: the client has not written in 24 h, so WhatsApp only accepts an approved template."
    )]
    TemplateRequired(Box<GraphError>),
    #[error("{}: retry in {}.", limit.describe(), seconds(*after))]
    RetryLater {
        after: Duration,
        limit: RateLimit,
        error: Box<GraphError>,
    },
    #[error("WhatsApp refused the access token: an admin must renew the WhatsApp token.")]
    AuthExpired(Box<GraphError>),
    #[error(
        "WhatsApp refused the business account ({}): an admin must check the WhatsApp Business account and its permissions.",
        .0.summary()
    )]
    AccountProblem(Box<GraphError>),
    #[error(
        "WhatsApp rejected the template ({}): an admin must check the approved templates.",
        .0.summary()
    )]
    TemplateProblem(Box<GraphError>),
    #[error("WhatsApp is unavailable ({}): the message will be retried.", .0.summary())]
    Unavailable(Box<GraphError>),
    #[error("WhatsApp rejected the message ({}).", .0.summary())]
    Rejected(Box<GraphError>),
    #[error("WhatsApp could not be reached ({0}): the message will be retried.")]
    Network(String),
    #[error(
        "WhatsApp answered without a message id ({0}): check the conversation before sending again."
    )]
    Malformed(String),
}

impl WhatsAppError {
    /// Reads a Graph error by its code (as Meta recommends), then by HTTP status. Also used
    /// for the `errors` of a failed status webhook.
    pub fn classify(e: GraphError, retry_after: Option<Duration>) -> Self {
        // Boxed: the error travels in `Result`s and should stay small.
        let e = Box::new(e);
        let limited = |limit: RateLimit, e: Box<GraphError>| WhatsAppError::RetryLater {
            after: retry_after.unwrap_or_else(|| limit.default_wait()),
            limit,
            error: e,
        };
        match (e.code, e.status) {
            (Some(0 | 102 | 190), _) => WhatsAppError::AuthExpired(e),
            (Some(131047), _) => WhatsAppError::TemplateRequired(e),
            // 131026 undeliverable (not on WhatsApp, old app, terms not accepted);
            // 131030 not in the test number's allowed list; 131021 sender = recipient.
            (Some(131026 | 131030 | 131021), _) => WhatsAppError::InvalidRecipient(e),
            (Some(100), _) if e.mentions_recipient() => WhatsAppError::InvalidRecipient(e),
            (Some(130429), _) => limited(RateLimit::Throughput, e),
            (Some(131056), _) => limited(RateLimit::PairRate, e),
            (Some(4 | 80007), _) => limited(RateLimit::ApiCalls, e),
            (Some(3 | 10 | 200..=299 | 368 | 131031 | 131042 | 133010), _) => {
                WhatsAppError::AccountProblem(e)
            }
            (Some(132000..=132999), _) => WhatsAppError::TemplateProblem(e),
            (Some(1 | 2 | 131000 | 131016 | 133004), _) => WhatsAppError::Unavailable(e),
            (_, Some(401)) => WhatsAppError::AuthExpired(e),
            (_, Some(403)) => WhatsAppError::AccountProblem(e),
            (_, Some(429)) => limited(RateLimit::Throughput, e),
            (_, Some(408 | 500..=599)) => WhatsAppError::Unavailable(e),
            _ => WhatsAppError::Rejected(e),
        }
    }

    /// The Graph error behind this one, when the service sent one.
    pub fn graph(&self) -> Option<&GraphError> {
        match self {
            WhatsAppError::InvalidRecipient(e)
            | WhatsAppError::TemplateRequired(e)
            | WhatsAppError::RetryLater { error: e, .. }
            | WhatsAppError::AuthExpired(e)
            | WhatsAppError::AccountProblem(e)
            | WhatsAppError::TemplateProblem(e)
            | WhatsAppError::Unavailable(e)
            | WhatsAppError::Rejected(e) => Some(e),
            WhatsAppError::Network(_) | WhatsAppError::Malformed(_) => None,
        }
    }
}

impl From<WhatsAppError> for ConnectorError {
    fn from(e: WhatsAppError) -> Self {
        let reason = e.to_string();
        match e {
            WhatsAppError::RetryLater { after, .. } => ConnectorError::Retryable {
                after: Some(after),
                reason,
            },
            WhatsAppError::Unavailable(_) | WhatsAppError::Network(_) => {
                ConnectorError::Retryable {
                    after: None,
                    reason,
                }
            }
            WhatsAppError::AuthExpired(_)
            | WhatsAppError::AccountProblem(_)
            | WhatsAppError::TemplateProblem(_) => ConnectorError::NeedsAdmin { reason },
            // A message with no id may have been sent: retrying could send it twice.
            WhatsAppError::InvalidRecipient(_)
            | WhatsAppError::TemplateRequired(_)
            | WhatsAppError::Rejected(_)
            | WhatsAppError::Malformed(_) => ConnectorError::Permanent { reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(code: i64, status: u16, details: &str) -> GraphError {
        GraphError {
            status: Some(status),
            code: Some(code),
            details: Some(details.to_owned()),
            ..GraphError::default()
        }
    }

    #[test]
    fn numbers_normalise_to_digits() {
        assert_eq!(
            normalize_number("+971 50 123-4567").as_deref(),
            Some("971501234567")
        );
        assert_eq!(
            normalize_number("00971501234567").as_deref(),
            Some("971501234567")
        );
        assert_eq!(
            normalize_number("(555) 010.9999").as_deref(),
            Some("5550109999")
        );
        assert_eq!(normalize_number("12345"), None);
        assert_eq!(normalize_number("+1 555 CALL NOW"), None);
        assert_eq!(normalize_number("1234567890123456"), None);
    }

    #[test]
    fn codes_decide_the_class() {
        let c = |code, status| WhatsAppError::classify(graph(code, status, "d"), None);
        assert!(matches!(c(131047, 400), WhatsAppError::TemplateRequired(_)));
        assert!(matches!(c(131026, 400), WhatsAppError::InvalidRecipient(_)));
        assert!(matches!(c(190, 401), WhatsAppError::AuthExpired(_)));
        assert!(matches!(c(132001, 404), WhatsAppError::TemplateProblem(_)));
        assert!(matches!(c(131000, 500), WhatsAppError::Unavailable(_)));
        assert!(matches!(c(99999, 502), WhatsAppError::Unavailable(_)));
        assert!(matches!(c(131051, 400), WhatsAppError::Rejected(_)));
        match c(131056, 400) {
            WhatsAppError::RetryLater { after, limit, .. } => {
                assert_eq!(limit, RateLimit::PairRate);
                assert_eq!(after, Duration::from_secs(6));
            }
            other => panic!("{other:?}"),
        }
        // A wait named by the answer wins over the default.
        let e = WhatsAppError::classify(graph(130429, 400, "d"), Some(Duration::from_secs(9)));
        assert_eq!(
            e.to_string(),
            "WhatsApp is limiting how fast this business number sends: retry in 9 s."
        );
    }

    #[test]
    fn invalid_parameter_is_a_bad_number_only_when_it_names_the_recipient() {
        let bad_to = graph(
            100,
            400,
            "Invalid parameter: recipient phone number is invalid",
        );
        assert!(matches!(
            WhatsAppError::classify(bad_to, None),
            WhatsAppError::InvalidRecipient(_)
        ));
        let other = graph(100, 400, "Unexpected key \"foo\" on param \"text\"");
        assert!(matches!(
            WhatsAppError::classify(other, None),
            WhatsAppError::Rejected(_)
        ));
    }

    #[test]
    fn payload_has_the_documented_shape() {
        let t = OutgoingMessage::template("+1 555", "showcase", "en_US", vec!["Dana".into()]);
        assert_eq!(
            t.payload("1555"),
            json!({
                "messaging_product": "whatsapp", "recipient_type": "individual", "to": "1555",
                "type": "template",
                "template": {
                    "name": "showcase", "language": {"code": "en_US"},
                    "components": [{"type": "body", "parameters": [{"type": "text", "text": "Dana"}]}]
                }
            })
        );
        let d = OutgoingMessage::document("1", "https://x/b.pdf", Some("b.pdf".into()), None);
        let p = d.payload("1");
        assert_eq!(p["type"], "document");
        assert_eq!(
            p["document"],
            json!({"link": "https://x/b.pdf", "filename": "b.pdf"})
        );
    }

    #[test]
    fn classes_for_the_outbox() {
        let e: ConnectorError = WhatsAppError::classify(graph(131056, 400, "pair"), None).into();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(6)));
        let e: ConnectorError = WhatsAppError::classify(graph(190, 401, "x"), None).into();
        assert!(matches!(e, ConnectorError::NeedsAdmin { .. }));
        let e: ConnectorError = WhatsAppError::classify(graph(131047, 400, "x"), None).into();
        assert!(matches!(e, ConnectorError::Permanent { .. }));
        assert!(e.to_string().starts_with("Send a template"));
    }
}
