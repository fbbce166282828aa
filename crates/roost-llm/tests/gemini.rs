//! The Gemini client against a stand-in that speaks `streamGenerateContent?alt=sse`.

mod common;

use std::time::{Duration, Instant};

use common::{End, Reply, StandIn, assert_no_key, client, closed_port_url, drain, fast};
use roost_api::chat::ChatErrorCode;
use roost_llm::{
    FinishReason, Gemini, LlmError, LlmEvent, LlmMessage, LlmProvider, LlmRequest, LlmStream,
};
use serde_json::{Value, json};

const KEY: &str = "AIzaSy-test-key-0123456789";
const MODEL: &str = "gemini-2.5-flash";
const SYSTEM: &str = "You answer for Maison Roost agents.";
const PARTS: [&str; 3] = [
    "Deux biens à Montréal : ",
    "12 rue de l'Église — 450 000 € 🏡, ",
    "et un loft naïf.",
];

fn request() -> LlmRequest {
    LlmRequest {
        system: SYSTEM.into(),
        messages: vec![
            LlmMessage::user("Bonjour"),
            LlmMessage::assistant("Bonjour ! Que cherchez-vous ?"),
            LlmMessage::user("Des maisons à Montréal ?"),
        ],
        temperature: Some(0.2),
        max_output_tokens: Some(512),
    }
}

fn provider(base: &str) -> Gemini {
    Gemini::new(client(), Some(base), MODEL, KEY.into(), fast()).unwrap()
}

fn text_chunk(text: &str) -> Value {
    json!({
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}],
        "usageMetadata": {"promptTokenCount": 42, "totalTokenCount": 42},
        "modelVersion": MODEL
    })
}

fn final_chunk(text: &str, reason: &str) -> Value {
    json!({
        "candidates": [{
            "content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": reason,
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 42, "candidatesTokenCount": 17, "totalTokenCount": 59},
        "modelVersion": MODEL
    })
}

/// Gemini frames each chunk as `data: <json>` followed by CRLF CRLF.
fn sse(chunks: &[Value]) -> String {
    chunks
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect()
}

fn full_answer(last_reason: &str) -> String {
    sse(&[
        text_chunk(PARTS[0]),
        text_chunk(PARTS[1]),
        final_chunk(PARTS[2], last_reason),
    ])
}

fn google_error(code: u16, status: &str, message: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

async fn open(stand_in: &StandIn) -> Result<LlmStream, LlmError> {
    provider(&stand_in.base).stream(request()).await
}

async fn open_err(stand_in: &StandIn) -> LlmError {
    let err = open(stand_in).await.err().expect("stream() should fail");
    assert_no_key(&err, KEY);
    err
}

#[tokio::test]
async fn streams_the_answer_with_usage_and_sends_the_documented_request() {
    let s = StandIn::start(|_| Reply::sse(&full_answer("STOP"))).await;
    let out = drain(open(&s).await.unwrap()).await;

    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), PARTS.concat());
    assert_eq!(
        out.events.last(),
        Some(&LlmEvent::Done {
            input_tokens: Some(42),
            output_tokens: Some(17),
            finish: FinishReason::Stop
        })
    );

    assert_eq!(s.hits(), 1);
    let r = s.request(0);
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(
        r.query.as_deref(),
        Some("alt=sse"),
        "the key stays out of the URL"
    );
    assert_eq!(r.headers["x-goog-api-key"], KEY);
    assert!(r.headers.get("authorization").is_none());
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let b = &r.body;
    assert_eq!(b["systemInstruction"]["parts"][0]["text"], SYSTEM);
    let contents = b["contents"].as_array().unwrap();
    let turns: Vec<(&str, &str)> = contents
        .iter()
        .map(|c| {
            (
                c["role"].as_str().unwrap(),
                c["parts"][0]["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        turns,
        [
            ("user", "Bonjour"),
            ("model", "Bonjour ! Que cherchez-vous ?"),
            ("user", "Des maisons à Montréal ?"),
        ]
    );
    let temp = b["generationConfig"]["temperature"].as_f64().unwrap();
    assert!((temp - 0.2).abs() < 1e-6, "{temp}");
    assert_eq!(b["generationConfig"]["maxOutputTokens"], 512);
}

#[tokio::test]
async fn max_tokens_is_a_normal_end() {
    let s = StandIn::start(|_| Reply::sse(&full_answer("MAX_TOKENS"))).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), PARTS.concat());
    assert!(matches!(
        out.done(),
        Some(LlmEvent::Done {
            finish: FinishReason::Length,
            ..
        })
    ));
}

fn resource_exhausted(delay: &str) -> Reply {
    Reply::json(
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota.",
            json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]),
        ),
    )
}

