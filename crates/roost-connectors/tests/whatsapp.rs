//! The WhatsApp client against a stand-in Cloud API that checks the documented request shape,
//! keeps each client's 24-hour window, records every message it accepts, and answers with
//! the documented success and error bodies.

mod common;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{Recorded, bearer, closed_port, http, serve};
use roost_connectors::whatsapp::{
    Choice, Pacer, RateLimit, SERVICE_WINDOW, choose, parse_webhook, verify_signature, window_open,
};
use roost_connectors::{ConnectorError, Millis, OutgoingMessage, WhatsApp, WhatsAppError};
use serde_json::{Value, json};

const VERSION: &str = "v21.0";
const PHONE_ID: &str = "106540352242922";
const TOKEN: &str = "EAAGm0PX4ZCpsBAvalid-token-1234";
const EXPIRED: &str = "EAAGm0PX4ZCpsBAexpired-token-9876";
const CLIENT: &str = "971501234567";
const NOT_ON_WHATSAPP: &str = "971509999999";
const PAIR_LIMITED: &str = "971505555555";
/// An approved template with an image header and two body values.
const PHOTO_TEMPLATE: &str = "listing_photo_showcase";

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as Millis
}

/// A scripted answer for the next request, before any other check.
enum Scripted {
    Throughput { retry_after: Option<u64> },
    ServerError,
    Unavailable,
}

#[derive(Default)]
struct Graph {
    /// The client's last message per WhatsApp id: the 24-hour window.
    inbound: HashMap<String, Millis>,
    not_on_whatsapp: HashSet<String>,
    pair_limited: HashSet<String>,
    script: VecDeque<Scripted>,
    requests: Vec<Recorded>,
    /// Every message accepted: the effects.
    accepted: Vec<(String, Value)>,
}

type Shared = Arc<Mutex<Graph>>;

fn graph_error(status: StatusCode, code: i64, message: &str, details: &str) -> Response {
    let body = json!({
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": { "messaging_product": "whatsapp", "details": details },
            "fbtrace_id": "AazXbT5yq9zQm7Lk2pR0Hn1",
        }
    });
    (status, axum::Json(body)).into_response()
}

async fn messages(
    State(graph): State<Shared>,
    Path((version, phone_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut g = graph.lock().unwrap();
    g.requests.push(Recorded {
        method: "POST".into(),
        path: format!("/{version}/{phone_id}/messages"),
        headers: headers.clone(),
        body: json.clone(),
    });
    if let Some(s) = g.script.pop_front() {
        return match s {
            Scripted::Throughput { retry_after } => {
                let mut r = graph_error(
                    StatusCode::BAD_REQUEST,
                    130429,
                    "(#130429) Rate limit hit",
                    "Cloud API message throughput has been reached.",
                );
                if let Some(secs) = retry_after {
                    r.headers_mut()
                        .insert("retry-after", secs.to_string().parse().unwrap());
                }
                r
            }
            Scripted::ServerError => graph_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                131000,
                "(#131000) Something went wrong",
                "Message failed to send due to an unknown error.",
            ),
            Scripted::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
            }
        };
    }
    match bearer(&headers).as_deref() {
        Some(TOKEN) => {}
        // Graph messages can quote what they refused; the client must not repeat it.
        Some(other) => {
            return graph_error(
                StatusCode::UNAUTHORIZED,
                190,
                &format!("Error validating access token: Session has expired for {other}."),
                "",
            );
        }
        None => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                2500,
                "An active access token must be used to query information about the current user.",
                "",
            );
        }
    }
    if version != VERSION || phone_id != PHONE_ID {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "Unsupported post request.",
            "Object does not exist or lacks permissions.",
        );
    }
    // The documented body.
    let to = json["to"].as_str().unwrap_or_default().to_owned();
    let kind = json["type"].as_str().unwrap_or_default();
    let shape_ok = json["messaging_product"] == "whatsapp"
        && json["recipient_type"] == "individual"
        && !to.is_empty()
        && to.bytes().all(|b| b.is_ascii_digit())
        && match kind {
            "text" => json["text"]["body"].as_str().is_some_and(|b| !b.is_empty()),
            "image" => json["image"]["link"].is_string(),
            "document" => json["document"]["link"].is_string(),
            "template" => {
                json["template"]["name"].is_string()
                    && json["template"]["language"]["code"].is_string()
            }
            _ => false,
        };
    if !shape_ok {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) Invalid parameter",
            "The request body does not match the messages endpoint.",
        );
    }
    // The one approved template with an image header: its header and two body values must
    // come with it, as Meta checks against the approved template.
    if kind == "template" && json["template"]["name"] == PHOTO_TEMPLATE {
        let components = json["template"]["components"].as_array();
        let part = |kind: &str| {
            components
                .into_iter()
                .flatten()
                .find(|c| c["type"] == kind)
                .map(|c| c["parameters"].clone())
        };
        let header_ok = part("header").is_some_and(|p| {
            p.as_array().is_some_and(|p| p.len() == 1)
                && p[0]["type"] == "image"
                && p[0]["image"]["link"]
                    .as_str()
                    .is_some_and(|l| l.starts_with("https://"))
        });
        let body_ok = part("body").is_some_and(|p| p.as_array().is_some_and(|p| p.len() == 2));
        if !header_ok || !body_ok {
            return graph_error(
                StatusCode::BAD_REQUEST,
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                "header: Format mismatch, expected IMAGE, received UNKNOWN",
            );
        }
    }
    if g.not_on_whatsapp.contains(&to) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            131026,
            "(#131026) Message Undeliverable",
            "Message failed to send because the recipient is not a WhatsApp user.",
        );
    }
    if g.pair_limited.contains(&to) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            131056,
            "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "Too many messages sent from this phone number to the same phone number in a short period of time.",
        );
    }
    let open = g
        .inbound
        .get(&to)
        .is_some_and(|&t| now_ms() - t < SERVICE_WINDOW);
    if kind != "template" && !open {
        return graph_error(
            StatusCode::BAD_REQUEST,
            131047,
            "(#131047) Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        );
    }
    let wamid = format!("wamid.HBgM{:04}", g.accepted.len() + 1);
    g.accepted.push((wamid.clone(), json));
    axum::Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": wamid }],
    }))
    .into_response()
}

