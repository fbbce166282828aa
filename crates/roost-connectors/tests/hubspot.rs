//! The HubSpot client against a stand-in portal that keys contacts by `roost_lead_id` and
//! deals by `roost_deal_id`, checks the documented request shape, records every record it
//! creates, and answers with HubSpot's documented success, multi-status and error bodies.

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use common::{Recorded, bearer, http, serve};
use roost_connectors::hubspot::{Budget, CrmError};
use roost_connectors::{ConnectorError, HubSpot, Lead};
use serde_json::{Map, Value, json};

const TOKEN: &str = "pat-na1-11111111-2222-3333-4444-555555555555";

#[derive(Debug, Clone)]
struct Object {
    id: String,
    properties: Map<String, Value>,
}

enum Scripted {
    RateLimited { retry_after: Option<u64> },
    BadGateway,
}

#[derive(Default)]
struct Portal {
    /// contacts / deals, each keyed by its Roost id.
    objects: BTreeMap<(String, String), Object>,
    associations: BTreeSet<(String, String)>,
    next_id: u64,
    /// Records created: the effects.
    created: usize,
    requests: Vec<Recorded>,
    script: VecDeque<Scripted>,
    /// The portal lacks the custom property (an admin never created it).
    without_lead_property: bool,
}

type Shared = Arc<Mutex<Portal>>;

fn hs_error(status: StatusCode, category: &str, message: &str) -> Response {
    let body = json!({
        "status": "error",
        "message": message,
        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
        "category": category,
    });
    (status, axum::Json(body)).into_response()
}

/// HubSpot's validation message embeds the property problems as JSON.
fn invalid_property(name: &str, code: &str, message: &str) -> String {
    let problems = json!([{ "isValid": false, "message": message, "error": code, "name": name }]);
    format!("Property values were not valid: {problems}")
}

/// What HubSpot would refuse in one input's properties.
fn property_problem(props: &Map<String, Value>) -> Option<String> {
    let email = props.get("email").and_then(Value::as_str);
    if let Some(e) = email.filter(|e| !e.contains('@')) {
        return Some(invalid_property(
            "email",
            "INVALID_EMAIL",
            &format!("Email address {e} is invalid"),
        ));
    }
    let phone = props.get("phone").and_then(Value::as_str);
    if let Some(p) = phone.filter(|p| p.chars().any(|c| c.is_ascii_alphabetic())) {
        return Some(invalid_property(
            "phone",
            "INVALID_PHONE_NUMBER",
            &format!("{p} is not a valid phone number"),
        ));
    }
    None
}

fn now_iso() -> &'static str {
    "2025-01-15T10:00:00.000Z"
}

