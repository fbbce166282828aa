//! What both providers share: sending with timeouts and retries, reading error bodies, and
//! turning an SSE body into an [`LlmStream`] through a provider's [`Decoder`].

use std::collections::VecDeque;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt, stream};
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};

use crate::{LlmError, LlmEvent, LlmStream, Timeouts};

/// A 429 asking for a longer wait goes to the caller instead of being retried.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(2);
/// Retries after the first attempt.
const MAX_RETRIES: usize = 2;
/// Enough of an error body to find the provider's message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Provider messages are cut to this many characters in errors.
const MESSAGE_LIMIT: usize = 300;

/// Maps a non-2xx response (status, headers, body text) to an error.
pub(crate) type Classify = fn(u16, &HeaderMap, &str) -> LlmError;

/// Sends the request built by `build` until it is accepted, retrying connect failures, 5xx
/// and short 429s at most [`MAX_RETRIES`] times with jittered exponential backoff.
pub(crate) async fn send<B>(
    build: B,
    timeouts: Timeouts,
    classify: Classify,
) -> Result<reqwest::Response, LlmError>
where
    B: Fn() -> reqwest::RequestBuilder + Send + Sync,
{
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(2))
        .with_factor(2.0)
        .with_max_times(MAX_RETRIES)
        .with_jitter();
    (|| attempt(&build, timeouts, classify))
        .retry(backoff)
        .when(LlmError::retryable)
        // A provider that names a wait gets at least that.
        .adjust(|err, delay| delay.map(|d| err.retry_after().map_or(d, |ra| d.max(ra))))
        .await
}

async fn attempt<B>(
    build: &B,
    timeouts: Timeouts,
    classify: Classify,
) -> Result<reqwest::Response, LlmError>
where
    B: Fn() -> reqwest::RequestBuilder,
{
    let headers_deadline = timeouts.connect + timeouts.first_byte;
    let resp = match tokio::time::timeout(headers_deadline, build().send()).await {
        Err(_) => return Err(LlmError::Timeout { what: "first byte" }),
        Ok(Err(e)) => return Err(request_error(&e)),
        Ok(Ok(resp)) => resp,
    };
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        return ensure_event_stream(resp, timeouts).await;
    }
    let headers = resp.headers().clone();
    let body = read_limited(resp, timeouts.first_byte).await;
    Err(classify(status, &headers, &body))
}

/// An error before any response: connect or send failures.
fn request_error(e: &reqwest::Error) -> LlmError {
    if e.is_timeout() {
        let what = if e.is_connect() {
            "connect"
        } else {
            "first byte"
        };
        return LlmError::Timeout { what };
    }
    let target = e
        .url()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .unwrap_or_else(|| "the provider".to_owned());
    let message = if e.is_connect() {
        format!("could not connect to {target}: {}", root_cause(e))
    } else {
        format!("the request to {target} failed: {}", root_cause(e))
    };
    LlmError::Unavailable {
        status: None,
        message,
    }
}