async fn stand_in() -> (String, Shared) {
    let graph: Shared = Arc::default();
    {
        let mut g = graph.lock().unwrap();
        g.not_on_whatsapp.insert(NOT_ON_WHATSAPP.into());
        g.pair_limited.insert(PAIR_LIMITED.into());
    }
    let router = Router::new()
        .route("/{version}/{phone_id}/messages", post(messages))
        .with_state(graph.clone());
    (serve(router).await, graph)
}

fn client(base: &str, token: &str) -> WhatsApp {
    WhatsApp::new(http(), base, VERSION, PHONE_ID, token).unwrap()
}

fn effects(g: &Shared) -> usize {
    g.lock().unwrap().accepted.len()
}

#[tokio::test]
async fn every_kind_goes_out_in_the_documented_shape() {
    let (base, graph) = stand_in().await;
    graph
        .lock()
        .unwrap()
        .inbound
        .insert(CLIENT.into(), now_ms() - 3_600_000);
    let wa = client(&base, TOKEN);
    let to = "+971 50 123 4567";
    let msgs = [
        OutgoingMessage::text(to, "3 villas you may like: https://x.test/s/1", true),
        OutgoingMessage::image(
            to,
            "https://cdn.test/p/1.jpg",
            Some("Villa, AED 4.2M".into()),
        ),
        OutgoingMessage::document(
            to,
            "https://cdn.test/b.pdf",
            Some("brochure.pdf".into()),
            None,
        ),
        OutgoingMessage::template(to, "listing_showcase", "en_US", vec!["Dana".into()]),
    ];
    let mut wamids = Vec::new();
    for m in &msgs {
        let sent = wa.send(m).await.unwrap();
        assert_eq!(sent.wa_id.as_deref(), Some(CLIENT));
        wamids.push(sent.wamid);
    }
    let g = graph.lock().unwrap();
    assert_eq!(g.accepted.len(), 4);
    let recorded: Vec<&str> = g.accepted.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        recorded,
        wamids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for r in &g.requests {
        assert_eq!(r.path, format!("/{VERSION}/{PHONE_ID}/messages"));
        assert_eq!(r.header("authorization"), Some(&*format!("Bearer {TOKEN}")));
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(r.body["to"], CLIENT, "numbers go out as digits");
    }
    let bodies: Vec<&Value> = g.accepted.iter().map(|(_, b)| b).collect();
    assert_eq!(
        bodies[0]["text"],
        json!({"preview_url": true, "body": "3 villas you may like: https://x.test/s/1"})
    );
    assert_eq!(
        bodies[1]["image"],
        json!({"link": "https://cdn.test/p/1.jpg", "caption": "Villa, AED 4.2M"})
    );
    assert_eq!(
        bodies[2]["document"],
        json!({"link": "https://cdn.test/b.pdf", "filename": "brochure.pdf"})
    );
    assert_eq!(bodies[3]["type"], "template");
    assert_eq!(bodies[3]["template"]["language"]["code"], "en_US");
    assert_eq!(
        bodies[3]["template"]["components"][0]["parameters"][0],
        json!({"type": "text", "text": "Dana"})
    );
}

