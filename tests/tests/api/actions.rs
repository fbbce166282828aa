//! Actions over real HTTP: WhatsApp showcases and leads performed once per idempotency key,
//! against loopback stand-ins of the WhatsApp Cloud API and HubSpot that record every effect
//! and answer with the documented success and error bodies.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use roost_tests::llm_standin::{Recorded, Reply, StandIn};
pub(crate) use roost_tests::whatsapp_standin::{
    NOT_ON_WHATSAPP, PAIR_LIMITED, PHONE_ID, PHOTO_TEMPLATE, TOKEN, effects, whatsapp_standin,
};
use roost_tests::{Resp, Session, Tenant, TestServer, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_showcase_is_sent_once_per_key,
    concurrent_duplicates_perform_once,
    a_stale_claim_is_taken_over_once,
    whatsapp_failures_end_as_the_agent_can_act_on,
    leads_reach_roost_and_hubspot_once,
    an_email_showcase_reaches_the_mail_server_once,
    leads_reach_a_signed_webhook_crm_once,
    a_showcase_carries_photo_links_a_client_can_open,
    a_template_showcase_shows_the_first_photo_a_client_can_open,
    whatsapp_settings_saved_again_keep_the_verify_token,
    agents_act_only_for_their_clients_and_tenant,
);

const CLIENT_PHONE: &str = "+971 50 123 4567";
pub(crate) const CLIENT_WA: &str = "971501234567";
const HS_TOKEN: &str = "pat-na1-11111111-2222-3333-4444-555555555555";

// ---- HubSpot stand-in --------------------------------------------------------------------

enum HsScript {
    RateLimited,
    /// Store the upsert, then lose the answer (the body is cut).
    CommitThenCut,
}

#[derive(Default)]
struct Portal {
    /// (object, roost id) → (hubspot id, properties)
    objects: BTreeMap<(String, String), (String, Value)>,
    created: usize,
    associations: usize,
    script: VecDeque<HsScript>,
}

fn hs_answer(p: &Mutex<Portal>, r: &Recorded) -> Reply {
    let mut p = p.lock().unwrap();
    if r.header("authorization") != Some(&format!("Bearer {HS_TOKEN}")) {
        return Reply::json(
            401,
            json!({ "status": "error", "message": "Authentication credentials not found.",
                    "category": "INVALID_AUTHENTICATION" }),
        );
    }
    if r.method == "PUT" && r.path.starts_with("/crm/v4/objects/deals/") {
        p.associations += 1;
        return Reply::json(200, json!({ "status": "COMPLETE", "results": [] }));
    }
    let object = match r.path.as_str() {
        "/crm/v3/objects/contacts/batch/upsert" => "contacts",
        "/crm/v3/objects/deals/batch/upsert" => "deals",
        _ => {
            return Reply::json(
                404,
                json!({ "status": "error", "message": "no route", "category": "OBJECT_NOT_FOUND" }),
            );
        }
    };
    let script = p.script.pop_front();
    if let Some(HsScript::RateLimited) = script {
        return Reply::json(
            429,
            json!({ "status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING" }),
        )
        .with_header("retry-after", "1");
    }
    let mut results = Vec::new();
    for input in r.body["inputs"].as_array().cloned().unwrap_or_default() {
        let key = input["id"].as_str().unwrap_or_default().to_string();
        let slot = (object.to_string(), key);
        let new = !p.objects.contains_key(&slot);
        if new {
            p.created += 1;
            let id = format!("{}", 51_000 + p.created);
            p.objects.insert(slot.clone(), (id, json!({})));
        }
        let entry = p.objects.get_mut(&slot).unwrap();
        entry.1 = input["properties"].clone();
        results.push(json!({ "id": entry.0, "properties": entry.1, "new": new }));
    }
    let body = json!({ "status": "COMPLETE", "results": results }).to_string();
    if let Some(HsScript::CommitThenCut) = script {
        // The answer breaks off after a few bytes: the client cannot tell what happened.
        return Reply::Events(vec![body[..12].to_string()]);
    }
    Reply::json(200, serde_json::from_str(&body).unwrap())
}

async fn hubspot_standin() -> (StandIn, Arc<Mutex<Portal>>) {
    let portal: Arc<Mutex<Portal>> = Arc::default();
    let p = portal.clone();
    let standin = StandIn::start(move |r| hs_answer(&p, r)).await;
    (standin, portal)
}

// ---- setup -------------------------------------------------------------------------------

pub(crate) struct Company {
    pub(crate) t: Tenant,
    pub(crate) manager: Session,
    pub(crate) agent: Session,
    pub(crate) agent2: Session,
    /// Listing ids L-0001…
    pub(crate) listings: Vec<String>,
    /// Client ids by external ref: C-1 (agent, CLIENT_PHONE), C-2 (agent2), C-3 (agent, pair limited).
    pub(crate) clients: BTreeMap<String, String>,
}

