//! Clients of the external services an action reaches, with no storage and no server types.
//!
//! - [`whatsapp`]: the WhatsApp Business Cloud API (sending, the 24-hour window, pacing,
//!   webhook handshake, signatures and events).
//! - [`hubspot`]: HubSpot CRM contacts and deals through idempotent batch upserts.
//! - [`signed`]: a generic CRM reached by a signed webhook, and the check its receiver runs.
//! - [`email`]: showcase emails (a plain-text and an HTML part in the company's colours, replies
//!   to the agent) sent over the company's SMTP server.
//!
//! Email goes through the company's own mail server with TLS (implicit or STARTTLS; plain SMTP
//! only to a relay on the same machine). Each step of the SMTP conversation has a deadline
//! and its own reading of a refusal: a refused client address is the agent's to correct, a
//! refused sign-in, sender or TLS setup is an admin's, a 4xx reply or an unreachable server
//! is retried. SMTP has no idempotency key, so every email carries the caller's Message-ID
//! and a retry repeats it, letting the receiving side recognise a duplicate.
//!
//! Every client error converts into a [`ConnectorError`], the one classification the outbox
//! acts on: retry (maybe after a wait), give up, or ask an admin. Its `Display` is a sentence
//! an agent can act on and never holds a token or secret.

use std::time::Duration;

pub mod email;
mod error;
pub mod hubspot;
mod sign;
pub mod signed;
pub mod whatsapp;

pub use email::{
    Branding, Contact, Email, EmailError, ListingCard, Mailer, SentEmail, Showcase, SmtpSecurity,
    SmtpSettings,
};
pub use error::ConnectorError;
pub use hubspot::{CrmError, HubSpot, Lead, UpsertedContact};
pub use roost_api::Millis;
pub use signed::SignedWebhook;
pub use whatsapp::{OutgoingMessage, SentMessage, WhatsApp, WhatsAppError};

/// A base URL or endpoint given to a client that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    // The address itself stays out: webhook URLs often carry a secret in their path.
    #[error("the {service} address is not an http(s) URL")]
    BadUrl { service: &'static str },
    #[error("the {service} {what} is missing")]
    Missing {
        service: &'static str,
        what: &'static str,
    },
    #[error("the {service} {what} {why}")]
    Invalid {
        service: &'static str,
        what: &'static str,
        why: &'static str,
    },
}

/// An HTTP client fit for the connectors: rustls, bounded connect and total time, and no
/// redirects (a redirected POST would be ambiguous about whether the effect happened).
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("roost-connectors/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Parses a service base URL, keeping only http(s).
pub(crate) fn parse_base(service: &'static str, url: &str) -> Result<url::Url, ConfigError> {
    let bad = || ConfigError::BadUrl { service };
    let parsed = url::Url::parse(url).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(bad());
    }
    Ok(parsed)
}

/// `base` with `segments` appended as path segments (each percent-encoded).
pub(crate) fn join(base: &url::Url, segments: &[&str]) -> url::Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}
