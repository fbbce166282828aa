//! A stand-in provider: an axum server on 127.0.0.1 that records each request and answers
//! from a script, streaming bodies in small pieces.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, Uri};
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use roost_llm::{LlmError, LlmEvent, LlmStream, Timeouts};

/// Short limits so timeout tests stay quick.
pub fn fast() -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(300),
        first_byte: Duration::from_millis(300),
        idle: Duration::from_millis(300),
    }
}

pub fn client() -> reqwest::Client {
    roost_llm::http_client(&fast()).unwrap()
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

/// How a streamed body ends after its pieces.
pub enum End {
    /// Cleanly, as a finished HTTP body.
    Close,
    /// Never: the connection stays open and silent.
    Stall,
    /// The connection is dropped mid-body.
    Abort,
}

pub enum Reply {
    Stream {
        pieces: Vec<Vec<u8>>,
        first_delay: Duration,
        end: End,
    },
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Waits before sending anything, headers included.
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    /// An event stream sent in awkward pieces, ending cleanly.
    pub fn sse(text: &str) -> Reply {
        Reply::Stream {
            pieces: awkward(text),
            first_delay: Duration::ZERO,
            end: End::Close,
        }
    }

    pub fn sse_then(text: &str, end: End) -> Reply {
        Reply::Stream {
            pieces: awkward(text),
            first_delay: Duration::ZERO,
            end,
        }
    }

    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Status {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        if let Reply::Status { headers, .. } = &mut self {
            headers.push((name, value.to_owned()));
        }
        self
    }
}

type Script = Arc<dyn Fn(usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    script: Script,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

pub struct StandIn {
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl StandIn {
    /// `script(n)` answers the n-th request (from 0).
    pub async fn start(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            script: Arc::new(script),
            requests: requests.clone(),
        };
        let app = Router::new().fallback(handle).with_state(shared);
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        StandIn {
            base: format!("http://{addr}"),
            requests,
        }
    }

    pub fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn request(&self, n: usize) -> Recorded {
        self.requests.lock().unwrap()[n].clone()
    }
}

async fn handle(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let n = {
        let mut reqs = s.requests.lock().unwrap();
        reqs.push(Recorded {
            method,
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers,
            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        });
        reqs.len() - 1
    };
    let mut reply = (s.script)(n);
    while let Reply::Delayed(wait, inner) = reply {
        tokio::time::sleep(wait).await;
        reply = *inner;
    }
    match reply {
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut b = Response::builder().status(status);
            for (name, value) in headers {
                b = b.header(name, value);
            }
            b.body(Body::from(body)).unwrap()
        }
        Reply::Stream {
            pieces,
            first_delay,
            end,
        } => {
            // Each piece is its own body frame, a little apart, so the client reads them
            // separately.
            let body = stream::unfold(
                (pieces.into_iter(), true),
                move |(mut it, first)| async move {
                    let wait = if first {
                        first_delay
                    } else {
                        Duration::from_millis(2)
                    };
                    tokio::time::sleep(wait).await;
                    let piece = it.next()?;
                    Some((Ok::<_, std::io::Error>(Bytes::from(piece)), (it, false)))
                },
            );
            let tail: BoxStream<'static, Result<Bytes, std::io::Error>> = match end {
                End::Close => stream::empty().boxed(),
                End::Stall => stream::pending().boxed(),
                End::Abort => stream::once(async { Err(std::io::Error::other("cut")) }).boxed(),
            };
            Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(body.chain(tail)))
                .unwrap()
        }
        Reply::Delayed(..) => unreachable!(),
    }
}

/// Splits `text` inside multibyte characters, between CR and LF, and every few bytes
/// (so inside JSON and inside `data:` field names).
pub fn awkward(text: &str) -> Vec<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut cuts = BTreeSet::new();
    for (i, c) in text.char_indices() {
        if c.len_utf8() > 1 || c == '\r' {
            cuts.insert(i + 1);
        }
    }
    cuts.extend((5..bytes.len()).step_by(19));
    let mut pieces = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().filter(|&c| c < bytes.len()) {
        pieces.push(bytes[from..cut].to_vec());
        from = cut;
    }
    pieces.push(bytes[from..].to_vec());
    if text.chars().any(|c| c.len_utf8() > 1) {
        assert!(
            pieces.iter().any(|p| std::str::from_utf8(p).is_err()),
            "some piece must split a character"
        );
    }
    pieces
}

/// What a stream produced: events up to the first error, and that error.
#[derive(Debug)]
pub struct Outcome {
    pub events: Vec<LlmEvent>,
    pub error: Option<LlmError>,
}

impl Outcome {
    pub fn text(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                LlmEvent::Text(t) => Some(t.as_str()),
                LlmEvent::Done { .. } => None,
            })
            .collect()
    }

    pub fn done(&self) -> Option<&LlmEvent> {
        self.events
            .iter()
            .find(|e| matches!(e, LlmEvent::Done { .. }))
    }

    pub fn err(&self) -> &LlmError {
        self.error.as_ref().expect("the stream should have failed")
    }
}

/// Reads the stream to its end, checking that nothing follows `Done` or an error.
pub async fn drain(mut s: LlmStream) -> Outcome {
    let read = async {
        let mut events = Vec::new();
        let mut error = None;
        while let Some(item) = s.next().await {
            match item {
                Ok(e) => {
                    let done = matches!(e, LlmEvent::Done { .. });
                    events.push(e);
                    if done {
                        break;
                    }
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        assert!(
            s.next().await.is_none(),
            "the stream must end after Done or an error"
        );
        Outcome { events, error }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("the stream should end on its own")
}

/// The key must not leak through an error's Display or Debug.
pub fn assert_no_key(err: &LlmError, key: &str) {
    assert!(
        !err.to_string().contains(key),
        "Display leaks the key: {err}"
    );
    assert!(
        !format!("{err:?}").contains(key),
        "Debug leaks the key: {err:?}"
    );
}

/// A port nothing listens on.
pub async fn closed_port_url() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}