async fn batch_upsert(
    State(portal): State<Shared>,
    Path(object): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut p = portal.lock().unwrap();
    p.requests.push(Recorded {
        method: "POST".into(),
        path: format!("/crm/v3/objects/{object}/batch/upsert"),
        headers: headers.clone(),
        body: json.clone(),
    });
    if let Some(reply) = scripted(&mut p) {
        return reply;
    }
    if bearer(&headers).as_deref() != Some(TOKEN) {
        return hs_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        );
    }
    let id_property = match object.as_str() {
        "contacts" => "roost_lead_id",
        "deals" => "roost_deal_id",
        _ => {
            return hs_error(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                "Unknown object type",
            );
        }
    };
    let Some(inputs) = json["inputs"].as_array().filter(|i| !i.is_empty()) else {
        return hs_error(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "Invalid input JSON: inputs is required",
        );
    };
    if object == "contacts" && p.without_lead_property {
        let msg = invalid_property(
            "roost_lead_id",
            "PROPERTY_DOESNT_EXIST",
            "Property \"roost_lead_id\" does not exist",
        );
        return hs_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", &msg);
    }
    // Shape of every input, then conflicts, before anything is written.
    let mut checked = Vec::new();
    for input in inputs {
        let (Some(key), Some(props)) = (input["id"].as_str(), input["properties"].as_object())
        else {
            return hs_error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "Invalid input JSON",
            );
        };
        if input["idProperty"] != id_property || key.is_empty() {
            return hs_error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                &format!(
                    "idProperty must be a unique property, got {}",
                    input["idProperty"]
                ),
            );
        }
        // Email is unique among contacts: another lead's email is a conflict.
        if let Some(email) = props.get("email").and_then(Value::as_str) {
            let taken = p.objects.iter().find(|((o, k), obj)| {
                o == "contacts" && k != key && obj.properties.get("email") == Some(&json!(email))
            });
            if let Some((_, obj)) = taken {
                let msg = format!("Contact already exists. Existing ID: {}", obj.id);
                return hs_error(StatusCode::CONFLICT, "CONFLICT", &msg);
            }
        }
        let trace = input["objectWriteTraceId"].as_str().map(str::to_owned);
        checked.push((key.to_owned(), props.clone(), trace));
    }
    // One input that HubSpot refuses: the whole call fails with its validation error.
    if checked.len() == 1
        && let Some(msg) = property_problem(&checked[0].1)
    {
        return hs_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", &msg);
    }
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (key, props, trace) in checked {
        if let Some(msg) = property_problem(&props) {
            errors.push(json!({
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": msg,
                "context": { "objectWriteTraceId": [trace.unwrap_or_default()] },
            }));
            continue;
        }
        let slot = (object.clone(), key.clone());
        let new = !p.objects.contains_key(&slot);
        if new {
            p.next_id += 1;
            p.created += 1;
            let id = format!("{}", 51_000 + p.next_id);
            p.objects.insert(
                slot.clone(),
                Object {
                    id,
                    properties: Map::new(),
                },
            );
        }
        let obj = p.objects.get_mut(&slot).unwrap();
        obj.properties.extend(props);
        results.push(json!({
            "id": obj.id,
            "properties": obj.properties,
            "new": new,
            "createdAt": now_iso(),
            "updatedAt": now_iso(),
            "archived": false,
        }));
    }
    // HubSpot does not promise input order.
    results.reverse();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": now_iso(),
        "completedAt": now_iso(),
    });
    if !errors.is_empty() {
        body["numErrors"] = json!(errors.len());
        body["errors"] = json!(errors);
    }
    (status, axum::Json(body)).into_response()
}

