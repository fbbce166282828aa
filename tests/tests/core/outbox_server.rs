//! The device outbox against the real server, exactly once under faults: a loopback proxy
//! drops requests, cuts answers after the server committed, stalls while the app is "killed"
//! mid-send, and old requests are replayed. The effects are counted where they land — emails
//! in a real SMTP server (aiosmtpd), leads in Roost's client records — and the outbox must end
//! with every action delivered, each effect exactly once.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use roost_api::actions::{ActionRequest, ActionStatus, Channel, ClientRef, LeadInput};
use roost_core::{Cache, Outbox, Session};
use roost_tests::faults::{Fault, FaultProxy};
use roost_tests::smtp::SmtpSink;
use roost_tests::{Backend, TestServer};
use serde_json::json;
use uuid::Uuid;

use crate::sync_support::seeds;

struct World {
    s: TestServer,
    proxy: FaultProxy,
    sink: SmtpSink,
    admin: String,
    agent: String,
    session: Session,
    cache: Cache,
    _root: tempfile::TempDir,
    listings: Vec<Uuid>,
    client: Uuid,
}

async fn world(slug: &str) -> Option<World> {
    let sink = SmtpSink::start(&[])?;
    let s = TestServer::start(Backend::Sqlite).await?;
    let t = s.register("Alpha Realty", slug, "professional").await;
    let (_, _agent) = s
        .add_user(&t, &format!("agent@{slug}.test"), &["agent"])
        .await;
    let r = s
        .import(
            &t.admin.access,
            "l.csv",
            roost_tests::listings_csv(6).into(),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let csv = format!(
        "Ref,Name,Email,Phone,Agent Email\nC-1,Dana Client,dana@example.com,+971 50 123 4567,agent@{slug}.test\n"
    );
    let r = s
        .import(&t.admin.access, "c.csv", csv.into(), "kind=clients")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s
        .call(
            Method::PUT,
            "/api/v1/integrations/email",
            Some(&t.admin.access),
            Some(
                json!({ "host": "127.0.0.1", "port": sink.port, "security": "plain",
                         "from_address": format!("listings@{slug}.test") }),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    let proxy = FaultProxy::start(&s.base).await;
    let root = tempfile::tempdir().unwrap();
    let agent_email = format!("agent@{slug}.test");
    let (session, cache) =
        roost_tests::synced_device(&proxy.base(), root.path(), slug, &agent_email).await;
    let listings = cache.listing_ids().unwrap();
    let client = cache.clients().unwrap()[0].id;
    let agent = s
        .login(
            slug,
            &format!("agent@{slug}.test"),
            &format!("agent@{slug}.test-pass"),
        )
        .await
        .access;
    Some(World {
        s,
        proxy,
        sink,
        admin: t.admin.access,
        agent,
        session,
        cache,
        _root: root,
        listings,
        client,
    })
}

fn request(w: &World, n: usize) -> ActionRequest {
    if n.is_multiple_of(2) {
        ActionRequest::SendShowcase {
            channel: Channel::Email,
            client: ClientRef::Existing { id: w.client },
            listings: w.listings[..(n % 4) + 1].to_vec(),
            message: format!("Showcase {n}"),
        }
    } else {
        ActionRequest::CreateLead {
            lead: LeadInput {
                name: format!("Lead {n}"),
                phone: Some(format!("+971 55 000 {n:04}")),
                email: None,
                budget: None,
                interests: Some("a villa".into()),
                listings: vec![w.listings[n % w.listings.len()]],
            },
        }
    }
}

fn random_fault(rng: &mut StdRng) -> Fault {
    match rng.random_range(0..10) {
        0..=3 => Fault::Pass,
        4 | 5 => Fault::DropRequest,
        6 | 7 => Fault::CutResponse(0),
        _ => Fault::CutResponse(rng.random_range(1..120)),
    }
}

/// Emails the sink received, by Message-ID.
fn emails_by_id(sink: &SmtpSink) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for (_, raw) in sink.received() {
        let id = raw
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .expect("a Message-ID")
            .trim()
            .to_string();
        *out.entry(id).or_default() += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_happen_exactly_once_under_random_faults() {
    for seed in seeds(1..4) {
        let Some(mut w) = world(&format!("seed{seed}")).await else {
            return;
        };
        let mut rng = StdRng::seed_from_u64(seed);
        let n = 10;
        let keys: Vec<(String, ActionRequest)> = (0..n)
            .map(|i| {
                let req = request(&w, i);
                (w.cache.enqueue_action(&req).unwrap().key, req)
            })
            .collect();
        let mut outbox = Outbox::with_seed(seed);
        let mut at = crate::outbox::now();
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds < 200, "seed {seed}: the outbox never settled");
            // Later than any backoff, so every queued row is due.
            at += 3_600_000;
            match rng.random_range(0..10) {
                // The app is killed while a request is out: the server may have done it.
                0 => {
                    w.proxy.push([Fault::Stall]);
                    let drained = tokio::time::timeout(
                        Duration::from_millis(800),
                        outbox.drain(&mut w.cache, &w.session, at),
                    )
                    .await;
                    w.proxy.clear();
                    if drained.is_err() {
                        // Restarted: a new outbox recovers the row left `sending`.
                        outbox = Outbox::with_seed(seed + rounds);
                        let upstream = w.s.base.clone();
                        w.proxy.kill_upstream();
                        w.proxy.set_upstream(&upstream);
                    }
                }
                // An old request is replayed by someone holding it: the first record again.
                1 => {
                    let (key, req) = &keys[rng.random_range(0..keys.len())];
                    let r =
                        w.s.req(Method::POST, "/api/v1/actions", Some(&w.agent))
                            .header("idempotency-key", key.as_str())
                            .json(req)
                            .send()
                            .await
                            .unwrap();
                    assert!(
                        [
                            StatusCode::OK,
                            StatusCode::CONFLICT,
                            StatusCode::SERVICE_UNAVAILABLE
                        ]
                        .contains(&r.status()),
                        "replay: {}",
                        r.status()
                    );
                }
                _ => {
                    let faults: Vec<Fault> = (0..4).map(|_| random_fault(&mut rng)).collect();
                    w.proxy.push(faults);
                    let _ = outbox.drain(&mut w.cache, &w.session, at).await;
                    w.proxy.clear();
                }
            }
            let entries = w.cache.outbox().unwrap();
            if entries.iter().all(|e| e.status == ActionStatus::Delivered) {
                break;
            }
            assert!(
                entries.iter().all(|e| e.status != ActionStatus::Failed),
                "seed {seed}: {entries:?}"
            );
        }

        // Each effect once: one email per showcase, one Roost client per lead, one record
        // per key on the server.
        let entries = w.cache.outbox().unwrap();
        let emails = emails_by_id(&w.sink);
        let showcases: Vec<_> = entries
            .iter()
            .filter(|e| matches!(e.request, ActionRequest::SendShowcase { .. }))
            .collect();
        assert_eq!(emails.len(), showcases.len(), "seed {seed}: {emails:?}");
        for e in &showcases {
            let id = e.server.as_ref().unwrap().external_id.clone().unwrap();
            assert_eq!(
                emails.get(&id),
                Some(&1),
                "seed {seed}: {id} sent {emails:?}"
            );
        }
        let list = w.s.get("/api/v1/actions?limit=100", &w.agent).await;
        let server_keys: HashSet<&str> = list.body["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["idempotency_key"].as_str().unwrap())
            .collect();
        assert_eq!(server_keys.len(), n, "seed {seed}");
        assert!(keys.iter().all(|(k, _)| server_keys.contains(k.as_str())));
        let clients = w.s.get("/api/v1/clients", &w.admin).await;
        let leads = clients
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"].as_str().unwrap().starts_with("Lead "))
            .count();
        assert_eq!(leads, n / 2, "seed {seed}: one client per lead");
        let stats = w.proxy.stats();
        assert!(
            stats.faults >= 5,
            "seed {seed}: too few faults met: {stats:?}"
        );
        eprintln!("seed {seed}: settled in {rounds} rounds, {stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_settled_by_sync_without_sending_again() {
    let Some(mut w) = world("lost").await else {
        return;
    };
    let req = request(&w, 0);
    let key = w.cache.enqueue_action(&req).unwrap().key;
    // The server sends the email and commits; the answer never reaches the device.
    w.proxy.push([Fault::CutResponse(0)]);
    let mut outbox = Outbox::with_seed(7);
    let report = outbox
        .drain(&mut w.cache, &w.session, crate::outbox::now())
        .await
        .unwrap();
    assert_eq!(report.delivered, 0, "{report:?}");
    assert_eq!(emails_by_id(&w.sink).len(), 1);
    let queued = w.cache.outbox().unwrap();
    assert_eq!(queued[0].status, ActionStatus::Queued);
    // The next sync carries the server's record: delivered, with no second request.
    let report = w
        .session
        .sync_client()
        .unwrap()
        .sync(&mut w.cache, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    assert!(report.finished);
    let settled = &w.cache.outbox().unwrap()[0];
    assert_eq!(settled.key, key);
    assert_eq!(settled.status, ActionStatus::Delivered, "{settled:?}");
    assert_eq!(settled.attempts, 1);
    assert!(settled.next_attempt_at.is_none());
    let report = outbox
        .drain(&mut w.cache, &w.session, crate::outbox::now() + 3_600_000)
        .await
        .unwrap();
    assert_eq!(report.attempted, 0, "{report:?}");
    assert_eq!(emails_by_id(&w.sink).len(), 1);
}