pub(crate) async fn company(s: &TestServer, name: &str, slug: &str) -> Company {
    let t = s.register(name, slug, "professional").await;
    let (_, manager) = s
        .add_user(&t, &format!("manager@{slug}.test"), &["manager"])
        .await;
    let (_, agent) = s
        .add_user(&t, &format!("agent@{slug}.test"), &["agent"])
        .await;
    let (_, agent2) = s
        .add_user(&t, &format!("agent2@{slug}.test"), &["agent"])
        .await;
    let r = s
        .import(
            &t.admin.access,
            "l.csv",
            roost_tests::listings_csv(3).into(),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut all = s.all_listings(&t.admin.access).await;
    all.sort_by_key(|l| l["external_id"].as_str().unwrap().to_string());
    let listings = all
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    let csv = format!(
        "Ref,Name,Email,Phone,Agent Email\n\
         C-1,Dana Client,dana@example.com,{CLIENT_PHONE},agent@{slug}.test\n\
         C-2,Omar Other,omar@example.com,+971 50 222 3333,agent2@{slug}.test\n\
         C-3,Pia Paced,pia@example.com,+{PAIR_LIMITED},agent@{slug}.test\n"
    );
    let r = s
        .import(&t.admin.access, "c.csv", csv.into(), "kind=clients")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut clients = BTreeMap::new();
    for c in s
        .get("/api/v1/clients", &t.admin.access)
        .await
        .body
        .as_array()
        .unwrap()
    {
        // Imports keep the normalised number on the record (devices check it offline).
        if c["external_id"] == "C-1" {
            assert_eq!(c["phone"], "+971501234567", "{c}");
        }
        clients.insert(
            c["external_id"].as_str().unwrap().to_string(),
            c["id"].as_str().unwrap().to_string(),
        );
    }
    assert_eq!(clients.len(), 3);
    Company {
        t,
        manager,
        agent,
        agent2,
        listings,
        clients,
    }
}

pub(crate) async fn connect_whatsapp(s: &TestServer, c: &Company, base: &str, token: &str) {
    roost_tests::whatsapp_standin::connect_whatsapp(s, &c.t.admin.access, base, token).await;
}

pub(crate) async fn act(s: &TestServer, token: &str, key: &str, body: &Value) -> Resp {
    let r = s
        .req(Method::POST, "/api/v1/actions", Some(token))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    Resp::from(r).await
}

pub(crate) fn showcase(client: Value, listings: &[&String], message: &str) -> Value {
    json!({
        "kind": "send_showcase", "channel": "whatsapp", "client": client,
        "listings": listings, "message": message,
    })
}

pub(crate) fn existing(id: &str) -> Value {
    json!({ "type": "existing", "id": id })
}

pub(crate) async fn audit_actions(s: &TestServer, c: &Company, target: &str) -> Vec<String> {
    let audit = s.get("/api/v1/audit?limit=500", &c.t.admin.access).await;
    audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target_id"] == target)
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

// ---- tests -------------------------------------------------------------------------------

async fn a_showcase_is_sent_once_per_key(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &c, &wa.base, TOKEN).await;
    let body = showcase(
        existing(&c.clients["C-1"]),
        &[&c.listings[0], &c.listings[1]],
        "Two villas you will like",
    );

    // The key is required and checked.
    let r = s
        .post("/api/v1/actions", Some(&c.agent.access), body.clone())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.field(), Some("Idempotency-Key"));
    let r = act(&s, &c.agent.access, "short", &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Email is not connected for this company: recorded as failed, with what to do.
    let mut email = body.clone();
    email["channel"] = json!("email");
    let r = act(&s, &c.agent.access, "key-email-0001", &email).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "failed");
    assert!(
        r.body["reason"]
            .as_str()
            .unwrap()
            .contains("Email is not connected"),
        "{}",
        r.body
    );

    let first = act(&s, &c.agent.access, "key-showcase-0001", &body).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["status"], "delivered");
    assert_eq!(first.body["client_id"], c.clients["C-1"].as_str());
    assert!(
        first.body["external_id"]
            .as_str()
            .unwrap()
            .starts_with("wamid.")
    );
    assert_eq!(effects(&graph), 1);
    // Nobody wrote in 24 h: the approved template with the client's name and the count.
    let sent = graph.lock().unwrap().accepted[0].clone();
    assert_eq!(sent["to"], CLIENT_WA);
    assert_eq!(sent["template"]["name"], "roost_showcase");
    assert_eq!(sent["template"]["language"]["code"], "en_US");
    let params: Vec<&str> = sent["template"]["components"][0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["Dana Client", "2"]);

    // A repeat answers the same record and sends nothing.
    let again = act(&s, &c.agent.access, "key-showcase-0001", &body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body);
    assert_eq!(effects(&graph), 1);
    // The same key for another request is refused.
    let mut other = body.clone();
    other["message"] = json!("Something else");
    let r = act(&s, &c.agent.access, "key-showcase-0001", &other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("idempotency key reused with another request")
    );
    assert_eq!(effects(&graph), 1);
    // Keys are per user: the same key from the manager is the manager's own action.
    let for_omar = showcase(existing(&c.clients["C-2"]), &[&c.listings[0]], "Hello Omar");
    let r = act(&s, &c.manager.access, "key-showcase-0001", &for_omar).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_ne!(r.body["id"], first.body["id"]);
    assert_eq!(effects(&graph), 2);

    // A different key is another showcase: to a new client, who joins Roost's records.
    let new_client = json!({ "type": "new", "name": "Nia New", "phone": "+44 7700 900123" });
    let second = act(
        &s,
        &c.agent.access,
        "key-showcase-0002",
        &showcase(new_client, &[&c.listings[2]], "One more"),
    )
    .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(effects(&graph), 3);
    let nia = second.body["client_id"].as_str().unwrap().to_string();
    let feed = s
        .get("/api/v1/sync/changes?since=0&limit=2000", &c.agent.access)
        .await;
    assert!(
        feed.body.to_string().contains(&nia),
        "the new client syncs to its agent"
    );
    let feed2 = s
        .get("/api/v1/sync/changes?since=0&limit=2000", &c.agent2.access)
        .await;
    // Other agents get at most a removal of an id they never had, never the client.
    assert!(
        !feed2.body.to_string().contains("Nia New"),
        "and not to other agents: {}",
        feed2.body
    );

    // The company re-imports its client list as the whole list: clients the file lacks go,
    // but not the one an agent created in the app, which no company file has.
    let csv = "Ref,Name,Email,Phone,Agent Email\n\
               C-1,Dana Client,dana@example.com,+971501234567,agent@alpha.test\n\
               C-2,Omar Other,omar@example.com,+971 50 222 3333,agent2@alpha.test\n";
    let r = s
        .import(
            &c.t.admin.access,
            "c.csv",
            csv.into(),
            "kind=clients&mode=replace",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["stored"]["deleted"], 1, "C-3 only: {}", r.body);
    let names: Vec<String> = s
        .get("/api/v1/clients", &c.t.admin.access)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"Nia New".to_string()), "{names:?}");
    assert!(!names.contains(&"Pia Paced".to_string()), "{names:?}");

    // The caller's actions, newest first, in pages; each by id.
    let list = s.get("/api/v1/actions?limit=1", &c.agent.access).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["actions"][0]["id"], second.body["id"]);
    let next = list.body["next_before"].as_str().unwrap();
    let older = s
        .get(
            &format!("/api/v1/actions?limit=5&before={next}"),
            &c.agent.access,
        )
        .await;
    // The first and the failed email before it.
    assert_eq!(older.body["actions"].as_array().unwrap().len(), 2);
    assert_eq!(older.body["actions"][0]["id"], first.body["id"]);
    assert!(older.body["next_before"].is_null());
    let one = s
        .get(
            &format!("/api/v1/actions/{}", first.body["id"].as_str().unwrap()),
            &c.agent.access,
        )
        .await;
    assert_eq!(one.body, first.body);
    // Another user of the tenant sees only their own.
    let theirs = s.get("/api/v1/actions", &c.manager.access).await;
    assert_eq!(theirs.body["actions"].as_array().unwrap().len(), 1);
    let r = s
        .get(
            &format!("/api/v1/actions/{}", first.body["id"].as_str().unwrap()),
            &c.agent2.access,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The audit log has the action and its outcome; never the token.
    let id = first.body["id"].as_str().unwrap();
    let events = audit_actions(&s, &c, id).await;
    assert!(events.contains(&"action.created".to_string()), "{events:?}");
    assert!(
        events.contains(&"action.delivered".to_string()),
        "{events:?}"
    );
    let audit = s.get("/api/v1/audit?limit=500", &c.t.admin.access).await;
    assert!(!audit.body.to_string().contains(TOKEN));
    assert!(audit.body.to_string().contains("client.created"));
}