async fn associate(
    State(portal): State<Shared>,
    Path((deal, contact)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut p = portal.lock().unwrap();
    p.requests.push(Recorded {
        method: "PUT".into(),
        path: format!("/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}"),
        headers: headers.clone(),
        body: Value::Null,
    });
    if let Some(reply) = scripted(&mut p) {
        return reply;
    }
    if bearer(&headers).as_deref() != Some(TOKEN) {
        return hs_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found.",
        );
    }
    let exists = |o: &str, id: &str| p.objects.iter().any(|((k, _), v)| k == o && v.id == id);
    if !exists("deals", &deal) || !exists("contacts", &contact) {
        return hs_error(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "Object not found",
        );
    }
    p.associations.insert((deal.clone(), contact.clone()));
    axum::Json(json!({
        "status": "COMPLETE",
        "results": [{
            "from": { "id": deal }, "to": { "id": contact },
            "associationSpec": { "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3 }
        }],
        "startedAt": now_iso(), "completedAt": now_iso(),
    }))
    .into_response()
}

fn scripted(p: &mut Portal) -> Option<Response> {
    Some(match p.script.pop_front()? {
        Scripted::RateLimited { retry_after } => {
            let body = json!({
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": "c4b1e2d3-0000-4000-8000-000000000000",
                "policyName": "TEN_SECONDLY_ROLLING",
                "groupName": "publicapi:private-app-id-ten-secondly:1234",
            });
            let mut r = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            if let Some(s) = retry_after {
                r.headers_mut()
                    .insert("retry-after", s.to_string().parse().unwrap());
            }
            r
        }
        Scripted::BadGateway => (
            StatusCode::BAD_GATEWAY,
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response(),
    })
}

async fn stand_in() -> (String, Shared) {
    let portal: Shared = Arc::default();
    let router = Router::new()
        .route("/crm/v3/objects/{object}/batch/upsert", post(batch_upsert))
        .route(
            "/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}",
            put(associate),
        )
        .with_state(portal.clone());
    (serve(router).await, portal)
}

fn client(base: &str, token: &str) -> HubSpot {
    HubSpot::new(http(), base, token).unwrap()
}

fn lead(id: &str, name: &str, email: &str) -> Lead {
    Lead {
        roost_lead_id: id.into(),
        name: name.into(),
        email: Some(email.into()),
        phone: Some("+971 50 123 4567".into()),
        ..Lead::default()
    }
}

fn count(p: &Shared, object: &str) -> usize {
    p.lock()
        .unwrap()
        .objects
        .keys()
        .filter(|(o, _)| o == object)
        .count()
}

#[tokio::test]
async fn upserting_the_same_leads_twice_creates_them_once() {
    let (base, portal) = stand_in().await;
    let hs = client(&base, TOKEN);
    let leads = [
        lead("lead-0001", "Dana Al Mansouri", "dana@example.com"),
        lead("lead-0002", "Omar", "omar@example.com"),
    ];
    let first = hs.upsert_contacts(&leads).await.unwrap();
    // In input order, although the portal answered in reverse.
    assert_eq!(
        first
            .iter()
            .map(|c| c.roost_lead_id.as_str())
            .collect::<Vec<_>>(),
        ["lead-0001", "lead-0002"]
    );
    assert!(first.iter().all(|c| c.created));

    {
        let p = portal.lock().unwrap();
        let r = &p.requests[0];
        assert_eq!(r.path, "/crm/v3/objects/contacts/batch/upsert");
        assert_eq!(r.header("authorization"), Some(&*format!("Bearer {TOKEN}")));
        let input = &r.body["inputs"][0];
        assert_eq!(input["idProperty"], "roost_lead_id");
        assert_eq!(input["id"], "lead-0001");
        assert_eq!(input["objectWriteTraceId"], "lead-0001");
        assert_eq!(
            input["properties"],
            json!({
                "firstname": "Dana", "lastname": "Al Mansouri", "email": "dana@example.com",
                "phone": "+971 50 123 4567", "roost_lead_id": "lead-0001"
            })
        );
    }

    // The retry (say the first answer was lost), with a corrected phone.
    let mut again = leads.clone();
    again[1].phone = Some("+971 55 000 1111".into());
    let second = hs.upsert_contacts(&again).await.unwrap();
    assert_eq!(
        second.iter().map(|c| &c.id).collect::<Vec<_>>(),
        first.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    assert!(second.iter().all(|c| !c.created));
    let p = portal.lock().unwrap();
    assert_eq!(p.created, 2);
    let omar = &p.objects[&("contacts".to_owned(), "lead-0002".to_owned())];
    assert_eq!(omar.properties["phone"], "+971 55 000 1111");
}

#[tokio::test]
async fn a_lead_with_a_budget_gets_one_deal_associated_however_often_it_is_pushed() {
    let (base, portal) = stand_in().await;
    let hs = client(&base, TOKEN);
    let mut l = lead("lead-0100", "Dana Al Mansouri", "dana@example.com");
    l.budget = Some(Budget {
        amount_minor: 425_000_000,
        currency: "AED".into(),
    });
    l.interests = Some("3-bed villa, Arabian Ranches".into());
    l.listings = vec!["AR-2231 Villa in Arabian Ranches".into()];

    let first = hs.push_lead(&l).await.unwrap();
    let deal = first.deal.clone().unwrap();
    assert!(first.contact.created && deal.created);
    assert_eq!(deal.roost_deal_id, "lead-0100");

    let second = hs.push_lead(&l).await.unwrap();
    assert_eq!(second.contact.id, first.contact.id);
    assert_eq!(second.deal.as_ref().unwrap().id, deal.id);
    assert!(!second.contact.created && !second.deal.unwrap().created);

    assert_eq!(count(&portal, "contacts"), 1);
    assert_eq!(count(&portal, "deals"), 1);
    let p = portal.lock().unwrap();
    assert_eq!(p.created, 2);
    assert_eq!(
        p.associations.iter().cloned().collect::<Vec<_>>(),
        [(deal.id.clone(), first.contact.id.clone())]
    );
    let props = &p.objects[&("deals".to_owned(), "lead-0100".to_owned())].properties;
    assert_eq!(props["amount"], "4250000.00");
    assert_eq!(props["deal_currency_code"], "AED");
    assert_eq!(props["dealname"], "Dana Al Mansouri (Roost lead)");
    assert_eq!(props["pipeline"], "default");
    assert_eq!(props["dealstage"], "appointmentscheduled");
    assert_eq!(
        props["description"],
        "Interests: 3-bed villa, Arabian Ranches\nListings: AR-2231 Villa in Arabian Ranches"
    );
    let deal_input = p
        .requests
        .iter()
        .find(|r| r.path == "/crm/v3/objects/deals/batch/upsert")
        .unwrap();
    assert_eq!(deal_input.body["inputs"][0]["idProperty"], "roost_deal_id");
}

#[tokio::test]
async fn a_lead_without_budget_or_listings_gets_no_deal() {
    let (base, portal) = stand_in().await;
    let pushed = client(&base, TOKEN)
        .push_lead(&lead("lead-0200", "Omar", "omar@example.com"))
        .await
        .unwrap();
    assert_eq!(pushed.deal, None);
    let p = portal.lock().unwrap();
    assert_eq!(p.requests.len(), 1, "only the contact upsert");
    assert_eq!(count_in(&p, "deals"), 0);
}

fn count_in(p: &Portal, object: &str) -> usize {
    p.objects.keys().filter(|(o, _)| o == object).count()
}

#[tokio::test]
async fn an_expired_token_asks_an_admin_to_reconnect() {
    let (base, portal) = stand_in().await;
    let stale = "pat-na1-expired-0000-0000";
    let err = client(&base, stale)
        .upsert_contacts(&[lead("lead-1", "Dana", "dana@example.com")])
        .await
        .unwrap_err();
    assert_eq!(err, CrmError::AuthExpired);
    let class = ConnectorError::from(err);
    assert!(matches!(class, ConnectorError::NeedsAdmin { .. }));
    assert_eq!(
        class.to_string(),
        "HubSpot refused the access token: an admin must reconnect HubSpot."
    );
    assert!(!format!("{:?}", client(&base, stale)).contains(stale));
    assert_eq!(portal.lock().unwrap().created, 0);
}

#[tokio::test]
async fn rate_limits_are_retried_later_and_the_retry_creates_once() {
    let (base, portal) = stand_in().await;
    let hs = client(&base, TOKEN);
    let leads = [lead("lead-1", "Dana", "dana@example.com")];
    {
        let mut p = portal.lock().unwrap();
        p.script
            .push_back(Scripted::RateLimited { retry_after: None });
        p.script.push_back(Scripted::RateLimited {
            retry_after: Some(3),
        });
    }
    let err = hs.upsert_contacts(&leads).await.unwrap_err();
    assert_eq!(
        err,
        CrmError::RateLimited {
            after: Duration::from_secs(10),
            policy: Some("TEN_SECONDLY_ROLLING".into())
        }
    );
    assert_eq!(
        err.to_string(),
        "HubSpot is rate limiting Roost (TEN_SECONDLY_ROLLING): retry in 10 s."
    );
    let class = ConnectorError::from(hs.upsert_contacts(&leads).await.unwrap_err());
    assert_eq!(class.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(portal.lock().unwrap().created, 0);

    let done = hs.upsert_contacts(&leads).await.unwrap();
    assert!(done[0].created);
    assert_eq!(portal.lock().unwrap().created, 1);
}

#[tokio::test]
async fn a_validation_error_names_the_property() {
    let (base, portal) = stand_in().await;
    let err = client(&base, TOKEN)
        .upsert_contacts(&[lead("lead-1", "Dana", "dana-at-example.com")])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CrmError::Validation {
            property: Some("email".into()),
            message: "Email address dana-at-example.com is invalid".into()
        }
    );
    let class = ConnectorError::from(err);
    assert!(matches!(class, ConnectorError::Permanent { .. }));
    assert_eq!(
        class.to_string(),
        "HubSpot rejected the lead's email: Email address dana-at-example.com is invalid; correct it and send again."
    );
    assert_eq!(portal.lock().unwrap().created, 0);
}

#[tokio::test]
async fn a_multi_status_answer_reports_each_failed_input_and_the_retry_is_safe() {
    let (base, portal) = stand_in().await;
    let hs = client(&base, TOKEN);
    let mut leads = vec![
        lead("lead-a", "Dana", "dana@example.com"),
        lead("lead-b", "Omar", "omar@example.com"),
        lead("lead-c", "Lina", "lina@example.com"),
    ];
    leads[1].phone = Some("call after 5pm".into());
    let err = hs.upsert_contacts(&leads).await.unwrap_err();
    let CrmError::Partial { upserted, failed } = &err else {
        panic!("{err:?}")
    };
    let mut saved: Vec<&str> = upserted.iter().map(|c| c.roost_lead_id.as_str()).collect();
    saved.sort();
    assert_eq!(saved, ["lead-a", "lead-c"]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].roost_id.as_deref(), Some("lead-b"));
    assert!(matches!(
        &failed[0].error,
        CrmError::Validation { property: Some(p), .. } if p == "phone"
    ));
    assert!(
        err.to_string()
            .starts_with("HubSpot saved 2 of 3 records; lead-b: HubSpot rejected the lead's phone"),
        "{err}"
    );
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::Permanent { .. }
    ));

    // Fixed and sent again: the two saved ones are found, only the third is created.
    leads[1].phone = Some("+971 55 222 3333".into());
    let done = hs.upsert_contacts(&leads).await.unwrap();
    assert_eq!(
        done.iter().map(|c| c.created).collect::<Vec<_>>(),
        [false, true, false]
    );
    assert_eq!(portal.lock().unwrap().created, 3);
}

