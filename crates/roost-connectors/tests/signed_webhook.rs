//! The signed-webhook CRM: delivery against a stand-in receiver that runs `verify` and
//! drops repeated idempotency keys, and the receiver's check on its own.

mod common;

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{closed_port, http, serve};
use roost_connectors::signed::{
    DEFAULT_TOLERANCE, SignedWebhookError, VerifyError, signature_header, verify,
};
use roost_connectors::{ConnectorError, SignedWebhook};
use serde_json::{Value, json};

const SECRET: &str = "whsec_5f0c2e7a9b1d4c3e8f6a2b7c";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A scripted answer: status, extra headers, body.
type Reply = (u16, Vec<(&'static str, &'static str)>, &'static str);

#[derive(Default)]
struct Receiver {
    seen_keys: HashSet<String>,
    /// Accepted events: (event type, idempotency key, body).
    accepted: Vec<(String, String, Value)>,
    /// Status, headers and body to answer the next deliveries with.
    script: VecDeque<Reply>,
}

type Shared = Arc<Mutex<Receiver>>;

async fn receive(
    State(rx): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Err(e) = verify(
        SECRET.as_bytes(),
        header("x-roost-signature").as_deref(),
        &body,
        now(),
        DEFAULT_TOLERANCE,
    ) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "message": e.to_string() })),
        )
            .into_response();
    }
    let (Some(event), Some(key)) = (header("x-roost-event"), header("idempotency-key")) else {
        return (StatusCode::BAD_REQUEST, "missing headers").into_response();
    };
    let mut rx = rx.lock().unwrap();
    if let Some((status, extra, text)) = rx.script.pop_front() {
        let mut r = (StatusCode::from_u16(status).unwrap(), text).into_response();
        for (k, v) in extra {
            r.headers_mut().insert(k, v.parse().unwrap());
        }
        return r;
    }
    if !rx.seen_keys.insert(key.clone()) {
        // A repeat: acknowledged, not applied again.
        return axum::Json(json!({ "duplicate": true })).into_response();
    }
    let json: Value = serde_json::from_slice(&body).unwrap();
    rx.accepted.push((event, key, json));
    (StatusCode::ACCEPTED, axum::Json(json!({ "ok": true }))).into_response()
}

async fn stand_in() -> (String, Shared) {
    let rx: Shared = Arc::default();
    let router = Router::new()
        .route("/hooks/roost", post(receive))
        .with_state(rx.clone());
    (format!("{}/hooks/roost", serve(router).await), rx)
}

fn lead_event() -> Value {
    json!({ "lead": { "id": "lead-0001", "name": "Dana Al Mansouri", "budget": { "amount_minor": 425000000, "currency": "AED" } } })
}

#[tokio::test]
async fn a_signed_event_is_applied_once_however_often_it_is_delivered() {
    let (url, rx) = stand_in().await;
    let hook = SignedWebhook::new(http(), &url, SECRET).unwrap();
    let first = hook
        .deliver("lead.created", "act-0001", &lead_event())
        .await
        .unwrap();
    assert_eq!(first.status, 202);
    let again = hook
        .deliver("lead.created", "act-0001", &lead_event())
        .await
        .unwrap();
    assert_eq!(again.status, 200);
    let rx = rx.lock().unwrap();
    assert_eq!(rx.accepted.len(), 1);
    let (event, key, body) = &rx.accepted[0];
    assert_eq!((event.as_str(), key.as_str()), ("lead.created", "act-0001"));
    assert_eq!(body, &lead_event());
    assert!(!format!("{hook:?}").contains(SECRET));
}

#[tokio::test]
async fn client_errors_are_permanent_with_the_receivers_message() {
    let (url, rx) = stand_in().await;
    rx.lock().unwrap().script.push_back((
        422,
        vec![("content-type", "application/json")],
        r#"{"error":{"message":"phone must be in E.164 format"}}"#,
    ));
    let hook = SignedWebhook::new(http(), &url, SECRET).unwrap();
    let err = hook
        .deliver("lead.created", "act-2", &lead_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SignedWebhookError::Rejected {
            status: 422,
            message: "phone must be in E.164 format".into()
        }
    );
    let class = ConnectorError::from(err);
    assert!(matches!(class, ConnectorError::Permanent { .. }));
    assert_eq!(
        class.to_string(),
        "The CRM refused the lead (HTTP 422): phone must be in E.164 format; correct the lead and send again."
    );
}