async fn concurrent_duplicates_perform_once(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &c, &wa.base, TOKEN).await;
    // The first request's answer from WhatsApp waits until the others have been answered.
    let gate = Arc::new(tokio::sync::Notify::new());
    graph.lock().unwrap().gate = Some(gate.clone());
    let body = showcase(existing(&c.clients["C-1"]), &[&c.listings[0]], "Hello");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (base, token, body) = (s.base.clone(), c.agent.access.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/api/v1/actions"))
                .bearer_auth(token)
                .header("idempotency-key", "same-key-for-all-8")
                .json(&body)
                .send()
                .await
                .unwrap();
            Resp::from(r).await
        }));
    }
    // Release the one effect once 7 requests were turned away (or after a while).
    for _ in 0..100 {
        if tasks.iter().filter(|t| t.is_finished()).count() >= 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gate.notify_one();
    let mut records = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::OK => records.push(r.body),
            StatusCode::CONFLICT => {
                assert_eq!(r.header("retry-after"), Some("2"));
                assert_eq!(r.code(), "conflict");
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert!(!records.is_empty());
    assert!(records.iter().all(|r| r == &records[0]));
    assert_eq!(records[0]["status"], "delivered");
    assert_eq!(effects(&graph), 1, "one effect for eight requests");
    // The turned-away ones retry later and get the same record.
    let r = act(&s, &c.agent.access, "same-key-for-all-8", &body).await;
    assert_eq!(r.body, records[0]);
    assert_eq!(effects(&graph), 1);
}

/// The server died mid-effect (here: its claim is made 6 minutes old while WhatsApp holds
/// the answer): a retry takes the claim over and sends again — the documented resend, as the
/// Cloud API has no idempotency key — and the late first attempt changes nothing.
async fn a_stale_claim_is_taken_over_once(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &c, &wa.base, TOKEN).await;
    let gate = Arc::new(tokio::sync::Notify::new());
    graph.lock().unwrap().gate = Some(gate.clone());
    let body = showcase(existing(&c.clients["C-1"]), &[&c.listings[0]], "Hello");
    let first = {
        let (base, token, body) = (s.base.clone(), c.agent.access.clone(), body.clone());
        tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/api/v1/actions"))
                .bearer_auth(token)
                .header("idempotency-key", "key-stale-00001")
                .json(&body)
                .send()
                .await
                .unwrap();
            Resp::from(r).await
        })
    };
    for _ in 0..200 {
        if effects(&graph) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(effects(&graph), 1);
    // While the claim is fresh, a retry waits.
    let r = act(&s, &c.agent.access, "key-stale-00001", &body).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Six minutes pass (the claim's server is gone).
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&s.database_url).await.unwrap();
        sqlx::query(
            "UPDATE actions SET claimed_at = claimed_at - 360000 WHERE idempotency_key = $1",
        )
        .bind("key-stale-00001")
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let taken = act(&s, &c.agent.access, "key-stale-00001", &body).await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
    assert_eq!(taken.body["status"], "delivered");
    assert_eq!(effects(&graph), 2, "the documented resend");
    // The first attempt ends late: it finds its claim taken and changes nothing.
    gate.notify_one();
    let late = first.await.unwrap();
    assert_eq!(late.status, StatusCode::OK, "{}", late.body);
    assert_eq!(late.body, taken.body);
    let again = act(&s, &c.agent.access, "key-stale-00001", &body).await;
    assert_eq!(again.body, taken.body);
    assert_eq!(effects(&graph), 2);
    let events = audit_actions(&s, &c, taken.body["id"].as_str().unwrap()).await;
    assert_eq!(
        events.iter().filter(|e| *e == "action.delivered").count(),
        1,
        "{events:?}"
    );
}

