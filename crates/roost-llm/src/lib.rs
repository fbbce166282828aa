//! Streaming LLM clients (Gemini, OpenAI-compatible).
//!
//! A provider turns an [`LlmRequest`] into a stream of [`LlmEvent`]s: text as it arrives, then
//! one `Done` with usage. Failures are [`LlmError`]s whose `Display` is a sentence an admin can
//! act on and never contains the API key. Retries happen only inside
//! [`LlmProvider::stream`], before any event reaches the caller.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use roost_api::chat::{ChatErrorCode, LlmConfig};

mod gemini;
mod openai;
mod transport;

pub use gemini::Gemini;
pub use openai::OpenAiCompatible;

/// What the model is asked: a system prompt and the conversation so far, ending with the
/// user's question.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LlmRequest {
    pub system: String,
    pub messages: Vec<LlmMessage>,
    pub temperature: Option<f32>,
    pub max_output_tokens: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmMessage {
    pub role: LlmRole,
    pub text: String,
}

impl LlmMessage {
    pub fn user(text: impl Into<String>) -> Self {
        LlmMessage {
            role: LlmRole::User,
            text: text.into(),
        }
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        LlmMessage {
            role: LlmRole::Assistant,
            text: text.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LlmRole {
    User,
    Assistant,
}

/// One item of an answer stream. `Done` is always the last item of a successful stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlmEvent {
    Text(String),
    Done {
        input_tokens: Option<u32>,
        output_tokens: Option<u32>,
        finish: FinishReason,
    },
}

/// Why a successful answer ended. Hitting the token limit is a normal end, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinishReason {
    Stop,
    Length,
}

/// Why an answer failed. Messages come from the provider with the API key removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// `what` is "connect", "first byte" or "between chunks".
    #[error("{}", timeout_sentence(what))]
    Timeout { what: &'static str },
    #[error("The LLM provider is rate limiting requests ({message}); {}.", retry_hint(*retry_after))]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// 5xx, or the provider could not be reached (refused, reset, DNS).
    #[error("The LLM provider is unavailable{}: {message}; try again later, or check the base URL if it persists.", status_hint(*status))]
    Unavailable {
        status: Option<u16>,
        message: String,
    },
    /// 401/403 or a key the provider calls invalid.
    #[error(
        "The LLM provider refused the credentials ({message}); check the API key in the LLM integration settings."
    )]
    Auth { message: String },
    /// Any other 4xx: usually a wrong model name or base URL.
    #[error(
        "The LLM provider rejected the request with HTTP {status} ({message}); check the model name and base URL in the LLM integration settings."
    )]
    Rejected { status: u16, message: String },
    /// Safety filters stopped the question or the answer; `reason` says which and why.
    #[error(
        "The LLM provider blocked this exchange ({reason}); rephrase the question or review the provider's safety settings."
    )]
    Blocked { reason: String },
    #[error(
        "The LLM provider's answer could not be read ({detail}); check that the base URL points at a compatible API."
    )]
    Malformed { detail: String },
}

fn timeout_sentence(what: &str) -> &'static str {
    match what {
        "connect" => {
            "Could not connect to the LLM provider in time; check the base URL and the network."
        }
        "first byte" => "The LLM provider did not start answering in time; try again later.",
        _ => "The LLM provider stopped sending its answer partway through; try again.",
    }
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!("try again in {} s", d.as_secs_f64().ceil() as u64),
        None => "try again later or raise the provider plan's quota".to_owned(),
    }
}