#[tokio::test]
async fn an_email_owned_by_another_contact_is_a_conflict() {
    let (base, portal) = stand_in().await;
    let hs = client(&base, TOKEN);
    hs.upsert_contacts(&[lead("lead-1", "Dana", "dana@example.com")])
        .await
        .unwrap();
    let err = hs
        .upsert_contacts(&[lead("lead-2", "Dana A.", "dana@example.com")])
        .await
        .unwrap_err();
    let CrmError::Conflict(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(
        msg.starts_with("Contact already exists. Existing ID: "),
        "{msg}"
    );
    assert!(err.to_string().ends_with("merge or correct it in HubSpot."));
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::Permanent { .. }
    ));
    assert_eq!(portal.lock().unwrap().created, 1);
}

#[tokio::test]
async fn server_errors_are_retryable() {
    let (base, portal) = stand_in().await;
    let hs = client(&base, TOKEN);
    portal
        .lock()
        .unwrap()
        .script
        .push_back(Scripted::BadGateway);
    let err = hs
        .upsert_contacts(&[lead("lead-1", "Dana", "dana@example.com")])
        .await
        .unwrap_err();
    assert_eq!(err, CrmError::Unavailable { status: 502 });
    let class = ConnectorError::from(err);
    assert!(class.retryable() && class.retry_after().is_none());
    assert!(!class.to_string().contains("<html>"));
    hs.upsert_contacts(&[lead("lead-1", "Dana", "dana@example.com")])
        .await
        .unwrap();
    assert_eq!(portal.lock().unwrap().created, 1);
}

#[tokio::test]
async fn a_portal_without_the_roost_property_needs_an_admin() {
    let (base, portal) = stand_in().await;
    portal.lock().unwrap().without_lead_property = true;
    let err = client(&base, TOKEN)
        .upsert_contacts(&[lead("lead-1", "Dana", "dana@example.com")])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CrmError::SetupMissing {
            property: "roost_lead_id".into()
        }
    );
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::NeedsAdmin { .. }
    ));
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let (base, portal) = stand_in().await;
    let hs = client(&base, TOKEN);
    let dup = [
        lead("lead-1", "Dana", "dana@example.com"),
        lead("lead-1", "Dana", "dana@example.com"),
    ];
    assert!(matches!(
        hs.upsert_contacts(&dup).await,
        Err(CrmError::Invalid(_))
    ));
    let nameless = Lead {
        roost_lead_id: "lead-2".into(),
        ..Lead::default()
    };
    assert!(matches!(
        hs.upsert_contacts(&[nameless]).await,
        Err(CrmError::Invalid(_))
    ));
    assert!(portal.lock().unwrap().requests.is_empty());
}