async fn whatsapp_failures_end_as_the_agent_can_act_on(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &c, &wa.base, TOKEN).await;

    // Not on WhatsApp: failed with the sentence; a repeat returns it without a request.
    let body = showcase(
        json!({ "type": "new", "name": "Ned Nowhere", "phone": format!("+{NOT_ON_WHATSAPP}") }),
        &[&c.listings[0]],
        "Hi",
    );
    let r = act(&s, &c.agent.access, "key-invalid-0001", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "failed");
    let reason = r.body["reason"].as_str().unwrap();
    assert!(reason.contains("not on WhatsApp"), "{reason}");
    let requests = wa.requests().len();
    let again = act(&s, &c.agent.access, "key-invalid-0001", &body).await;
    assert_eq!(again.body, r.body);
    assert_eq!(wa.requests().len(), requests);
    let events = audit_actions(&s, &c, r.body["id"].as_str().unwrap()).await;
    assert!(events.contains(&"action.failed".to_string()), "{events:?}");

    // Pair rate limit (131056): 503 with Retry-After and the record; the retry goes once.
    let body = showcase(existing(&c.clients["C-3"]), &[&c.listings[0]], "Hi");
    let r = act(&s, &c.agent.access, "key-paired-0001", &body).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.body["status"], "sending");
    assert_eq!(r.body["retry_after_s"], 1);
    assert!(r.body["reason"].as_str().unwrap().contains("retry in 1 s"));
    assert_eq!(effects(&graph), 0);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let done = act(&s, &c.agent.access, "key-paired-0001", &body).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["status"], "delivered");
    assert_eq!(done.body["id"], r.body["id"]);
    assert!(done.body["reason"].is_null());
    assert_eq!(effects(&graph), 1);
    let again = act(&s, &c.agent.access, "key-paired-0001", &body).await;
    assert_eq!(again.body, done.body);
    assert_eq!(effects(&graph), 1);

    // Throughput (130429) holds the whole number, then the retry succeeds once.
    graph.lock().unwrap().throughput_once = true;
    let body = showcase(existing(&c.clients["C-1"]), &[&c.listings[1]], "Hi");
    let r = act(&s, &c.agent.access, "key-throughput-1", &body).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let done = act(&s, &c.agent.access, "key-throughput-1", &body).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(effects(&graph), 2);
    // The same client again right away is paced (one message per 6 s), not sent.
    let body = showcase(existing(&c.clients["C-1"]), &[&c.listings[2]], "And this");
    let r = act(&s, &c.agent.access, "key-paced-00001", &body).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(effects(&graph), 2);

    // An expired token: failed, asking an admin; the token never shows.
    connect_whatsapp(&s, &c, &wa.base, "EAAGexpired-token-9876").await;
    let body = showcase(
        json!({ "type": "new", "name": "Eve Expired", "phone": "+971 50 444 5555" }),
        &[&c.listings[2]],
        "Hi",
    );
    let r = act(&s, &c.agent.access, "key-expired-0001", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "failed");
    assert!(
        r.body["reason"].as_str().unwrap().contains("an admin must"),
        "{}",
        r.body
    );
    assert!(!r.body.to_string().contains("expired-token"));
    assert_eq!(effects(&graph), 2);
}