#[tokio::test]
async fn long_retry_info_reaches_the_caller_without_a_retry() {
    let s = StandIn::start(|_| resource_exhausted("30s")).await;
    let err = open_err(&s).await;
    assert_eq!(
        err,
        LlmError::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
            message: "You exceeded your current quota".into()
        }
    );
    assert_eq!(err.code(), ChatErrorCode::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn short_retry_info_is_waited_out_and_retried() {
    let s = StandIn::start(|n| {
        if n == 0 {
            resource_exhausted("0.4s")
        } else {
            Reply::sse(&full_answer("STOP"))
        }
    })
    .await;
    let started = Instant::now();
    let out = drain(open(&s).await.unwrap()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), PARTS.concat());
    assert_eq!(s.hits(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "the retry must wait the asked delay"
    );
}

async fn server_error_is_unavailable_after_retries(status: u16, name: &str) {
    let name = name.to_owned();
    let s = StandIn::start(move |_| {
        Reply::json(
            status,
            google_error(status, &name, "The model is overloaded.", json!([])),
        )
    })
    .await;
    let err = open_err(&s).await;
    assert_eq!(
        err,
        LlmError::Unavailable {
            status: Some(status),
            message: "The model is overloaded".into()
        }
    );
    assert_eq!(err.code(), ChatErrorCode::ProviderUnavailable);
    assert_eq!(s.hits(), 3, "one try and two retries");
}

#[tokio::test]
async fn http_500_is_unavailable_after_two_retries() {
    server_error_is_unavailable_after_retries(500, "INTERNAL").await;
}

#[tokio::test]
async fn http_503_is_unavailable_after_two_retries() {
    server_error_is_unavailable_after_retries(503, "UNAVAILABLE").await;
}

#[tokio::test]
async fn invalid_key_is_auth_and_not_retried() {
    let s = StandIn::start(|_| {
        Reply::json(
            400,
            google_error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                json!([{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com"
                }]),
            ),
        )
    })
    .await;
    let err = open_err(&s).await;
    assert!(matches!(&err, LlmError::Auth { message } if message.contains("API key not valid")));
    assert_eq!(err.code(), ChatErrorCode::ProviderAuth);
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn permission_denied_is_auth() {
    let s = StandIn::start(|_| {
        Reply::json(
            403,
            google_error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers.",
                json!([]),
            ),
        )
    })
    .await;
    assert!(matches!(open_err(&s).await, LlmError::Auth { .. }));
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn unknown_model_is_rejected() {
    let s = StandIn::start(|_| {
        Reply::json(
            404,
            google_error(
                404,
                "NOT_FOUND",
                "models/gemini-9 is not found for API version v1beta.",
                json!([]),
            ),
        )
    })
    .await;
    let err = open_err(&s).await;
    assert_eq!(
        err,
        LlmError::Rejected {
            status: 404,
            message: "models/gemini-9 is not found for API version v1beta".into()
        }
    );
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn malformed_chunk_fails_after_the_text_before_it() {
    let body = format!(
        "{}data: {{\"candidates\": [{{\"content\": oops\r\n\r\n{}",
        sse(&[text_chunk(PARTS[0])]),
        sse(&[final_chunk(PARTS[2], "STOP")])
    );
    let s = StandIn::start(move |_| Reply::sse(&body)).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert_eq!(out.events, [LlmEvent::Text(PARTS[0].into())]);
    assert!(
        matches!(out.err(), LlmError::Malformed { .. }),
        "{:?}",
        out.error
    );
    assert_eq!(out.err().code(), ChatErrorCode::MalformedStream);
}

#[tokio::test]
async fn stream_ending_without_finish_reason_is_malformed() {
    let body = sse(&[text_chunk(PARTS[0]), text_chunk(PARTS[1])]);
    let s = StandIn::start(move |_| Reply::sse(&body)).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert_eq!(out.text(), PARTS[..2].concat());
    assert!(out.done().is_none());
    assert!(
        matches!(out.err(), LlmError::Malformed { .. }),
        "{:?}",
        out.error
    );
}

#[tokio::test]
async fn dropped_connection_mid_stream_is_malformed() {
    let body = sse(&[text_chunk(PARTS[0])]);
    let s = StandIn::start(move |_| Reply::sse_then(&body, End::Abort)).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert_eq!(out.text(), PARTS[0]);
    assert!(
        matches!(out.err(), LlmError::Malformed { .. }),
        "{:?}",
        out.error
    );
}

#[tokio::test]
async fn blocked_prompt_is_blocked() {
    let body = sse(&[json!({
        "promptFeedback": {
            "blockReason": "SAFETY",
            "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH"}]
        },
        "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}
    })]);
    let s = StandIn::start(move |_| Reply::sse(&body)).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert!(out.events.is_empty());
    assert!(
        matches!(out.err(), LlmError::Blocked { reason } if reason.contains("question") && reason.contains("SAFETY")),
        "{:?}",
        out.error
    );
    assert_eq!(out.err().code(), ChatErrorCode::Blocked);
}

