//! WhatsApp webhooks over real HTTP: Meta's handshake, `X-Hub-Signature-256` on the raw body,
//! each event applied once, statuses moving the showcase's action (and reaching the agent's
//! devices through the change feed), inbound messages opening the 24-hour window.

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use roost_tests::{Resp, TestServer, on_both_backends};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::actions::{
    CLIENT_WA, Company, PHONE_ID, TOKEN, act, company, connect_whatsapp, effects, existing,
    showcase, whatsapp_standin,
};

on_both_backends!(
    the_handshake_and_signatures_are_checked,
    statuses_move_the_action_forward_and_reach_the_feed,
    a_status_that_beats_the_outcome_waits_for_it,
    an_inbound_message_opens_the_window,
    webhooks_stay_within_their_company,
);

const APP_SECRET: &str = "meta-app-secret";

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn payload(value: Value) -> Vec<u8> {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({ "display_phone_number": "15550001111", "phone_number_id": PHONE_ID });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "102290129340398", "changes": [{ "field": "messages", "value": value }] }],
    })
    .to_string()
    .into_bytes()
}

fn status(wamid: &str, status: &str) -> Vec<u8> {
    let mut s = json!({
        "id": wamid, "status": status, "timestamp": "1767225600", "recipient_id": CLIENT_WA,
    });
    if status == "failed" {
        s["errors"] = json!([{
            "code": 131026, "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": { "details": "Message failed to send because the recipient is not a WhatsApp user." },
        }]);
    }
    payload(json!({ "statuses": [s] }))
}

fn inbound(wamid: &str, from: &str, at_secs: i64) -> Vec<u8> {
    payload(json!({
        "contacts": [{ "profile": { "name": "Dana" }, "wa_id": from }],
        "messages": [{
            "from": from, "id": wamid, "timestamp": at_secs.to_string(),
            "type": "text", "text": { "body": "Hi, any villas?" },
        }],
    }))
}

async fn deliver(s: &TestServer, company: &str, body: &[u8], signature: Option<&str>) -> Resp {
    let mut req = s
        .req(
            Method::POST,
            &format!("/api/v1/webhooks/whatsapp/{company}"),
            None,
        )
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(sig) = signature {
        req = req.header("x-hub-signature-256", sig);
    }
    Resp::from(req.send().await.unwrap()).await
}

async fn signed(s: &TestServer, company: &str, body: &[u8]) -> Resp {
    deliver(s, company, body, Some(&sign(APP_SECRET, body))).await
}