async fn leads_reach_roost_and_hubspot_once(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    // No CRM: the Roost client record is the CRM.
    let lead = json!({ "kind": "create_lead", "lead": {
        "name": "Lara Lead", "phone": "+971 50 777 8888", "email": "lara@example.com",
        "interests": "Sea view", "listings": [c.listings[0]],
    }});
    let r = act(&s, &c.agent.access, "key-lead-00001", &lead).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "delivered");
    assert!(r.body["external_id"].is_null());
    assert!(r.body["reason"].is_null());
    let lara = r.body["client_id"].as_str().unwrap().to_string();
    let feed = s
        .get("/api/v1/sync/changes?since=0&limit=2000", &c.agent.access)
        .await;
    assert!(feed.body.to_string().contains(&lara), "{}", feed.body);
    let mine = s.get("/api/v1/clients", &c.agent.access).await;
    assert!(mine.body.to_string().contains("Lara Lead"));

    // With HubSpot: rate limited first (503, then the retry creates one contact).
    let (hs, portal) = hubspot_standin().await;
    let settings = json!({ "private_app_token": HS_TOKEN, "base_url": hs.base });
    let r = put_integration(&s, &c.t.admin.access, "hubspot", settings).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    portal
        .lock()
        .unwrap()
        .script
        .push_back(HsScript::RateLimited);
    let lead = json!({ "kind": "create_lead", "lead": {
        "name": "Hugo Hub", "email": "hugo@example.com",
        "budget": { "amount_minor": 250_000_000, "currency": "AED" },
        "listings": [c.listings[1]],
    }});
    let r = act(&s, &c.agent.access, "key-lead-00002", &lead).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(portal.lock().unwrap().created, 0);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let done = act(&s, &c.agent.access, "key-lead-00002", &lead).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["status"], "delivered");
    let hugo = done.body["client_id"].as_str().unwrap().to_string();
    {
        let p = portal.lock().unwrap();
        // A contact and its deal (a budget was given), keyed by the Roost client id.
        assert_eq!(p.created, 2);
        let contact = &p.objects[&("contacts".to_string(), hugo.clone())];
        assert_eq!(done.body["external_id"], contact.0.as_str());
        assert_eq!(contact.1["email"], "hugo@example.com");
        assert!(p.objects.contains_key(&("deals".to_string(), hugo.clone())));
        assert_eq!(p.associations, 1);
    }

    // The upsert commits but its answer is lost: 503, and the retry finds the same contact.
    portal
        .lock()
        .unwrap()
        .script
        .push_back(HsScript::CommitThenCut);
    let lead = json!({ "kind": "create_lead", "lead": { "name": "Cora Cut", "email": "cora@example.com" }});
    let r = act(&s, &c.agent.access, "key-lead-00003", &lead).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(portal.lock().unwrap().created, 3);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
    let done = act(&s, &c.agent.access, "key-lead-00003", &lead).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["status"], "delivered");
    {
        let p = portal.lock().unwrap();
        assert_eq!(p.created, 3, "still one contact for Cora");
        let contacts = p.objects.keys().filter(|(o, _)| o == "contacts").count();
        assert_eq!(contacts, 2);
    }
    // Only one Roost client for Cora, whatever the retries.
    let clients = s.get("/api/v1/clients", &c.agent.access).await;
    assert_eq!(clients.body.to_string().matches("Cora Cut").count(), 1);

    // Bad leads are refused naming the field; a lead's listings must be the tenant's.
    let bad = json!({ "kind": "create_lead", "lead": { "name": "X", "phone": "call me" }});
    let r = act(&s, &c.agent.access, "key-lead-bad01", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field(), Some("lead.phone"));
    let bad = json!({ "kind": "create_lead", "lead": { "name": "X", "listings": [uuid::Uuid::new_v4()] }});
    let r = act(&s, &c.agent.access, "key-lead-bad02", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field(), Some("lead.listings[0]"));
}