fn status_hint(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

impl LlmError {
    /// The code the chat stream reports.
    ///
    /// `Rejected` maps to `ProviderUnavailable`: the tenant's configured provider cannot
    /// answer until an admin fixes the model name or URL, which is what that code tells the
    /// app; `Internal` would blame Roost for a setting the tenant controls.
    pub fn code(&self) -> ChatErrorCode {
        match self {
            LlmError::Timeout { .. } => ChatErrorCode::Timeout,
            LlmError::RateLimited { .. } => ChatErrorCode::RateLimited,
            LlmError::Unavailable { .. } | LlmError::Rejected { .. } => {
                ChatErrorCode::ProviderUnavailable
            }
            LlmError::Auth { .. } => ChatErrorCode::ProviderAuth,
            LlmError::Blocked { .. } => ChatErrorCode::Blocked,
            LlmError::Malformed { .. } => ChatErrorCode::MalformedStream,
        }
    }

    /// How long the provider asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Worth another attempt before anything was streamed: the provider may recover at once.
    /// Timeouts are not retried: they would multiply the wait the user already had.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            LlmError::Unavailable { .. } => true,
            LlmError::RateLimited { retry_after, .. } => {
                retry_after.is_some_and(|d| d <= transport::MAX_RETRY_AFTER)
            }
            _ => false,
        }
    }

    /// Removes `secret` from every message: providers sometimes echo the key they refused.
    pub(crate) fn redact(self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        let clean = |s: String| {
            if s.contains(secret) {
                s.replace(secret, "[redacted]")
            } else {
                s
            }
        };
        match self {
            LlmError::Timeout { what } => LlmError::Timeout { what },
            LlmError::RateLimited {
                retry_after,
                message,
            } => LlmError::RateLimited {
                retry_after,
                message: clean(message),
            },
            LlmError::Unavailable { status, message } => LlmError::Unavailable {
                status,
                message: clean(message),
            },
            LlmError::Auth { message } => LlmError::Auth {
                message: clean(message),
            },
            LlmError::Rejected { status, message } => LlmError::Rejected {
                status,
                message: clean(message),
            },
            LlmError::Blocked { reason } => LlmError::Blocked {
                reason: clean(reason),
            },
            LlmError::Malformed { detail } => LlmError::Malformed {
                detail: clean(detail),
            },
        }
    }
}

/// Answer events as they arrive. Ends after `Done` or after the first error.
pub type LlmStream = Pin<Box<dyn Stream<Item = Result<LlmEvent, LlmError>> + Send>>;

/// A configured model at a provider. Object safe: the server keeps `Arc<dyn LlmProvider>`.
#[async_trait::async_trait]
pub trait LlmProvider: Send + Sync {
    /// `"gemini"` or `"openai_compatible"`, as in `Usage::provider`.
    fn provider(&self) -> &'static str;
    fn model(&self) -> &str;
    /// Sends the request (retrying transient failures) and returns the answer stream once
    /// the provider has accepted it.
    async fn stream(&self, req: LlmRequest) -> Result<LlmStream, LlmError>;
}

/// Time limits of one request.
///
/// `connect` is applied by the HTTP client (see [`http_client`]); the wait for the response
/// headers is bounded by `connect + first_byte` in any case, so a client built without a
/// connect timeout reports a hung connect as a "first byte" timeout. `first_byte` also
/// bounds the wait for the first body bytes after the headers; `idle` the gap between later
/// chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_secs(30),
            idle: Duration::from_secs(30),
        }
    }
}

/// A setting that makes a provider unusable; found before any request is sent.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "The {provider} integration has no API key; add one in the LLM integration's credentials."
    )]
    MissingKey { provider: &'static str },
    #[error(
        "The {provider} API key contains characters that cannot be sent; paste it again without spaces or line breaks."
    )]
    InvalidKey { provider: &'static str },
    #[error("The LLM base URL `{url}` is not usable: {reason}.")]
    InvalidBaseUrl { url: String, reason: String },
    #[error("The LLM model name `{model}` is not usable: {reason}.")]
    InvalidModel { model: String, reason: String },
    #[error("Could not set up the HTTP client for the LLM provider: {0}.")]
    HttpClient(#[source] reqwest::Error),
}

/// An HTTP client suited to the providers: `timeouts.connect` as its connect timeout,
/// rustls for HTTPS. Share one across providers.
pub fn http_client(timeouts: &Timeouts) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(timeouts.connect)
        .build()
        .map_err(ConfigError::HttpClient)
}