#[tokio::test]
async fn a_template_with_a_photo_header_carries_the_image() {
    let (base, graph) = stand_in().await;
    let wa = client(&base, TOKEN);
    let photo = "https://media.test/p/villa-1.jpg";
    let msg = OutgoingMessage::template(
        CLIENT,
        PHOTO_TEMPLATE,
        "en_US",
        vec!["Dana".into(), "3".into()],
    )
    .with_header_image(photo);
    wa.send(&msg).await.unwrap();
    {
        let g = graph.lock().unwrap();
        let components = &g.accepted[0].1["template"]["components"];
        assert_eq!(
            components[0],
            json!({"type": "header", "parameters": [{"type": "image", "image": {"link": photo}}]})
        );
        assert_eq!(components[1]["type"], "body");
    }

    // Without its image the approved template does not match: for an admin, nothing sent.
    let err = wa
        .send(&OutgoingMessage::template(
            CLIENT,
            PHOTO_TEMPLATE,
            "en_US",
            vec!["Dana".into(), "3".into()],
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, WhatsAppError::TemplateProblem(_)), "{err:?}");
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::NeedsAdmin { .. }
    ));
    assert_eq!(effects(&graph), 1);

    // A header image on another kind of message changes nothing.
    let text = OutgoingMessage::text(CLIENT, "hi", false).with_header_image(photo);
    assert!(text.payload(CLIENT).get("template").is_none());
}

#[tokio::test]
async fn invalid_numbers_are_permanent_and_say_so() {
    let (base, graph) = stand_in().await;
    let wa = client(&base, TOKEN);

    // Not a phone number at all: refused before any request.
    let err = wa
        .send(&OutgoingMessage::text("call me maybe", "hi", false))
        .await
        .unwrap_err();
    assert!(matches!(err, WhatsAppError::InvalidRecipient(_)), "{err:?}");
    assert!(graph.lock().unwrap().requests.is_empty());

    // A number WhatsApp does not know.
    let err = wa
        .send(&OutgoingMessage::template(
            NOT_ON_WHATSAPP,
            "listing_showcase",
            "en_US",
            vec![],
        ))
        .await
        .unwrap_err();
    let WhatsAppError::InvalidRecipient(g) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(g.code, Some(131026));
    assert_eq!(g.fbtrace_id.as_deref(), Some("AazXbT5yq9zQm7Lk2pR0Hn1"));
    assert!(err.to_string().contains("not on WhatsApp"), "{err}");
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::Permanent { .. }
    ));
    assert_eq!(effects(&graph), 0);
}