async fn agents_act_only_for_their_clients_and_tenant(s: TestServer) {
    let a = company(&s, "Alpha Realty", "alpha").await;
    let b = company(&s, "Beta Homes", "beta").await;
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &a, &wa.base, TOKEN).await;

    // Another agent's client is as unknown as a foreign id.
    let body = showcase(existing(&a.clients["C-2"]), &[&a.listings[0]], "Hi");
    let r = act(&s, &a.agent.access, "key-foreign-0001", &body).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let body = showcase(existing(&b.clients["C-1"]), &[&a.listings[0]], "Hi");
    let r = act(&s, &a.agent.access, "key-foreign-0002", &body).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // Another tenant's listing is unknown, named by its position.
    let body = showcase(
        existing(&a.clients["C-1"]),
        &[&a.listings[0], &b.listings[0]],
        "Hi",
    );
    let r = act(&s, &a.agent.access, "key-foreign-0003", &body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), Some("listings[1]"));
    // Checks on the showcase itself.
    let r = act(
        &s,
        &a.agent.access,
        "key-checks-0001",
        &showcase(existing(&a.clients["C-1"]), &[], "Hi"),
    )
    .await;
    assert_eq!(r.field(), Some("listings"));
    let long = "x".repeat(4097);
    let r = act(
        &s,
        &a.agent.access,
        "key-checks-0002",
        &showcase(existing(&a.clients["C-1"]), &[&a.listings[0]], &long),
    )
    .await;
    assert_eq!(r.field(), Some("message"));
    let r = act(
        &s,
        &a.agent.access,
        "key-checks-0003",
        &showcase(
            json!({ "type": "new", "name": "No Phone" }),
            &[&a.listings[0]],
            "Hi",
        ),
    )
    .await;
    assert_eq!(r.field(), Some("client.phone"));
    assert_eq!(effects(&graph), 0);
    // Nothing was stored for refused requests.
    assert_eq!(
        s.get("/api/v1/actions", &a.agent.access).await.body["actions"],
        json!([])
    );

    // A manager acts for any client of the company.
    let body = showcase(existing(&a.clients["C-2"]), &[&a.listings[0]], "Hi");
    let r = act(&s, &a.manager.access, "key-manager-0001", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(effects(&graph), 1);
    let id = r.body["id"].as_str().unwrap().to_string();

    // B, in every role, cannot read A's action nor find it in a list.
    for sess in [&b.t.admin, &b.manager, &b.agent] {
        let r = s.get(&format!("/api/v1/actions/{id}"), &sess.access).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let list = s.get("/api/v1/actions", &sess.access).await;
        assert_eq!(list.body["actions"], json!([]));
    }
    // Only admins connect services.
    for sess in [&a.manager, &a.agent] {
        let settings = json!({ "private_app_token": "x-token" });
        let r = put_integration(&s, &sess.access, "hubspot", settings).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

/// `PUT /api/v1/integrations/{service}` as `token`.
async fn put_integration(s: &TestServer, token: &str, service: &str, body: Value) -> Resp {
    let path = format!("/api/v1/integrations/{service}");
    s.call(Method::PUT, &path, Some(token), Some(body)).await
}

async fn an_email_showcase_reaches_the_mail_server_once(s: TestServer) {
    let Some(sink) =
        roost_tests::smtp::SmtpSink::start(&["--rcpt", "bounce=550", "--rcpt", "busy=451"])
    else {
        return;
    };
    let c = company(&s, "Alpha Realty", "alpha").await;
    let settings = json!({
        "host": "127.0.0.1", "port": sink.port, "security": "plain",
        "from_address": "listings@alpha.test",
    });
    // Admins only; what the connector would refuse is refused here, by field.
    let r = put_integration(&s, &c.manager.access, "email", settings.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let mut open_relay = settings.clone();
    open_relay["host"] = json!("smtp.example.com");
    let r = put_integration(&s, &c.t.admin.access, "email", open_relay).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), Some("security"));
    let mut no_from = settings.clone();
    no_from["from_address"] = json!("listings");
    let r = put_integration(&s, &c.t.admin.access, "email", no_from).await;
    assert_eq!(r.field(), Some("from_address"), "{}", r.body);
    let mut half = settings.clone();
    half["password"] = json!("s3cret");
    let r = put_integration(&s, &c.t.admin.access, "email", half).await;
    assert_eq!(r.field(), Some("username"), "{}", r.body);
    let r = put_integration(&s, &c.t.admin.access, "email", settings).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    let mut body = showcase(
        existing(&c.clients["C-1"]),
        &[&c.listings[0], &c.listings[1]],
        "Two homes <b>you</b> will like",
    );
    body["channel"] = json!("email");
    let first = act(&s, &c.agent.access, "key-email-0001", &body).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["status"], "delivered", "{}", first.body);
    let id = first.body["id"].as_str().unwrap();
    assert_eq!(
        first.body["external_id"],
        format!("<action-{id}@roost.local>").as_str()
    );
    let again = act(&s, &c.agent.access, "key-email-0001", &body).await;
    assert_eq!(again.body, first.body);
    let got = sink.received();
    assert_eq!(got.len(), 1, "one email per key");
    let (envelope, raw) = &got[0];
    assert_eq!(envelope["mail_from"], "listings@alpha.test");
    assert_eq!(envelope["rcpt_tos"], json!(["dana@example.com"]));
    let flat = raw.replace("\r\n", "\n");
    assert!(
        flat.contains("Subject: 2 homes for you from Alpha Realty"),
        "{flat}"
    );
    assert!(
        flat.contains(&format!("Message-ID: <action-{id}@roost.local>")),
        "{flat}"
    );
    assert!(
        flat.contains("Reply-To:") && flat.contains("agent@alpha.test"),
        "{flat}"
    );
    assert!(flat.contains("multipart/alternative"), "{flat}");
    assert!(
        flat.contains("&lt;b&gt;you&lt;/b&gt;"),
        "the HTML part escapes the message"
    );

    // New clients need an address on this channel; refusals end as the agent can act on.
    let mut no_address = showcase(
        json!({ "type": "new", "name": "Noa", "phone": "+971 50 111 0000" }),
        &[&c.listings[0]],
        "hi",
    );
    no_address["channel"] = json!("email");
    let r = act(&s, &c.agent.access, "key-email-0002", &no_address).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), Some("client.email"));
    let mut bounce = no_address.clone();
    bounce["client"]["email"] = json!("bounce@example.com");
    let r = act(&s, &c.agent.access, "key-email-0003", &bounce).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "failed", "{}", r.body);
    assert!(
        r.body["reason"].as_str().unwrap().contains("refused"),
        "{}",
        r.body
    );
    let mut busy = no_address;
    busy["client"]["email"] = json!("busy@example.com");
    let r = act(&s, &c.agent.access, "key-email-0004", &busy).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.header("retry-after").is_some(), "{}", r.body);
    assert_eq!(sink.received().len(), 1, "refused mail is not stored");
    let audit = audit_actions(&s, &c, id).await;
    assert_eq!(audit, ["action.delivered", "action.created"], "{audit:?}");
}

/// `t=<unix>,v1=<hex>` checked as a receiver would: HMAC-SHA256 of "<t>.<body>".
fn roost_signature_ok(secret: &str, header: &str, body: &[u8]) -> bool {
    use hmac::Mac;
    let Some((t, v1)) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes()) == v1
}