#[tokio::test]
async fn timeouts_rate_limits_and_server_errors_are_retryable() {
    let (url, rx) = stand_in().await;
    {
        let mut rx = rx.lock().unwrap();
        rx.script.push_back((408, vec![], "Request Timeout"));
        rx.script
            .push_back((429, vec![("retry-after", "7")], "slow down"));
        rx.script.push_back((503, vec![], ""));
    }
    let hook = SignedWebhook::new(http(), &url, SECRET).unwrap();
    let mut classes = Vec::new();
    for _ in 0..3 {
        let err = hook
            .deliver("lead.created", "act-3", &lead_event())
            .await
            .unwrap_err();
        assert!(
            matches!(err, SignedWebhookError::RetryLater { .. }),
            "{err:?}"
        );
        classes.push(ConnectorError::from(err));
    }
    assert!(classes.iter().all(ConnectorError::retryable));
    assert_eq!(classes[1].retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(
        classes[1].to_string(),
        "The CRM is busy or unavailable (HTTP 429): retry in 7 s."
    );
    // The scripted failures never applied the event; the retry does, once.
    hook.deliver("lead.created", "act-3", &lead_event())
        .await
        .unwrap();
    assert_eq!(rx.lock().unwrap().accepted.len(), 1);

    // Hook URLs often carry a secret in their path: it shows in no error.
    let secret_url = format!("{}/hooks/catch/42/s3cretpath", closed_port().await);
    let gone = SignedWebhook::new(http(), &secret_url, SECRET).unwrap();
    let err = gone
        .deliver("lead.created", "act-4", &lead_event())
        .await
        .unwrap_err();
    assert!(matches!(err, SignedWebhookError::Network(_)), "{err:?}");
    assert!(!err.to_string().contains("s3cretpath"), "{err}");
    assert!(!format!("{gone:?}").contains("s3cretpath"));
    let bad = SignedWebhook::new(http(), "ftp://crm.test/s3cretpath", SECRET).unwrap_err();
    assert!(!bad.to_string().contains("s3cretpath"), "{bad}");
    assert!(SignedWebhook::new(http(), &url, "").is_err());
}

#[tokio::test]
async fn a_wrong_secret_or_a_stale_signature_needs_an_admin() {
    let (url, rx) = stand_in().await;
    let wrong = SignedWebhook::new(http(), &url, "whsec_not_the_one").unwrap();
    let err = wrong
        .deliver("lead.created", "act-5", &lead_event())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SignedWebhookError::Unauthorized { status: 401, message } if message.contains("does not match")),
        "{err:?}"
    );
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::NeedsAdmin { .. }
    ));

    // A sender whose clock is an hour behind.
    let right = SignedWebhook::new(http(), &url, SECRET).unwrap();
    let err = right
        .deliver_at("lead.created", "act-6", &lead_event(), now() - 3600)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SignedWebhookError::Unauthorized { message, .. } if message.contains("away from now")),
        "{err:?}"
    );
    assert!(rx.lock().unwrap().accepted.is_empty());
}

#[test]
fn verify_accepts_only_the_signed_body_secret_and_time() {
    let body = br#"{"lead":{"id":"lead-1"}}"#;
    let t = 1_700_000_000;
    let tol = Duration::from_secs(300);
    let header = signature_header(SECRET.as_bytes(), t, body);

    assert_eq!(
        verify(SECRET.as_bytes(), Some(&header), body, t + 10, tol),
        Ok(t)
    );
    // Tampered body.
    assert_eq!(
        verify(
            SECRET.as_bytes(),
            Some(&header),
            br#"{"lead":{"id":"lead-2"}}"#,
            t,
            tol
        ),
        Err(VerifyError::Mismatch)
    );
    // Wrong secret.
    assert_eq!(
        verify(b"whsec_other", Some(&header), body, t, tol),
        Err(VerifyError::Mismatch)
    );
    // The timestamp is signed: moving it breaks the signature.
    let moved = header.replace(&format!("t={t}"), &format!("t={}", t + 1000));
    assert_eq!(
        verify(SECRET.as_bytes(), Some(&moved), body, t + 1000, tol),
        Err(VerifyError::Mismatch)
    );
    // Stale, and too far in the future.
    assert_eq!(
        verify(SECRET.as_bytes(), Some(&header), body, t + 301, tol),
        Err(VerifyError::Stale { age_secs: 301 })
    );
    assert_eq!(
        verify(SECRET.as_bytes(), Some(&header), body, t - 301, tol),
        Err(VerifyError::Stale { age_secs: -301 })
    );
    // Missing and malformed headers.
    assert_eq!(
        verify(SECRET.as_bytes(), None, body, t, tol),
        Err(VerifyError::Missing)
    );
    for bad in ["garbage", "t=abc,v1=00", "v1=00", &format!("t={t}")] {
        assert_eq!(
            verify(SECRET.as_bytes(), Some(bad), body, t, tol),
            Err(VerifyError::Malformed),
            "{bad}"
        );
    }
    // During a secret rotation the header carries both signatures; either secret verifies.
    let old = signature_header(b"whsec_old", t, body);
    let both = format!("{header},v1={}", &old[old.find("v1=").unwrap() + 3..]);
    assert_eq!(verify(b"whsec_old", Some(&both), body, t, tol), Ok(t));
    assert_eq!(verify(SECRET.as_bytes(), Some(&both), body, t, tol), Ok(t));
}

#[test]
fn a_replay_passes_the_signature_only_inside_the_window() {
    let body = br#"{"lead":{"id":"lead-1"}}"#;
    let t = 1_700_000_000;
    let tol = Duration::from_secs(300);
    let header = signature_header(SECRET.as_bytes(), t, body);
    // Inside the window a captured request verifies again: receivers must also drop a
    // repeated Idempotency-Key (the stand-in above does).
    assert!(verify(SECRET.as_bytes(), Some(&header), body, t + 120, tol).is_ok());
    // After it, the same capture is refused.
    assert!(matches!(
        verify(SECRET.as_bytes(), Some(&header), body, t + 900, tol),
        Err(VerifyError::Stale { .. })
    ));
}