#[tokio::test]
async fn safety_stop_mid_answer_is_blocked_after_the_text() {
    let body = sse(&[
        text_chunk(PARTS[0]),
        json!({"candidates": [{"finishReason": "SAFETY", "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]}]}),
    ]);
    let s = StandIn::start(move |_| Reply::sse(&body)).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert_eq!(out.events, [LlmEvent::Text(PARTS[0].into())]);
    assert!(
        matches!(out.err(), LlmError::Blocked { reason } if reason.contains("answer") && reason.contains("SAFETY")),
        "{:?}",
        out.error
    );
}

#[tokio::test]
async fn slow_response_headers_time_out_as_first_byte() {
    let s = StandIn::start(|_| {
        Reply::Delayed(
            Duration::from_secs(3),
            Box::new(Reply::sse(&full_answer("STOP"))),
        )
    })
    .await;
    let started = Instant::now();
    let err = open_err(&s).await;
    assert_eq!(err, LlmError::Timeout { what: "first byte" });
    assert_eq!(err.code(), ChatErrorCode::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(s.hits(), 1, "timeouts are not retried");
}

#[tokio::test]
async fn slow_first_body_bytes_time_out_as_first_byte() {
    let s = StandIn::start(|_| Reply::Stream {
        pieces: common::awkward(&full_answer("STOP")),
        first_delay: Duration::from_secs(3),
        end: End::Close,
    })
    .await;
    let out = drain(open(&s).await.unwrap()).await;
    assert!(out.events.is_empty());
    assert_eq!(out.err(), &LlmError::Timeout { what: "first byte" });
}

#[tokio::test]
async fn stall_mid_stream_times_out_between_chunks() {
    let body = sse(&[text_chunk(PARTS[0]), text_chunk(PARTS[1])]);
    let s = StandIn::start(move |_| Reply::sse_then(&body, End::Stall)).await;
    let started = Instant::now();
    let out = drain(open(&s).await.unwrap()).await;
    assert_eq!(out.text(), PARTS[..2].concat());
    assert_eq!(
        out.err(),
        &LlmError::Timeout {
            what: "between chunks"
        }
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    let base = closed_port_url().await;
    let err = provider(&base)
        .stream(request())
        .await
        .err()
        .expect("nothing listens there");
    assert!(
        matches!(&err, LlmError::Unavailable { status: None, message } if message.contains("connect")),
        "{err:?}"
    );
    assert_eq!(err.code(), ChatErrorCode::ProviderUnavailable);
}

#[tokio::test]
async fn the_key_never_shows_in_errors_or_debug() {
    // A provider that echoes the key it refused.
    let s = StandIn::start(|_| {
        Reply::json(
            401,
            google_error(
                401,
                "UNAUTHENTICATED",
                &format!("Request had invalid authentication credentials: {KEY}"),
                json!([]),
            ),
        )
    })
    .await;
    let err = open_err(&s).await; // asserts the key is absent
    assert!(matches!(&err, LlmError::Auth { message } if message.contains("[redacted]")));
    let p = provider(&s.base);
    assert!(!format!("{p:?}").contains(KEY));

    // Errors inside the stream are cleaned too.
    let body = sse(&[json!({"error": {"code": 500, "status": "INTERNAL",
        "message": format!("internal error for key {KEY}")}})]);
    let s = StandIn::start(move |_| Reply::sse(&body)).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert!(
        matches!(out.err(), LlmError::Unavailable { .. }),
        "{:?}",
        out.error
    );
    assert_no_key(out.err(), KEY);
}