/// The innermost cause, which names what actually went wrong ("Connection refused").
fn root_cause(e: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// Reads at most [`ERROR_BODY_LIMIT`] bytes of an error body; a slow or broken body yields
/// what arrived.
async fn read_limited(resp: reqwest::Response, limit: Duration) -> String {
    let mut buf = Vec::new();
    let mut body = resp.bytes_stream();
    let read = async {
        while let Some(Ok(chunk)) = body.next().await {
            buf.extend_from_slice(&chunk);
            if buf.len() >= ERROR_BODY_LIMIT {
                buf.truncate(ERROR_BODY_LIMIT);
                break;
            }
        }
    };
    let _ = tokio::time::timeout(limit, read).await;
    String::from_utf8_lossy(&buf).into_owned()
}

/// Seconds from a `retry-after` header (or milliseconds from `retry-after-ms`, which
/// OpenAI sends); HTTP dates are not worth a parser here.
pub(crate) fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
    let value = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = value("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    value(RETRY_AFTER.as_str())
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// A provider message fit for an error sentence: one line, no trailing period, bounded.
pub(crate) fn tidy(message: &str, fallback: impl FnOnce() -> String) -> String {
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = one_line.trim_end_matches('.');
    if trimmed.is_empty() {
        return fallback();
    }
    if trimmed.chars().count() > MESSAGE_LIMIT {
        let cut: String = trimmed.chars().take(MESSAGE_LIMIT).collect();
        format!("{cut}…")
    } else {
        trimmed.to_owned()
    }
}

/// The body text itself when it is not the provider's JSON error shape.
pub(crate) fn body_snippet(status: u16, body: &str) -> String {
    tidy(body, || format!("HTTP {status} with no message"))
}

/// The default reading of a status when the body said nothing more specific.
pub(crate) fn by_status(status: u16, headers: &HeaderMap, message: String) -> LlmError {
    match status {
        429 => LlmError::RateLimited {
            retry_after: retry_after_header(headers),
            message,
        },
        401 | 403 => LlmError::Auth { message },
        408 | 500..=599 => LlmError::Unavailable {
            status: Some(status),
            message,
        },
        _ => LlmError::Rejected { status, message },
    }
}

/// Reads one provider's stream: fed the `data` of each SSE event in order.
pub(crate) trait Decoder: Send + 'static {
    /// Events for one payload. An `Err` or a `Done` ends the stream; nothing after it is read.
    fn data(&mut self, data: &str) -> Vec<Result<LlmEvent, LlmError>>;
    /// The `Done` to report when the body ends (or breaks) after the answer was complete
    /// but before the provider's final marker; `None` while the answer is incomplete.
    fn settled(&self) -> Option<LlmEvent>;
    /// Detail for a body that ended before the answer was complete.
    fn truncated(&self) -> String;
}

/// The body failed under the SSE parser: our timeouts or the connection.
#[derive(Debug)]
enum BodyError {
    Timeout(&'static str),
    Http(reqwest::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Timeout(what) => write!(f, "timeout ({what})"),
            BodyError::Http(e) => e.fmt(f),
        }
    }
}

/// The response body as byte chunks, failing when the first chunk takes longer than
/// `first_byte` or a later one longer than `idle`.
fn timed_body(
    resp: reqwest::Response,
    timeouts: Timeouts,
) -> impl Stream<Item = Result<impl AsRef<[u8]> + Send, BodyError>> + Send {
    struct State<S> {
        body: S,
        started: bool,
        over: bool,
    }
    let state = State {
        body: Box::pin(resp.bytes_stream()),
        started: false,
        over: false,
    };
    stream::unfold(state, move |mut st| async move {
        if st.over {
            return None;
        }
        let (limit, what) = if st.started {
            (timeouts.idle, "between chunks")
        } else {
            (timeouts.first_byte, "first byte")
        };
        let item = match tokio::time::timeout(limit, st.body.next()).await {
            Err(_) => Err(BodyError::Timeout(what)),
            Ok(None) => return None,
            Ok(Some(Ok(chunk))) => {
                st.started |= !chunk.is_empty();
                return Some((Ok(chunk), st));
            }
            Ok(Some(Err(e))) => Err(BodyError::Http(e)),
        };
        st.over = true;
        Some((item, st))
    })
}

/// Turns an accepted response into the caller's stream. Errors lose `secret` on the way.
pub(crate) fn events<D: Decoder>(
    resp: reqwest::Response,
    timeouts: Timeouts,
    decoder: D,
    secret: Option<String>,
) -> LlmStream {
    struct State<S, D> {
        sse: S,
        decoder: D,
        queue: VecDeque<Result<LlmEvent, LlmError>>,
        over: bool,
    }
    let state = State {
        sse: Box::pin(timed_body(resp, timeouts).eventsource()),
        decoder,
        queue: VecDeque::new(),
        over: false,
    };
    let items = stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.queue.pop_front() {
                return Some((item, st));
            }
            if st.over {
                return None;
            }
            match st.sse.next().await {
                Some(Ok(event)) => {
                    for item in st.decoder.data(&event.data) {
                        let last = matches!(item, Err(_) | Ok(LlmEvent::Done { .. }));
                        st.queue.push_back(item);
                        if last {
                            st.over = true;
                            break;
                        }
                    }
                }
                Some(Err(e)) => {
                    st.over = true;
                    let item = match st.decoder.settled() {
                        Some(done) => Ok(done),
                        None => Err(sse_error(e)),
                    };
                    st.queue.push_back(item);
                }
                None => {
                    st.over = true;
                    let item = st.decoder.settled().ok_or_else(|| LlmError::Malformed {
                        detail: st.decoder.truncated(),
                    });
                    st.queue.push_back(item);
                }
            }
        }
    });
    match secret {
        Some(secret) => Box::pin(items.map(move |item| item.map_err(|e| e.redact(&secret)))),
        None => Box::pin(items),
    }
}

fn sse_error(e: EventStreamError<BodyError>) -> LlmError {
    match e {
        EventStreamError::Transport(BodyError::Timeout(what)) => LlmError::Timeout { what },
        EventStreamError::Transport(BodyError::Http(e)) => LlmError::Malformed {
            detail: format!("the stream broke off: {}", root_cause(&e)),
        },
        EventStreamError::Utf8(_) => LlmError::Malformed {
            detail: "the stream is not UTF-8 text".to_owned(),
        },
        EventStreamError::Parser(_) => LlmError::Malformed {
            detail: "the stream is not Server-Sent Events".to_owned(),
        },
    }
}

/// An accepted response that is not an event stream: the server ignored `stream: true` or
/// a proxy answered in its place.
async fn ensure_event_stream(
    resp: reqwest::Response,
    timeouts: Timeouts,
) -> Result<reqwest::Response, LlmError> {
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("application/json") {
        return Ok(resp);
    }
    let body = read_limited(resp, timeouts.first_byte).await;
    Err(LlmError::Malformed {
        detail: format!(
            "expected an event stream but got JSON: {}",
            tidy(&body, || "an empty body".to_owned())
        ),
    })
}
