//! The OpenAI-compatible client against a stand-in that speaks streamed chat completions.

mod common;

use std::time::{Duration, Instant};

use common::{End, Reply, StandIn, assert_no_key, client, closed_port_url, drain, fast};
use roost_api::chat::ChatErrorCode;
use roost_llm::{
    FinishReason, LlmError, LlmEvent, LlmMessage, LlmProvider, LlmRequest, LlmStream,
    OpenAiCompatible,
};
use serde_json::{Value, json};

const KEY: &str = "sk-test-0123456789abcdefXYZ";
const MODEL: &str = "gpt-4o-mini";
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

fn provider_with(base: &str, key: Option<&str>) -> OpenAiCompatible {
    OpenAiCompatible::new(
        client(),
        &format!("{base}/v1"),
        MODEL,
        key.map(str::to_owned),
        fast(),
    )
    .unwrap()
}

fn chunk(content: Option<&str>, finish: Option<&str>) -> Value {
    let delta = match content {
        Some(c) => json!({"content": c}),
        None => json!({}),
    };
    json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        "usage": null
    })
}

fn usage_chunk() -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
        "choices": [],
        "usage": {"prompt_tokens": 42, "completion_tokens": 17, "total_tokens": 59}
    })
}

fn sse(chunks: &[Value]) -> String {
    chunks.iter().map(|c| format!("data: {c}\n\n")).collect()
}

const DONE: &str = "data: [DONE]\n\n";

/// The whole answer as OpenAI sends it: role, texts, finish, usage, `[DONE]`.
fn full_answer(finish: &str) -> String {
    let first = json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}],
        "usage": null
    });
    sse(&[
        first,
        chunk(Some(PARTS[0]), None),
        chunk(Some(PARTS[1]), None),
        chunk(Some(PARTS[2]), None),
        chunk(None, Some(finish)),
        usage_chunk(),
    ]) + DONE
}

fn openai_error(message: &str, kind: &str, code: Value) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

async fn open(stand_in: &StandIn) -> Result<LlmStream, LlmError> {
    provider_with(&stand_in.base, Some(KEY))
        .stream(request())
        .await
}

async fn open_err(stand_in: &StandIn) -> LlmError {
    let err = open(stand_in).await.err().expect("stream() should fail");
    assert_no_key(&err, KEY);
    err
}

#[tokio::test]
async fn streams_the_answer_with_usage_and_sends_the_documented_request() {
    let s = StandIn::start(|_| Reply::sse(&full_answer("stop"))).await;
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
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.headers["authorization"], format!("Bearer {KEY}"));
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let b = &r.body;
    assert_eq!(b["model"], MODEL);
    assert_eq!(b["stream"], true);
    assert_eq!(b["stream_options"]["include_usage"], true);
    let temp = b["temperature"].as_f64().unwrap();
    assert!((temp - 0.2).abs() < 1e-6, "{temp}");
    assert_eq!(b["max_tokens"], 512);
    let turns: Vec<(&str, &str)> = b["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(
        turns,
        [
            ("system", SYSTEM),
            ("user", "Bonjour"),
            ("assistant", "Bonjour ! Que cherchez-vous ?"),
            ("user", "Des maisons à Montréal ?"),
        ]
    );
}

#[tokio::test]
async fn keyless_server_without_usage_works_like_ollama() {
    // No usage chunk and no `usage` fields at all.
    let body = sse(&[
        json!({"choices": [{"index": 0, "delta": {"content": PARTS[0]}, "finish_reason": null}]}),
        json!({"choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}]}),
    ]) + DONE;
    let s = StandIn::start(move |_| Reply::sse(&body)).await;
    let out = drain(
        provider_with(&s.base, None)
            .stream(request())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        out.events,
        [
            LlmEvent::Text(PARTS[0].into()),
            LlmEvent::Done {
                input_tokens: None,
                output_tokens: None,
                finish: FinishReason::Stop
            }
        ]
    );
    assert!(s.request(0).headers.get("authorization").is_none());
}

#[tokio::test]
async fn length_is_a_normal_end() {
    let s = StandIn::start(|_| Reply::sse(&full_answer("length"))).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), PARTS.concat());
    assert!(matches!(
        out.done(),
        Some(LlmEvent::Done {
            finish: FinishReason::Length,
            output_tokens: Some(17),
            ..
        })
    ));
}