async fn leads_reach_a_signed_webhook_crm_once(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    // The receiver fails once with 503, then takes everything.
    let failures = Arc::new(Mutex::new(1));
    let f = failures.clone();
    let crm = StandIn::start(move |_r| {
        let mut left = f.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Reply::json(503, json!({ "error": "maintenance" }))
                .with_header("retry-after", "2");
        }
        Reply::json(202, json!({ "ok": true }))
    })
    .await;
    const SECRET: &str = "whsec_0123456789abcdef";
    let put = |body: Value| put_integration(&s, &c.t.admin.access, "crm-webhook", body);
    let r = put(json!({ "url": "ftp://crm.example", "secret": SECRET })).await;
    assert_eq!(r.field(), Some("url"), "{}", r.body);
    let r = put(json!({ "url": format!("{}/roost", crm.base), "secret": "short" })).await;
    assert_eq!(r.field(), Some("secret"), "{}", r.body);
    let r = put(json!({ "url": format!("{}/roost", crm.base), "secret": SECRET })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    let lead = json!({ "kind": "create_lead", "lead": {
        "name": "Rana Lead", "phone": "+971 52 000 1111", "email": "rana@example.com",
        "budget": { "amount_minor": 300_000_000, "currency": "AED" },
        "interests": "3 bed villa", "listings": [c.listings[0]],
    }});
    // The receiver's 503: retry later with its wait; nothing is lost.
    let r = act(&s, &c.agent.access, "key-crm-0001", &lead).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("2"));
    let first = act(&s, &c.agent.access, "key-crm-0001", &lead).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["status"], "delivered");
    let again = act(&s, &c.agent.access, "key-crm-0001", &lead).await;
    assert_eq!(again.body, first.body);

    let got = crm.requests();
    assert_eq!(
        got.len(),
        2,
        "one failed and one accepted delivery, no more"
    );
    let id = first.body["id"].as_str().unwrap();
    for r in &got {
        assert_eq!(r.path, "/roost");
        assert_eq!(r.header("x-roost-event"), Some("lead.created"));
        assert_eq!(
            r.header("idempotency-key"),
            Some(id),
            "the same key on every attempt"
        );
        assert!(
            roost_signature_ok(SECRET, r.header("x-roost-signature").unwrap(), &r.raw),
            "the signature covers the body"
        );
    }
    let body = &got[1].body;
    assert_eq!(body["lead"]["name"], "Rana Lead");
    assert_eq!(body["lead"]["id"], first.body["client_id"]);
    assert_eq!(body["lead"]["listings"][0]["id"], c.listings[0].as_str());
    assert_eq!(body["agent"]["email"], "agent@alpha.test");

    // A receiver that refuses the signature needs an admin.
    crm.set_script(|_| Reply::json(401, json!({ "error": "bad signature" })));
    let r = act(&s, &c.agent.access, "key-crm-0002", &lead).await;
    assert_eq!(r.body["status"], "failed", "{}", r.body);
    assert!(
        r.body["reason"].as_str().unwrap().contains("admin"),
        "{}",
        r.body
    );
    assert!(!r.body.to_string().contains(SECRET));
}

