//! How fast a device's outbox empties once the network is back: `outbox_drain_actions_per_s`,
//! a device with 300 queued actions (200 WhatsApp showcases, each to its own client, and 100
//! leads) draining them through the real server on loopback, which performs each through a
//! WhatsApp Cloud API stand-in (showcases) or Roost's own client records (leads).

use std::sync::Arc;
use std::time::Instant;

use reqwest::{Method, StatusCode};
use roost_api::actions::{ActionRequest, ActionStatus, Channel, ClientRef, LeadInput};
use roost_core::Outbox;
use roost_tests::llm_standin::{Reply, StandIn};
use roost_tests::{Backend, TestServer, listings_csv};
use serde_json::json;

const SHOWCASES: usize = 200;
const LEADS: usize = 100;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.2} {unit}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let s = TestServer::start(Backend::Sqlite).await.expect("server");
    let t = s.register("Drain Bench", "drain", "enterprise").await;
    s.add_user(&t, "agent@drain.test", &["agent"]).await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(20).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut csv = String::from("Ref,Name,Email,Phone,Agent Email\n");
    for i in 0..SHOWCASES {
        csv.push_str(&format!(
            "C-{i},Client {i},c{i}@example.com,+971 50 {:03} {:04},agent@drain.test\n",
            100 + i / 1000,
            i % 10_000
        ));
    }
    let r = s
        .import(&t.admin.access, "c.csv", csv.into(), "kind=clients")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The Cloud API accepts every message, as it answers when all is well.
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = counter.clone();
    let graph = StandIn::start(move |r| {
        let n = c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let to = r.body["to"].as_str().unwrap_or_default().to_string();
        Reply::json(
            200,
            json!({ "messaging_product": "whatsapp", "contacts": [{ "input": to, "wa_id": to }],
                    "messages": [{ "id": format!("wamid.BENCH{n:06}") }] }),
        )
    })
    .await;
    let r = s
        .call(
            Method::PUT,
            "/api/v1/integrations/whatsapp",
            Some(&t.admin.access),
            Some(
                json!({ "phone_number_id": "106540352242922", "access_token": "EAAG-bench",
                         "base_url": graph.base, "app_secret": "bench-secret",
                         "template_name": "roost_showcase" }),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    let root = tempfile::tempdir().unwrap();
    let (session, mut cache) =
        roost_tests::synced_device(&s.base, root.path(), "drain", "agent@drain.test").await;
    let listings = cache.listing_ids().unwrap();
    let clients = cache.clients().unwrap();
    assert_eq!(clients.len(), SHOWCASES);
    for (i, client) in clients.iter().enumerate() {
        cache
            .enqueue_action(&ActionRequest::SendShowcase {
                channel: Channel::Whatsapp,
                client: ClientRef::Existing { id: client.id },
                listings: listings[..(i % 3) + 1].to_vec(),
                message: format!("Homes for you, {}", client.name),
            })
            .unwrap();
        if i < LEADS {
            cache
                .enqueue_action(&ActionRequest::CreateLead {
                    lead: LeadInput {
                        name: format!("Lead {i}"),
                        phone: Some(format!("+971 55 200 {i:04}")),
                        email: None,
                        budget: None,
                        interests: None,
                        listings: vec![listings[i % listings.len()]],
                    },
                })
                .unwrap();
        }
    }

    let mut outbox = Outbox::new();
    let start = Instant::now();
    // One drain sends everything due; a paced showcase comes back with a wait and goes in
    // a later drain, so drain until the outbox is settled.
    loop {
        let report = outbox
            .drain(&mut cache, &session, now_ms())
            .await
            .expect("drain");
        assert!(report.stopped.is_none(), "{report:?}");
        if report.next_due.is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let entries = cache.outbox().unwrap();
    assert!(
        entries.iter().all(|e| e.status == ActionStatus::Delivered),
        "not all delivered"
    );
    assert_eq!(
        counter.load(std::sync::atomic::Ordering::Relaxed) as usize,
        SHOWCASES
    );
    bench(
        "outbox_drain_actions_per_s",
        entries.len() as f64 / elapsed,
        "actions/s",
    );
}
