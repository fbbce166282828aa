//! A stand-in for the WhatsApp Business Cloud API on 127.0.0.1:0 (on [`StandIn`]): it checks
//! the documented request shape and token, keeps every message it accepts (the effects a test
//! counts), and answers with the documented success and error bodies — "not a WhatsApp user",
//! the pair and throughput rate limits, and the 24-hour window (free-form text only to
//! numbers a test marks as having written to the business, templates to anyone).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TestServer;
use crate::llm_standin::{Recorded, Reply, StandIn};

/// The business phone number's id the stand-in serves.
pub const PHONE_ID: &str = "106540352242922";
/// The only access token it accepts.
pub const TOKEN: &str = "EAAGm0PX4ZCpsBAvalid-token-1234";
/// A number the stand-in says is not on WhatsApp.
pub const NOT_ON_WHATSAPP: &str = "971509999999";
/// A number answered once with the pair rate limit (131056).
pub const PAIR_LIMITED: &str = "971505555555";
/// The template the company is set up with.
pub const TEMPLATE: &str = "roost_showcase";
/// An approved template with an image header (and the same two body values).
pub const PHOTO_TEMPLATE: &str = "roost_photo_showcase";

/// What the stand-in has seen and how it should answer next.
#[derive(Default)]
pub struct Graph {
    /// Every message accepted: the effects.
    pub accepted: Vec<Value>,
    pub not_on_whatsapp: HashSet<String>,
    /// Numbers answered once with 131056 (pair rate limit).
    pub pair_limited_once: HashSet<String>,
    /// Answer the next request with 130429 (throughput).
    pub throughput_once: bool,
    /// Hold the next accepted message's answer until notified.
    pub gate: Option<Arc<tokio::sync::Notify>>,
    /// Numbers that wrote to the business: free-form messages reach them.
    pub wrote: HashSet<String>,
    /// The id the next accepted message gets, instead of a counter.
    pub next_wamid: Option<String>,
}

/// A Graph API error body as Meta documents it.
pub fn graph_error(status: u16, code: i64, message: &str, details: &str) -> Reply {
    Reply::json(
        status,
        json!({ "error": {
            "message": message, "type": "OAuthException", "code": code,
            "error_data": { "messaging_product": "whatsapp", "details": details },
            "fbtrace_id": "AazXbT5yq9zQm7Lk2pR0Hn1",
        }}),
    )
}

/// The stand-in's answer to one request.
pub fn graph_answer(g: &Mutex<Graph>, r: &Recorded) -> Reply {
    let mut g = g.lock().unwrap();
    if r.method != "POST" || r.path != format!("/v21.0/{PHONE_ID}/messages") {
        return graph_error(
            400,
            100,
            "Unsupported post request.",
            "Object does not exist",
        );
    }
    if r.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return graph_error(
            401,
            190,
            "Error validating access token: Session has expired.",
            "",
        );
    }
    if std::mem::take(&mut g.throughput_once) {
        return graph_error(
            400,
            130429,
            "(#130429) Rate limit hit",
            "Cloud API message throughput has been reached.",
        )
        .with_header("retry-after", "1");
    }
    let b = &r.body;
    let to = b["to"].as_str().unwrap_or_default().to_string();
    let kind = b["type"].as_str().unwrap_or_default();
    let shape_ok = b["messaging_product"] == "whatsapp"
        && b["recipient_type"] == "individual"
        && !to.is_empty()
        && to.bytes().all(|c| c.is_ascii_digit())
        && match kind {
            "text" => b["text"]["body"].as_str().is_some_and(|t| !t.is_empty()),
            "template" => {
                b["template"]["name"].is_string() && b["template"]["language"]["code"].is_string()
            }
            _ => false,
        };
    if !shape_ok {
        return graph_error(400, 100, "(#100) Invalid parameter", "bad body");
    }
    // Meta checks a template's values against the approved one: this one needs its image.
    if kind == "template" && b["template"]["name"] == PHOTO_TEMPLATE {
        let header = b["template"]["components"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == "header");
        let image = header.and_then(|h| h["parameters"][0]["image"]["link"].as_str());
        if !image.is_some_and(|l| l.starts_with("http")) {
            return graph_error(
                400,
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                "header: Format mismatch, expected IMAGE, received UNKNOWN",
            );
        }
    }
    if g.not_on_whatsapp.contains(&to) {
        return graph_error(
            400,
            131026,
            "(#131026) Message Undeliverable",
            "Message failed to send because the recipient is not a WhatsApp user.",
        );
    }
    if g.pair_limited_once.remove(&to) {
        return graph_error(
            400,
            131056,
            "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "Too many messages sent from this phone number to the same phone number in a short period of time.",
        )
        .with_header("retry-after", "1");
    }
    // Only numbers that wrote in the last 24 hours get free-form messages.
    if kind != "template" && !g.wrote.contains(&to) {
        return graph_error(
            400,
            131047,
            "(#131047) Re-engagement message",
            "More than 24 hours have passed since the customer last replied to this number.",
        );
    }
    g.accepted.push(b.clone());
    let wamid = g
        .next_wamid
        .take()
        .unwrap_or_else(|| format!("wamid.HBgM{:04}", g.accepted.len()));
    let body = json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": wamid }],
    })
    .to_string();
    match g.gate.take() {
        Some(gate) => Reply::Gated {
            first: vec![],
            gate,
            rest: vec![body],
        },
        None => Reply::json(200, serde_json::from_str(&body).unwrap()),
    }
}

/// Starts the stand-in, with [`NOT_ON_WHATSAPP`] and [`PAIR_LIMITED`] set up.
pub async fn whatsapp_standin() -> (StandIn, Arc<Mutex<Graph>>) {
    let graph: Arc<Mutex<Graph>> = Arc::default();
    {
        let mut g = graph.lock().unwrap();
        g.not_on_whatsapp.insert(NOT_ON_WHATSAPP.into());
        g.pair_limited_once.insert(PAIR_LIMITED.into());
    }
    let g = graph.clone();
    let standin = StandIn::start(move |r| graph_answer(&g, r)).await;
    (standin, graph)
}

/// Messages the stand-in accepted so far.
pub fn effects(g: &Mutex<Graph>) -> usize {
    g.lock().unwrap().accepted.len()
}

/// Connects a company's WhatsApp to the stand-in at `base` (as its admin, `admin_access`),
/// with `token` and the [`TEMPLATE`] template.
pub async fn connect_whatsapp(s: &TestServer, admin_access: &str, base: &str, token: &str) {
    let r = s
        .call(
            Method::PUT,
            "/api/v1/integrations/whatsapp",
            Some(admin_access),
            Some(json!({
                "phone_number_id": PHONE_ID, "access_token": token, "api_version": "v21.0",
                "base_url": base, "app_secret": "meta-app-secret",
                "template_name": TEMPLATE, "template_language": "en_US",
                "webhook_verify_token": "verify-me-please",
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
}