async fn action(s: &TestServer, token: &str, id: &str) -> Value {
    let r = s.get(&format!("/api/v1/actions/{id}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// The agent's own actions in the change feed after `since`, and the new cursor.
async fn feed_actions(s: &TestServer, token: &str, since: i64) -> (Vec<Value>, i64) {
    let mut cursor = since;
    let mut actions = Vec::new();
    loop {
        let r = s
            .get(
                &format!("/api/v1/sync/changes?since={cursor}&limit=1000"),
                token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for c in r.body["changes"].as_array().unwrap() {
            if c["kind"] == "action" {
                actions.push(c["action"].clone());
            }
        }
        cursor = r.body["next_cursor"].as_i64().unwrap();
        if !r.body["has_more"].as_bool().unwrap() {
            return (actions, cursor);
        }
    }
}

async fn send_one(s: &TestServer, c: &Company, key: &str) -> Value {
    let body = showcase(
        existing(&c.clients["C-1"]),
        &[&c.listings[0]],
        "A villa for you",
    );
    let r = act(s, &c.agent.access, key, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "delivered");
    r.body
}

async fn the_handshake_and_signatures_are_checked(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let verify = |slug: &str, token: &str| {
        format!(
            "/api/v1/webhooks/whatsapp/{slug}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        )
    };
    // Not connected yet: nothing to verify against.
    let r = s
        .call(
            Method::GET,
            &verify("alpha", "verify-me-please"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &c, &wa.base, TOKEN).await;

    let r = s
        .req(Method::GET, &verify("alpha", "verify-me-please"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = s
        .call(Method::GET, &verify("alpha", "guessed"), None, None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = s
        .call(
            Method::GET,
            &verify("nobody", "verify-me-please"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let sent = send_one(&s, &c, "key-webhook-0001").await;
    let id = sent["id"].as_str().unwrap();
    let wamid = sent["external_id"].as_str().unwrap();
    let read = status(wamid, "read");

    // Missing, malformed, under another secret, or over another body: refused, no effect.
    let r = deliver(&s, "alpha", &read, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing")
    );
    let r = deliver(&s, "alpha", &read, Some("sha1=abc")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = deliver(&s, "alpha", &read, Some(&sign("another-secret", &read))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let delivered = status(wamid, "delivered");
    let r = deliver(&s, "alpha", &read, Some(&sign(APP_SECRET, &delivered))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(action(&s, &c.agent.access, id).await["status"], "delivered");

    // Valid: applied. A signed body that is not JSON is refused after the check.
    let r = signed(&s, "alpha", &read).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let after = action(&s, &c.agent.access, id).await;
    assert_eq!(after["status"], "read");
    let r = signed(&s, "alpha", b"not json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    // Replayed: answered 200 (Meta would retry anything else), nothing applied twice.
    let audit_before = s
        .get("/api/v1/audit?limit=500", &c.t.admin.access)
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .len();
    for _ in 0..3 {
        let r = signed(&s, "alpha", &read).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let audit_after = s
        .get("/api/v1/audit?limit=500", &c.t.admin.access)
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(audit_before, audit_after, "a replay wrote to the audit log");
    assert_eq!(action(&s, &c.agent.access, id).await, after);
    assert_eq!(effects(&graph), 1);
}

async fn statuses_move_the_action_forward_and_reach_the_feed(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let (wa, _graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &c, &wa.base, TOKEN).await;
    let (_, cursor) = feed_actions(&s, &c.agent.access, 0).await;
    let sent = send_one(&s, &c, "key-status-0001").await;
    let id = sent["id"].as_str().unwrap();
    let wamid = sent["external_id"].as_str().unwrap();

    // The outcome is in the agent's feed; nobody else's.
    let (seen, cursor) = feed_actions(&s, &c.agent.access, cursor).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["id"], id);
    assert_eq!(seen[0]["status"], "delivered");
    assert!(feed_actions(&s, &c.agent2.access, 0).await.0.is_empty());
    assert!(feed_actions(&s, &c.manager.access, 0).await.0.is_empty());

    // sent → delivered → read, each once; a late "delivered" and a "failed" after "read"
    // change nothing.
    for st in ["sent", "delivered"] {
        assert_eq!(
            signed(&s, "alpha", &status(wamid, st)).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(action(&s, &c.agent.access, id).await["status"], "delivered");
    assert_eq!(
        signed(&s, "alpha", &status(wamid, "read")).await.status,
        StatusCode::OK
    );
    let (seen, cursor) = feed_actions(&s, &c.agent.access, cursor).await;
    assert_eq!(seen.last().unwrap()["status"], "read", "{seen:?}");
    assert_eq!(
        signed(&s, "alpha", &status(wamid, "failed")).await.status,
        StatusCode::OK
    );
    let (seen, cursor) = feed_actions(&s, &c.agent.access, cursor).await;
    assert!(
        seen.is_empty(),
        "an older status moved the action: {seen:?}"
    );
    assert_eq!(action(&s, &c.agent.access, id).await["status"], "read");

    // A message WhatsApp could not deliver after accepting it: failed, with a reason.
    let body = showcase(
        json!({ "type": "new", "name": "Ola Other", "phone": "+971 50 666 1111" }),
        &[&c.listings[1]],
        "Another villa",
    );
    let other = act(&s, &c.agent.access, "key-status-0002", &body)
        .await
        .body;
    assert_eq!(other["status"], "delivered", "{other}");
    let other_id = other["id"].as_str().unwrap();
    let r = signed(
        &s,
        "alpha",
        &status(other["external_id"].as_str().unwrap(), "failed"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let failed = action(&s, &c.agent.access, other_id).await;
    assert_eq!(failed["status"], "failed");
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.contains("WhatsApp"), "{reason}");
    let (seen, _) = feed_actions(&s, &c.agent.access, cursor).await;
    assert_eq!(
        seen.iter().rfind(|a| a["id"] == other_id).unwrap()["status"],
        "failed"
    );
    let audit = crate::actions::audit_actions(&s, &c, other_id).await;
    assert!(audit.contains(&"action.failed".to_string()), "{audit:?}");
}

async fn a_status_that_beats_the_outcome_waits_for_it(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &c, &wa.base, TOKEN).await;
    // WhatsApp's "read" arrives before the server stored the message's id.
    let early = "wamid.HBgMEARLY0001";
    assert_eq!(
        signed(&s, "alpha", &status(early, "read")).await.status,
        StatusCode::OK
    );
    graph.lock().unwrap().next_wamid = Some(early.to_string());
    let sent = send_one_status(&s, &c).await;
    assert_eq!(sent["external_id"], early);
    assert_eq!(sent["status"], "read", "{sent}");
    // Applied once: a redelivery does not move it again.
    assert_eq!(
        signed(&s, "alpha", &status(early, "read")).await.status,
        StatusCode::OK
    );
    let audit = crate::actions::audit_actions(&s, &c, sent["id"].as_str().unwrap()).await;
    assert_eq!(
        audit.iter().filter(|a| *a == "action.status").count(),
        1,
        "{audit:?}"
    );
}

async fn send_one_status(s: &TestServer, c: &Company) -> Value {
    let body = showcase(
        existing(&c.clients["C-1"]),
        &[&c.listings[0]],
        "A villa for you",
    );
    let r = act(s, &c.agent.access, "key-early-0001", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn an_inbound_message_opens_the_window(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &c, &wa.base, TOKEN).await;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // A message from two days ago does not open it: the showcase goes as the template.
    assert_eq!(
        signed(
            &s,
            "alpha",
            &inbound("wamid.IN0001", CLIENT_WA, now_s - 2 * 86_400)
        )
        .await
        .status,
        StatusCode::OK
    );
    send_one(&s, &c, "key-window-0001").await;
    assert_eq!(graph.lock().unwrap().accepted[0]["type"], "template");

    // Another client writes now: a showcase to them is the agent's own text (the pacing of
    // one message per 6 s to the same number does not hold it).
    let fresh = "971507778888";
    graph.lock().unwrap().wrote.insert(fresh.to_string());
    assert_eq!(
        signed(&s, "alpha", &inbound("wamid.IN0002", fresh, now_s - 60))
            .await
            .status,
        StatusCode::OK
    );
    // An older message delivered late does not close it again.
    assert_eq!(
        signed(
            &s,
            "alpha",
            &inbound("wamid.IN0003", fresh, now_s - 3 * 86_400)
        )
        .await
        .status,
        StatusCode::OK
    );
    let body = showcase(
        json!({ "type": "new", "name": "Nia New", "phone": "+971 50 777 8888" }),
        &[&c.listings[0]],
        "A villa for you",
    );
    let r = act(&s, &c.agent.access, "key-window-0002", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "delivered", "{}", r.body);
    let second = graph.lock().unwrap().accepted[1].clone();
    assert_eq!(second["type"], "text", "{second}");
    assert!(
        second["text"]["body"]
            .as_str()
            .unwrap()
            .starts_with("A villa for you"),
        "{second}"
    );
}

async fn webhooks_stay_within_their_company(s: TestServer) {
    let a = company(&s, "Alpha Realty", "alpha").await;
    let b = company(&s, "Beta Homes", "beta").await;
    let (wa, _graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &a, &wa.base, TOKEN).await;
    let (wb, _graph_b) = whatsapp_standin().await;
    let r = s
        .call(
            Method::PUT,
            "/api/v1/integrations/whatsapp",
            Some(&b.t.admin.access),
            Some(json!({
                "phone_number_id": PHONE_ID, "access_token": TOKEN, "base_url": wb.base,
                "app_secret": "beta-app-secret", "template_name": "roost_showcase",
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let sent = send_one(&s, &a, "key-iso-0001").await;
    let id = sent["id"].as_str().unwrap();
    let read = status(sent["external_id"].as_str().unwrap(), "read");

    // B's secret does not sign for A; B's own webhook never reaches A's action.
    let r = deliver(&s, "alpha", &read, Some(&sign("beta-app-secret", &read))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = deliver(&s, "beta", &read, Some(&sign("beta-app-secret", &read))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(action(&s, &a.agent.access, id).await["status"], "delivered");
    // B has no verify token: its handshake is refused whatever is sent.
    let r = s
        .call(
            Method::GET,
            "/api/v1/webhooks/whatsapp/beta?hub.mode=subscribe&hub.verify_token=&hub.challenge=1",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // A's own delivery still applies, once.
    assert_eq!(signed(&s, "alpha", &read).await.status, StatusCode::OK);
    assert_eq!(action(&s, &a.agent.access, id).await["status"], "read");
}