async fn a_template_showcase_shows_the_first_photo_a_client_can_open(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let photo = roost_server::demo::photos::render(roost_server::demo::photos::Scene::Villa, 5);
    let up = crate::media::upload(&s, &c.t.admin.access, photo.clone()).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let media = up.body["url"].as_str().unwrap().to_string();
    let csv = format!(
        "Ref,Title,Price,Photos\nP-8,Plot without photos,AED 1M,\nP-9,Villa with a photo,AED 4M,{media}\n"
    );
    let r = s.import(&c.t.admin.access, "p.csv", csv.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let all = s.all_listings(&c.t.admin.access).await;
    let id = |external: &str| {
        all.iter().find(|l| l["external_id"] == external).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (bare, pictured) = (id("P-8"), id("P-9"));
    let (wa, graph) = whatsapp_standin().await;
    let settings = json!({
        "phone_number_id": PHONE_ID, "access_token": TOKEN, "api_version": "v21.0",
        "base_url": wa.base, "app_secret": "meta-app-secret",
        "template_name": PHOTO_TEMPLATE, "template_language": "en_US",
        "template_photo_header": true,
    });
    let r = put_integration(&s, &c.t.admin.access, "whatsapp", settings).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    // The client never wrote: the template goes, its header the first photo there is.
    let body = showcase(
        existing(&c.clients["C-1"]),
        &[&bare, &pictured],
        "Two picks",
    );
    let r = act(&s, &c.agent.access, "key-tphoto-0001", &body).await;
    assert_eq!(r.body["status"], "delivered", "{}", r.body);
    let sent = graph.lock().unwrap().accepted[0].clone();
    assert_eq!(sent["template"]["name"], PHOTO_TEMPLATE);
    let components = &sent["template"]["components"];
    assert_eq!(components[1]["parameters"][0]["text"], "Dana Client");
    assert_eq!(components[1]["parameters"][1]["text"], "2");
    let link = components[0]["parameters"][0]["image"]["link"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(link.starts_with(&s.base), "{link}");
    let fetched = reqwest::get(&link).await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), photo);

    // No listing with a photo: nothing goes, and the agent is told why.
    let body = showcase(existing(&c.clients["C-1"]), &[&bare], "Just the plot");
    let r = act(&s, &c.agent.access, "key-tphoto-0002", &body).await;
    assert_eq!(r.body["status"], "failed", "{}", r.body);
    assert!(
        r.body["reason"].as_str().unwrap().contains("photo"),
        "{}",
        r.body
    );
    assert_eq!(effects(&graph), 1);
}

async fn whatsapp_settings_saved_again_keep_the_verify_token(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let put = |body: Value| put_integration(&s, &c.t.admin.access, "whatsapp", body);
    let base = json!({ "phone_number_id": PHONE_ID, "access_token": TOKEN,
                       "app_secret": "meta-app-secret", "template_name": "roost_showcase" });

    // A photo header without its template is refused, naming the field; nothing is stored.
    let mut bad = base.clone();
    bad["template_name"] = Value::Null;
    bad["template_photo_header"] = json!(true);
    let r = put(bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), Some("template_photo_header"));
    let status = s.get("/api/v1/integrations", &c.t.admin.access).await;
    assert_eq!(status.body["whatsapp"], Value::Null);

    let mut first = base.clone();
    first["webhook_verify_token"] = json!("keep-me-0001");
    assert_eq!(put(first).await.status, StatusCode::NO_CONTENT);
    // Saved again without it (as the app's form does when left empty): still there.
    let mut again = base.clone();
    again["template_language"] = json!("ar");
    assert_eq!(put(again).await.status, StatusCode::NO_CONTENT);
    let status = s.get("/api/v1/integrations", &c.t.admin.access).await;
    assert_eq!(status.body["whatsapp"]["template_language"], "ar");
    assert_eq!(status.body["whatsapp"]["webhook_verify_token_set"], true);
    let handshake = |token: &str| {
        format!(
            "/api/v1/webhooks/whatsapp/{}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42",
            c.t.slug
        )
    };
    let r = s
        .call(Method::GET, &handshake("keep-me-0001"), None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s.call(Method::GET, &handshake("another"), None, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}

async fn a_showcase_carries_photo_links_a_client_can_open(s: TestServer) {
    let c = company(&s, "Alpha Realty", "alpha").await;
    let photo = roost_server::demo::photos::render(roost_server::demo::photos::Scene::Villa, 3);
    let up = crate::media::upload(&s, &c.t.admin.access, photo.clone()).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let media = up.body["url"].as_str().unwrap().to_string();
    let csv = format!("Ref,Title,Price,Photos\nP-9,Villa with a photo,AED 4M,{media}\n");
    let r = s.import(&c.t.admin.access, "p.csv", csv.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let listing = s
        .all_listings(&c.t.admin.access)
        .await
        .into_iter()
        .find(|l| l["external_id"] == "P-9")
        .unwrap();
    let (wa, graph) = whatsapp_standin().await;
    connect_whatsapp(&s, &c, &wa.base, TOKEN).await;
    // The client wrote a minute ago (as the webhook would record): free-form text goes.
    graph.lock().unwrap().wrote.insert(CLIENT_WA.to_string());
    let ctx = roost_db::Ctx {
        tenant: roost_db::TenantId::from_verified(c.t.id.parse().unwrap()),
        actor: roost_db::Actor {
            user_id: None,
            device_id: None,
            ip: None,
        },
    };
    s.state
        .db
        .apply_whatsapp_events(
            &ctx,
            &[roost_db::WhatsAppEvent::Inbound {
                wamid: "wamid.IN-photo".into(),
                wa_id: CLIENT_WA.into(),
                at: roost_db::now_millis() - 60_000,
                profile_name: None,
            }],
        )
        .await
        .unwrap();
    let id = listing["id"].as_str().unwrap().to_string();
    let body = showcase(existing(&c.clients["C-1"]), &[&id], "This one has a garden");
    let r = act(&s, &c.agent.access, "key-photo-0001", &body).await;
    assert_eq!(r.body["status"], "delivered", "{}", r.body);
    let text = graph.lock().unwrap().accepted[0]["text"]["body"]
        .as_str()
        .unwrap()
        .to_string();
    let link = text
        .lines()
        .find(|l| l.contains("/api/v1/public/media/"))
        .unwrap_or_else(|| panic!("no photo link in {text:?}"))
        .trim()
        .to_string();
    assert!(link.starts_with(&s.base), "{link}");

    // Anyone with the link gets the photo, without signing in.
    let get = |url: String| async move {
        let r = reqwest::get(&url).await.unwrap();
        let status = r.status();
        let cache = r
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_string());
        (status, cache, r.bytes().await.unwrap().to_vec())
    };
    let (status, cache, bytes) = get(link.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, photo);
    assert_eq!(cache.as_deref(), Some("public, max-age=86400"));

    // A changed signature, company, photo or expiry does not open.
    let other = s.register("Beta Homes", "beta", "professional").await;
    let media_id = media.rsplit('/').next().unwrap();
    let tampered = [
        link.replace("sig=", "sig=00"),
        link.replace(&format!("t={}", c.t.id), &format!("t={}", other.id)),
        link.replace(media_id, &uuid::Uuid::new_v4().to_string()),
        {
            let exp = link
                .split("exp=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap();
            let later: i64 = exp.parse::<i64>().unwrap() + 1;
            link.replace(&format!("exp={exp}"), &format!("exp={later}"))
        },
    ];
    for bad in tampered {
        let (status, _, _) = get(bad.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{bad}");
    }
    // An expired link, properly signed, is refused too.
    let tenant: uuid::Uuid = c.t.id.parse().unwrap();
    let media_uuid: uuid::Uuid = media_id.parse().unwrap();
    let exp = roost_db::now_millis() / 1000 - 60;
    let sig = s
        .state
        .secret_box
        .sign_link(&format!("media\0{tenant}\0{media_uuid}\0{exp}"));
    let expired = format!(
        "{}/api/v1/public/media/{media_uuid}?t={tenant}&exp={exp}&sig={sig}",
        s.base
    );
    let (status, _, body) = get(expired).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("expired"));
}
