//! The classification every connector error ends in, and what the clients share to get there:
//! bounded reading of error bodies, `Retry-After`, and messages made fit for an agent.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// What the outbox does with a failed action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// Try again, after `after` when the service named a wait.
    #[error("{reason}")]
    Retryable {
        after: Option<Duration>,
        reason: String,
    },
    /// Sending the same thing again cannot succeed; the agent must change something.
    #[error("{reason}")]
    Permanent { reason: String },
    /// Nothing the agent can do: the connector's credentials or setup need an admin.
    #[error("{reason}")]
    NeedsAdmin { reason: String },
}

impl ConnectorError {
    pub fn retryable(&self) -> bool {
        matches!(self, ConnectorError::Retryable { .. })
    }

    /// The wait the service asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ConnectorError::Retryable { after, .. } => *after,
            _ => None,
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            ConnectorError::Retryable { reason, .. }
            | ConnectorError::Permanent { reason }
            | ConnectorError::NeedsAdmin { reason } => reason,
        }
    }
}

/// Error bodies are read up to this size; the useful part is always at the start.
const BODY_LIMIT: usize = 64 * 1024;
/// Service messages are cut to this many characters in errors.
const MESSAGE_LIMIT: usize = 300;

/// Status, headers and (bounded) text of a response.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

/// Reads a response whole but at most [`BODY_LIMIT`] bytes; a body that breaks midway
/// yields what arrived.
pub(crate) async fn read(mut resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        buf.extend_from_slice(&chunk);
        if buf.len() >= BODY_LIMIT {
            buf.truncate(BODY_LIMIT);
            break;
        }
    }
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&buf).into_owned(),
    }
}

/// Seconds of a `Retry-After` header. HTTP dates are rare from these services and not
/// worth a parser: they read as no wait named.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// `12 s` for a wait, rounded up so "retry in 0 s" never shows.
pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    format!("{} s", s.max(1))
}

/// A service message fit for a sentence: one line, bounded, no trailing period, and with
/// every secret replaced (a service may echo the token it refused).
pub(crate) fn tidy(message: &str, secrets: &[&str]) -> String {
    let mut text = message.split_whitespace().collect::<Vec<_>>().join(" ");
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret, "[redacted]");
    }
    let text = text.trim_end_matches('.');
    if text.chars().count() > MESSAGE_LIMIT {
        let cut: String = text.chars().take(MESSAGE_LIMIT).collect();
        format!("{cut}…")
    } else {
        text.to_owned()
    }
}

/// Why a request got no answer, in words: connect refused, timed out, connection reset.
pub(crate) fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "the request timed out".to_owned();
    }
    // The innermost cause names what went wrong ("Connection refused"); reqwest's own text
    // would also print the URL, which for a webhook may hold a secret.
    let mut cause = None;
    let mut next = std::error::Error::source(e);
    while let Some(err) = next {
        cause = Some(err.to_string());
        next = err.source();
    }
    let cause = cause.unwrap_or_else(|| "no further detail".to_owned());
    if e.is_connect() {
        format!("could not connect: {cause}")
    } else {
        format!("the connection failed: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_redacts_secrets_and_bounds_length() {
        let t = tidy(
            "Invalid token EAAB-secret-123.\n  Try again.",
            &["EAAB-secret-123"],
        );
        assert_eq!(t, "Invalid token [redacted]. Try again");
        let long = "x".repeat(1000);
        assert_eq!(tidy(&long, &[]).chars().count(), MESSAGE_LIMIT + 1);
    }

    #[test]
    fn seconds_round_up() {
        assert_eq!(seconds(Duration::from_millis(1)), "1 s");
        assert_eq!(seconds(Duration::from_millis(6001)), "7 s");
        assert_eq!(seconds(Duration::from_secs(10)), "10 s");
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
