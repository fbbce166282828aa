//! Enqueueing an action on the device: the agent taps Send and the action must be in the
//! outbox (checked against the cache, written in one transaction) before the screen moves
//! on. An encrypted cache of 10,000 listings and 200 clients, 500 actions of each kind,
//! each timed alone. Prints `BENCH action_enqueue_ms_p95 <value> ms` (target ≤ 10 ms).
//!
//! `cargo bench -p roost-core --bench outbox`

use std::collections::BTreeMap;
use std::time::Instant;

use roost_api::actions::{ActionRequest, Channel, ClientRef, LeadInput};
use roost_api::knowledge::Client;
use roost_api::listings::{Listing, Price};
use roost_api::sync::{Change, ChangePage};
use roost_core::{Cache, CacheKey};
use uuid::Uuid;

const LISTINGS: u128 = 10_000;
const CLIENTS: u128 = 200;
const RUNS: usize = 1_000;

fn listing(n: u128) -> Listing {
    Listing {
        id: Uuid::from_u128(n + 1),
        external_id: format!("L-{n:05}"),
        title: Some(format!("{} bed villa", n % 6 + 1)),
        description: Some("Garden and a private pool, close to schools".into()),
        price: Some(Price {
            amount_minor: 150_000_000 + (n as i64 % 500) * 1_000_000,
            currency: "AED".into(),
        }),
        bedrooms: Some((n % 6 + 1) as u16),
        bathrooms: Some(2.0),
        size: None,
        property_type: Some("Villa".into()),
        community: Some("Arabian Ranches".into()),
        city: Some("Dubai".into()),
        status: Some("For Sale".into()),
        latitude: None,
        longitude: None,
        furnished: None,
        photos: vec![format!("https://img.example/{n}.jpg")],
        listed_at: None,
        attributes: BTreeMap::new(),
        updated_at: 1_700_000_000_000,
    }
}

fn client(n: u128) -> Client {
    Client {
        id: Uuid::from_u128(0xC000_0000 + n),
        external_id: format!("C-{n}"),
        name: format!("Client {n}"),
        email: Some(format!("client{n}@example.test")),
        phone: Some(format!("+971 50 {n:07}")),
        agent_user_id: None,
        agent_email: None,
        data: serde_json::json!({ "budget": "AED 4M" }),
        updated_at: 1,
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = CacheKey::generate().expect("cache key");
    let mut cache = Cache::open_encrypted(dir.path(), "bench", "agent", &key).expect("cache");
    let mut seq = 0i64;
    let mut changes: Vec<Change> = (0..LISTINGS)
        .map(|n| {
            seq += 1;
            Change::Listing {
                seq,
                listing: listing(n),
                embedding: None,
            }
        })
        .collect();
    changes.extend((0..CLIENTS).map(|n| {
        seq += 1;
        Change::Client {
            seq,
            client: client(n),
        }
    }));
    cache
        .apply_page(&ChangePage {
            changes,
            next_cursor: seq,
            has_more: false,
            head: seq,
            embedding_model: None,
            scope: "agent".into(),
        })
        .expect("fill the cache");
    cache.optimize().expect("checkpoint");

    let request = |i: usize| -> ActionRequest {
        let n = i as u128 * 7919;
        if i.is_multiple_of(2) {
            ActionRequest::SendShowcase {
                channel: if i.is_multiple_of(4) {
                    Channel::Whatsapp
                } else {
                    Channel::Email
                },
                client: ClientRef::Existing {
                    id: client(n % CLIENTS).id,
                },
                listings: (0..10)
                    .map(|k| listing((n + k * 101) % LISTINGS).id)
                    .collect(),
                message: "Hello! Here are the villas we talked about, with photos and prices."
                    .into(),
            }
        } else {
            ActionRequest::CreateLead {
                lead: LeadInput {
                    name: format!("Lead {i}"),
                    phone: Some("+971 55 333 4444".into()),
                    email: Some(format!("lead{i}@example.test")),
                    budget: Some(Price {
                        amount_minor: 400_000_000,
                        currency: "AED".into(),
                    }),
                    interests: Some("4 bed villa with a garden".into()),
                    listings: vec![listing(n % LISTINGS).id],
                },
            }
        }
    };

    let _ = cache.enqueue_action(&request(0)).expect("warm-up");
    let mut times: Vec<f64> = (1..=RUNS)
        .map(|i| {
            let req = request(i);
            let t = Instant::now();
            cache.enqueue_action(&req).expect("enqueue");
            t.elapsed().as_secs_f64() * 1_000.0
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    let p95 = times[(times.len() * 95).div_ceil(100) - 1];
    let p50 = times[times.len() / 2];
    eprintln!(
        "enqueue over {RUNS} actions: p50 {p50:.3} ms, p95 {p95:.3} ms, max {:.3} ms",
        times[times.len() - 1]
    );
    assert_eq!(cache.outbox().expect("outbox").len(), RUNS + 1);
    println!("BENCH action_enqueue_ms_p95 {p95:.3} ms");
}