#[tokio::test]
async fn outside_the_window_only_a_template_goes() {
    let (base, graph) = stand_in().await;
    let wa = client(&base, TOKEN);
    let now = now_ms();

    // Never wrote: free-form is refused, as `choose` predicted.
    assert_eq!(choose(None, now, true), Choice::Template);
    let err = wa
        .send(&OutgoingMessage::text(CLIENT, "Hello", false))
        .await
        .unwrap_err();
    assert!(matches!(err, WhatsAppError::TemplateRequired(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Send a template: the client has not written in 24 h, so WhatsApp only accepts an approved template."
    );
    wa.send(&OutgoingMessage::template(
        CLIENT,
        "listing_showcase",
        "en_US",
        vec!["Dana".into()],
    ))
    .await
    .unwrap();

    // Wrote 25 h ago: still closed.
    let last = now - 25 * 3_600_000;
    graph.lock().unwrap().inbound.insert(CLIENT.into(), last);
    assert!(!window_open(Some(last), now));
    let err = wa
        .send(&OutgoingMessage::text(CLIENT, "Hello", false))
        .await
        .unwrap_err();
    assert!(matches!(err, WhatsAppError::TemplateRequired(_)));

    // Wrote an hour ago: free-form is fine.
    let last = now - 3_600_000;
    graph.lock().unwrap().inbound.insert(CLIENT.into(), last);
    assert_eq!(choose(Some(last), now, true), Choice::FreeForm);
    wa.send(&OutgoingMessage::text(CLIENT, "Hello", false))
        .await
        .unwrap();
    assert_eq!(effects(&graph), 2);
}

#[tokio::test]
async fn rate_limits_become_retry_later_and_hold_the_pacer() {
    let (base, graph) = stand_in().await;
    let wa = client(&base, TOKEN);
    let mut pacer = Pacer::default();
    let now = now_ms();

    let err = wa
        .send(&OutgoingMessage::template(
            PAIR_LIMITED,
            "listing_showcase",
            "en_US",
            vec![],
        ))
        .await
        .unwrap_err();
    let WhatsAppError::RetryLater { after, limit, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*limit, RateLimit::PairRate);
    assert_eq!(*after, Duration::from_secs(6));
    assert_eq!(
        err.to_string(),
        "WhatsApp is limiting messages to this client: retry in 6 s."
    );
    pacer.hold(Some(PAIR_LIMITED), now + after.as_millis() as Millis);
    assert_eq!(pacer.next_allowed(PAIR_LIMITED, now), now + 6_000);
    assert_eq!(pacer.next_allowed(CLIENT, now), now);

    // Throughput, with a wait named by the answer.
    graph
        .lock()
        .unwrap()
        .script
        .push_back(Scripted::Throughput {
            retry_after: Some(3),
        });
    let err = wa
        .send(&OutgoingMessage::template(CLIENT, "t", "en_US", vec![]))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        WhatsAppError::RetryLater {
            limit: RateLimit::Throughput,
            ..
        }
    ));
    let class = ConnectorError::from(err);
    assert_eq!(class.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(
        class.to_string(),
        "WhatsApp is limiting how fast this business number sends: retry in 3 s."
    );
    assert_eq!(effects(&graph), 0);
}

#[tokio::test]
async fn an_expired_token_needs_an_admin_and_never_shows() {
    let (base, graph) = stand_in().await;
    let wa = client(&base, EXPIRED);
    let err = wa
        .send(&OutgoingMessage::template(CLIENT, "t", "en_US", vec![]))
        .await
        .unwrap_err();
    let WhatsAppError::AuthExpired(g) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((g.status, g.code), (Some(401), Some(190)));
    // The stand-in quoted the token; the client kept only a redaction.
    assert!(g.message.contains("[redacted]"), "{}", g.message);
    assert!(!format!("{err:?}").contains(EXPIRED));
    assert!(!format!("{wa:?}").contains(EXPIRED));
    let class = ConnectorError::from(err);
    assert!(matches!(class, ConnectorError::NeedsAdmin { .. }));
    assert!(
        class
            .to_string()
            .contains("an admin must renew the WhatsApp token")
    );
    assert!(!class.to_string().contains(EXPIRED));
    assert_eq!(effects(&graph), 0);
}

#[tokio::test]
async fn server_errors_and_lost_connections_are_retryable() {
    let (base, graph) = stand_in().await;
    graph
        .lock()
        .unwrap()
        .inbound
        .insert(CLIENT.into(), now_ms());
    {
        let mut g = graph.lock().unwrap();
        g.script.push_back(Scripted::ServerError);
        g.script.push_back(Scripted::Unavailable);
    }
    let wa = client(&base, TOKEN);
    let msg = OutgoingMessage::text(CLIENT, "Hello", false);

    let err = wa.send(&msg).await.unwrap_err();
    assert!(matches!(&err, WhatsAppError::Unavailable(g) if g.code == Some(131000)));
    assert!(ConnectorError::from(err).retryable());
    // Not JSON at all.
    let err = wa.send(&msg).await.unwrap_err();
    assert!(matches!(&err, WhatsAppError::Unavailable(g) if g.status == Some(503)));
    assert!(err.to_string().contains("Service Unavailable"), "{err}");
    assert_eq!(effects(&graph), 0);
    // The retry goes through, once.
    wa.send(&msg).await.unwrap();
    assert_eq!(effects(&graph), 1);

    let gone = client(&closed_port().await, TOKEN);
    let err = gone.send(&msg).await.unwrap_err();
    assert!(matches!(err, WhatsAppError::Network(_)), "{err:?}");
    assert_eq!(ConnectorError::from(err).retry_after(), None);
}

/// The statuses Meta would post for a message the stand-in accepted come back to the same
/// wamid, through the signature check and the parser.
#[tokio::test]
async fn status_webhooks_name_the_sent_message() {
    let (base, graph) = stand_in().await;
    graph
        .lock()
        .unwrap()
        .inbound
        .insert(CLIENT.into(), now_ms());
    let sent = client(&base, TOKEN)
        .send(&OutgoingMessage::text(CLIENT, "Hello", false))
        .await
        .unwrap();
    let body = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "WABA", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": PHONE_ID },
            "statuses": [
                { "id": sent.wamid, "status": "delivered", "timestamp": "1700000005", "recipient_id": CLIENT },
                { "id": sent.wamid, "status": "read", "timestamp": "1700000009", "recipient_id": CLIENT }
            ]
        }}]}]
    }))
    .unwrap();
    let secret = b"app-secret";
    let header = format!("sha256={}", hmac_hex(secret, &body));
    verify_signature(secret, &body, Some(&header)).unwrap();
    let events = parse_webhook(&body).unwrap();
    assert_eq!(events.len(), 2);
    for e in &events {
        let roost_connectors::whatsapp::WebhookEvent::Status(s) = e else {
            panic!("{e:?}")
        };
        assert_eq!(s.wamid, sent.wamid);
        assert_eq!(s.phone_number_id.as_deref(), Some(PHONE_ID));
    }
}

fn hmac_hex(key: &[u8], body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