fn rate_limited(retry_after: &str) -> Reply {
    Reply::json(
        429,
        openai_error(
            "Rate limit reached for gpt-4o-mini.",
            "requests",
            json!("rate_limit_exceeded"),
        ),
    )
    .with_header("retry-after", retry_after)
}

#[tokio::test]
async fn long_retry_after_reaches_the_caller_without_a_retry() {
    let s = StandIn::start(|_| rate_limited("20")).await;
    let err = open_err(&s).await;
    assert_eq!(
        err,
        LlmError::RateLimited {
            retry_after: Some(Duration::from_secs(20)),
            message: "Rate limit reached for gpt-4o-mini".into()
        }
    );
    assert_eq!(err.code(), ChatErrorCode::RateLimited);
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn short_retry_after_is_waited_out_and_retried() {
    let s = StandIn::start(|n| {
        if n == 0 {
            rate_limited("1")
        } else {
            Reply::sse(&full_answer("stop"))
        }
    })
    .await;
    let started = Instant::now();
    let out = drain(open(&s).await.unwrap()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), PARTS.concat());
    assert_eq!(s.hits(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the retry must wait the asked delay"
    );
}

#[tokio::test]
async fn quota_exhausted_without_retry_after_is_not_retried() {
    let s = StandIn::start(|_| {
        Reply::json(
            429,
            openai_error(
                "You exceeded your current quota.",
                "insufficient_quota",
                json!("insufficient_quota"),
            ),
        )
    })
    .await;
    let err = open_err(&s).await;
    assert!(
        matches!(
            err,
            LlmError::RateLimited {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.hits(), 1);
}

async fn server_error_is_unavailable_after_retries(status: u16) {
    let s = StandIn::start(move |_| {
        Reply::json(
            status,
            openai_error("The server is overloaded.", "server_error", Value::Null),
        )
    })
    .await;
    let err = open_err(&s).await;
    assert_eq!(
        err,
        LlmError::Unavailable {
            status: Some(status),
            message: "The server is overloaded".into()
        }
    );
    assert_eq!(err.code(), ChatErrorCode::ProviderUnavailable);
    assert_eq!(s.hits(), 3, "one try and two retries");
}

#[tokio::test]
async fn http_500_is_unavailable_after_two_retries() {
    server_error_is_unavailable_after_retries(500).await;
}

#[tokio::test]
async fn http_503_is_unavailable_after_two_retries() {
    server_error_is_unavailable_after_retries(503).await;
}

#[tokio::test]
async fn invalid_key_is_auth_and_not_retried() {
    let s = StandIn::start(|_| {
        Reply::json(
            401,
            openai_error(
                "Incorrect API key provided: sk-test-***XYZ.",
                "invalid_request_error",
                json!("invalid_api_key"),
            ),
        )
    })
    .await;
    let err = open_err(&s).await;
    assert!(
        matches!(&err, LlmError::Auth { message } if message.contains("Incorrect API key")),
        "{err:?}"
    );
    assert_eq!(err.code(), ChatErrorCode::ProviderAuth);
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn unknown_model_is_rejected() {
    let s = StandIn::start(|_| {
        Reply::json(
            404,
            openai_error(
                "The model `gpt-9` does not exist or you do not have access to it.",
                "invalid_request_error",
                json!("model_not_found"),
            ),
        )
    })
    .await;
    let err = open_err(&s).await;
    assert!(
        matches!(&err, LlmError::Rejected { status: 404, message } if message.contains("gpt-9")),
        "{err:?}"
    );
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn bad_request_is_rejected() {
    let s = StandIn::start(|_| {
        Reply::json(
            400,
            openai_error(
                "Invalid value for 'temperature'.",
                "invalid_request_error",
                Value::Null,
            ),
        )
    })
    .await;
    assert!(matches!(
        open_err(&s).await,
        LlmError::Rejected { status: 400, .. }
    ));
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn malformed_chunk_fails_after_the_text_before_it() {
    let body = sse(&[chunk(Some(PARTS[0]), None)])
        + "data: {\"choices\": [{\"delta\": {\"content\": \"x\"\n\n"
        + &sse(&[chunk(None, Some("stop"))])
        + DONE;
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
async fn stream_cut_before_finish_and_done_is_malformed() {
    let body = sse(&[chunk(Some(PARTS[0]), None), chunk(Some(PARTS[1]), None)]);
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
    let body = sse(&[chunk(Some(PARTS[0]), None)]);
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
async fn finish_reason_without_done_marker_still_ends_well() {
    let body = sse(&[
        chunk(Some(PARTS[0]), None),
        chunk(None, Some("stop")),
        usage_chunk(),
    ]);
    let s = StandIn::start(move |_| Reply::sse(&body)).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(
        out.done(),
        Some(&LlmEvent::Done {
            input_tokens: Some(42),
            output_tokens: Some(17),
            finish: FinishReason::Stop
        })
    );
}

#[tokio::test]
async fn content_filter_is_blocked_after_the_text() {
    let body = sse(&[
        chunk(Some(PARTS[0]), None),
        chunk(None, Some("content_filter")),
        usage_chunk(),
    ]) + DONE;
    let s = StandIn::start(move |_| Reply::sse(&body)).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert_eq!(out.events, [LlmEvent::Text(PARTS[0].into())]);
    assert!(
        matches!(out.err(), LlmError::Blocked { reason } if reason.contains("content_filter")),
        "{:?}",
        out.error
    );
    assert_eq!(out.err().code(), ChatErrorCode::Blocked);
}

#[tokio::test]
async fn slow_response_headers_time_out_as_first_byte() {
    let s = StandIn::start(|_| {
        Reply::Delayed(
            Duration::from_secs(3),
            Box::new(Reply::sse(&full_answer("stop"))),
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
        pieces: common::awkward(&full_answer("stop")),
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
    let body = sse(&[chunk(Some(PARTS[0]), None), chunk(Some(PARTS[1]), None)]);
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
    let err = provider_with(&base, Some(KEY))
        .stream(request())
        .await
        .err()
        .expect("nothing listens there");
    assert!(
        matches!(&err, LlmError::Unavailable { status: None, message } if message.contains("connect")),
        "{err:?}"
    );
    assert_eq!(err.code(), ChatErrorCode::ProviderUnavailable);
    assert_no_key(&err, KEY);
}

#[tokio::test]
async fn json_instead_of_an_event_stream_is_malformed() {
    // A server that ignored `stream: true`.
    let s = StandIn::start(|_| {
        Reply::json(
            200,
            json!({"choices": [{"message": {"role": "assistant", "content": "Hi"}}]}),
        )
    })
    .await;
    let err = open_err(&s).await;
    assert!(
        matches!(&err, LlmError::Malformed { detail } if detail.contains("JSON")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_key_never_shows_in_errors_or_debug() {
    let s = StandIn::start(|_| {
        Reply::json(
            401,
            openai_error(
                &format!("Incorrect API key provided: {KEY}."),
                "invalid_request_error",
                json!("invalid_api_key"),
            ),
        )
    })
    .await;
    let err = open_err(&s).await; // asserts the key is absent
    assert!(matches!(&err, LlmError::Auth { message } if message.contains("[redacted]")));
    let p = provider_with(&s.base, Some(KEY));
    assert!(!format!("{p:?}").contains(KEY));

    // An error chunk inside the stream is cleaned too.
    let body = sse(&[
        json!({"error": {"message": format!("upstream failed for {KEY}"),
        "type": "server_error"}}),
    ]);
    let s = StandIn::start(move |_| Reply::sse(&body)).await;
    let out = drain(open(&s).await.unwrap()).await;
    assert!(
        matches!(out.err(), LlmError::Unavailable { .. }),
        "{:?}",
        out.error
    );
    assert_no_key(out.err(), KEY);
}