/// The provider a tenant's config asks for; `None` for the built-in grounded answerer.
/// Gemini needs `api_key`; an OpenAI-compatible endpoint may go without (Ollama).
pub fn provider_from_config(
    cfg: &LlmConfig,
    api_key: Option<String>,
    http: reqwest::Client,
    timeouts: Timeouts,
) -> Result<Option<Arc<dyn LlmProvider>>, ConfigError> {
    match cfg {
        LlmConfig::Grounded => Ok(None),
        LlmConfig::Gemini { model, base_url } => {
            let key = api_key.ok_or(ConfigError::MissingKey { provider: "Gemini" })?;
            let p = Gemini::new(http, base_url.as_deref(), model, key, timeouts)?;
            Ok(Some(Arc::new(p)))
        }
        LlmConfig::OpenaiCompatible { model, base_url } => {
            let p = OpenAiCompatible::new(http, base_url, model, api_key, timeouts)?;
            Ok(Some(Arc::new(p)))
        }
    }
}

/// Parses and checks a provider base URL; the result has no trailing slash.
pub(crate) fn check_base_url(raw: &str) -> Result<String, ConfigError> {
    let bad = |reason: &str| ConfigError::InvalidBaseUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = raw.trim();
    let url = url::Url::parse(trimmed).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("it must start with http:// or https://"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials belong in the API key, not the URL"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The key as a header value, marked sensitive so HTTP logging never prints it.
pub(crate) fn key_header(
    provider: &'static str,
    value: &str,
) -> Result<reqwest::header::HeaderValue, ConfigError> {
    let mut v = reqwest::header::HeaderValue::from_str(value)
        .map_err(|_| ConfigError::InvalidKey { provider })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Stands in for a key in `Debug` output.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_documented_map() {
        let cases = [
            (
                LlmError::Timeout { what: "connect" },
                ChatErrorCode::Timeout,
            ),
            (
                LlmError::RateLimited {
                    retry_after: None,
                    message: "m".into(),
                },
                ChatErrorCode::RateLimited,
            ),
            (
                LlmError::Unavailable {
                    status: Some(503),
                    message: "m".into(),
                },
                ChatErrorCode::ProviderUnavailable,
            ),
            (
                LlmError::Auth {
                    message: "m".into(),
                },
                ChatErrorCode::ProviderAuth,
            ),
            (
                LlmError::Rejected {
                    status: 404,
                    message: "m".into(),
                },
                ChatErrorCode::ProviderUnavailable,
            ),
            (
                LlmError::Blocked { reason: "r".into() },
                ChatErrorCode::Blocked,
            ),
            (
                LlmError::Malformed { detail: "d".into() },
                ChatErrorCode::MalformedStream,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(err.code(), code, "{err:?}");
        }
    }

    #[test]
    fn retry_after_only_for_rate_limits() {
        let d = Duration::from_secs(7);
        let rl = LlmError::RateLimited {
            retry_after: Some(d),
            message: "slow down".into(),
        };
        assert_eq!(rl.retry_after(), Some(d));
        assert!(rl.to_string().contains("try again in 7 s"), "{rl}");
        assert!(!rl.retryable(), "7 s is too long to wait inside a request");
        let short = LlmError::RateLimited {
            retry_after: Some(Duration::from_millis(1500)),
            message: "m".into(),
        };
        assert!(short.retryable());
        let none = LlmError::RateLimited {
            retry_after: None,
            message: "quota".into(),
        };
        assert!(!none.retryable());
        assert_eq!(LlmError::Timeout { what: "connect" }.retry_after(), None);
    }

    #[test]
    fn sentences_read_well() {
        let errs = [
            LlmError::Unavailable {
                status: Some(503),
                message: "The model is overloaded".into(),
            },
            LlmError::Unavailable {
                status: None,
                message: "could not connect to 127.0.0.1:9: Connection refused".into(),
            },
            LlmError::RateLimited {
                retry_after: None,
                message: "quota".into(),
            },
            LlmError::Rejected {
                status: 404,
                message: "model not found".into(),
            },
        ];
        let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "The LLM provider is unavailable (HTTP 503): The model is overloaded; try again later, or check the base URL if it persists.",
                "The LLM provider is unavailable: could not connect to 127.0.0.1:9: Connection refused; try again later, or check the base URL if it persists.",
                "The LLM provider is rate limiting requests (quota); try again later or raise the provider plan's quota.",
                "The LLM provider rejected the request with HTTP 404 (model not found); check the model name and base URL in the LLM integration settings.",
            ]
        );
    }

    #[test]
    fn timeouts_say_which_phase() {
        let c = LlmError::Timeout { what: "connect" }.to_string();
        let f = LlmError::Timeout { what: "first byte" }.to_string();
        let b = LlmError::Timeout {
            what: "between chunks",
        }
        .to_string();
        assert!(c.contains("connect"), "{c}");
        assert!(f.contains("start answering"), "{f}");
        assert!(b.contains("partway"), "{b}");
    }

    #[test]
    fn redact_removes_the_key_everywhere() {
        let key = "sk-secret-123456";
        let e = LlmError::Auth {
            message: format!("Incorrect API key provided: {key}."),
        }
        .redact(key);
        assert!(!e.to_string().contains(key));
        assert!(!format!("{e:?}").contains(key));
        assert!(e.to_string().contains("[redacted]"));
    }

    #[test]
    fn config_grounded_is_none_and_gemini_needs_a_key() {
        let http = reqwest::Client::new();
        let t = Timeouts::default();
        let none = provider_from_config(&LlmConfig::Grounded, None, http.clone(), t).unwrap();
        assert!(none.is_none());

        let gemini = LlmConfig::Gemini {
            model: "gemini-2.5-flash".into(),
            base_url: None,
        };
        let err = provider_from_config(&gemini, None, http.clone(), t)
            .err()
            .expect("a key is required");
        let text = err.to_string();
        assert!(
            text.contains("Gemini") && text.contains("API key"),
            "{text}"
        );
        let err = provider_from_config(&gemini, Some("   ".into()), http.clone(), t)
            .err()
            .expect("a blank key is no key");
        assert!(matches!(err, ConfigError::MissingKey { .. }), "{err:?}");

        let p = provider_from_config(&gemini, Some("k-123".into()), http.clone(), t)
            .unwrap()
            .unwrap();
        assert_eq!(p.provider(), "gemini");
        assert_eq!(p.model(), "gemini-2.5-flash");

        let ollama = LlmConfig::OpenaiCompatible {
            model: "llama3.2".into(),
            base_url: "http://localhost:11434/v1/".into(),
        };
        let p = provider_from_config(&ollama, None, http, t)
            .unwrap()
            .unwrap();
        assert_eq!(p.provider(), "openai_compatible");
        assert_eq!(p.model(), "llama3.2");
    }

    #[test]
    fn config_rejects_unusable_settings() {
        let http = reqwest::Client::new();
        let t = Timeouts::default();
        let bad_url = LlmConfig::OpenaiCompatible {
            model: "m".into(),
            base_url: "localhost:11434".into(),
        };
        let err = provider_from_config(&bad_url, None, http.clone(), t)
            .err()
            .unwrap();
        assert!(matches!(err, ConfigError::InvalidBaseUrl { .. }), "{err:?}");

        let bad_model = LlmConfig::Gemini {
            model: "gemini flash/../x".into(),
            base_url: None,
        };
        let err = provider_from_config(&bad_model, Some("k".into()), http.clone(), t)
            .err()
            .unwrap();
        assert!(matches!(err, ConfigError::InvalidModel { .. }), "{err:?}");

        let key = "abc\ndef-secret";
        let gemini = LlmConfig::Gemini {
            model: "gemini-2.5-flash".into(),
            base_url: None,
        };
        let err = provider_from_config(&gemini, Some(key.into()), http, t)
            .err()
            .unwrap();
        assert!(matches!(err, ConfigError::InvalidKey { .. }), "{err:?}");
        assert!(!err.to_string().contains("secret"));
        assert!(!format!("{err:?}").contains("secret"));
    }

    #[test]
    fn base_urls_are_normalised() {
        assert_eq!(
            check_base_url(" https://api.openai.com/v1/ ").unwrap(),
            "https://api.openai.com/v1"
        );
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("https://user:pw@host/v1").is_err());
    }
}
