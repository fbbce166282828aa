//! Chat figures with the built-in grounded answerer over a 10,000-listing tenant on loopback:
//! time from the request to the first SSE event and to the first token, and retrieval (the
//! server's own `usage.retrieval_ms`), as p95 over a mix of questions.

use std::time::Instant;

use futures_util::StreamExt;
use reqwest::StatusCode;
use roost_api::chat::ChatEvent;
use roost_tests::{Backend, TestServer, listings_csv, synthetic};

const N: usize = 10_000;
const ROUNDS: usize = 6;

const QUESTIONS: &[&str] = &[
    "which of our 3 bed villas in Arabian Ranches are under 4M?",
    "2 bed apartments in JVC under 1.5M with sea view",
    "what's our policy on off-plan commission splits?",
    "what did 2-beds in JVC sell for per sqft last quarter?",
    "penthouse with a garden view in Dubai Marina",
    "show me townhouses in Palm Jumeirah",
    "how do we handle a client deposit?",
    "listings in Downtown Dubai between 2M and 3M",
];

const DOCS: &str = "# Commission policy\n\nOff-plan sales: the listing agent and the selling \
    agent split the commission 50/50 after the developer pays. Secondary market: 60/40 in \
    favour of the agent who brought the buyer.\n\n# Deposits\n\nA client deposit of 10% is \
    held in the escrow account; agents never hold cash.\n";

const MARKET: &str = r#"[{"area":"JVC","period":"2026-Q3","property_type":"Apartment","bedrooms":2,
  "median_price_per_sqft":1150,"currency":"AED","transactions":412,
  "notes":"2-bed apartments in JVC sold for AED 1,150 per sqft in Q3 2026"}]"#;

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.2} {unit}");
}

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * 0.95).ceil() as usize).clamp(1, v.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(embedder) = roost_tests::shared_embedder() else {
        eprintln!("the chat bench needs the model (ROOST_EMBED_MODEL_DIR): questions are embedded");
        std::process::exit(1);
    };
    let model = embedder.model_id().to_string();
    let s = TestServer::start(Backend::Sqlite).await.expect("server");
    let t = s.register("Chat Bench", "chatbench", "enterprise").await;
    let r = s
        .import(&t.admin.access, "l.csv", listings_csv(N).into(), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s
        .import(&t.admin.access, "policy.md", DOCS.into(), "kind=documents")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s
        .import(
            &t.admin.access,
            "market.json",
            MARKET.into(),
            "kind=market_intelligence",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Vectors as if the worker had made them (embedding 10k texts takes minutes here).
    synthetic::store_unit_vectors(&s.database_url, &t.id, &model, embedder.dim(), 1).await;
    let s = s.restart(Some(embedder)).await;
    let admin = s
        .login("chatbench", "admin@chatbench.test", "chatbench-admin-pass")
        .await;
    let http = reqwest::Client::new();

    let ask = |question: &'static str| {
        let http = http.clone();
        let url = format!("{}/api/v1/chat", s.base);
        let token = admin.access.clone();
        async move {
            let started = Instant::now();
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({ "question": question }))
                .send()
                .await
                .expect("sent");
            assert_eq!(resp.status(), StatusCode::OK);
            let mut events = eventsource_stream::EventStream::new(resp.bytes_stream());
            let (mut first_event, mut first_token, mut retrieval) = (None, None, None);
            while let Some(ev) = events.next().await {
                let ev = ev.expect("event");
                first_event.get_or_insert(started.elapsed().as_secs_f64() * 1000.0);
                match serde_json::from_str::<ChatEvent>(&ev.data).expect("chat event") {
                    ChatEvent::Token { .. } => {
                        first_token.get_or_insert(started.elapsed().as_secs_f64() * 1000.0);
                    }
                    ChatEvent::Done { usage } => {
                        retrieval = Some(usage.retrieval_ms as f64);
                        break;
                    }
                    ChatEvent::Error { message, .. } => panic!("{question}: {message}"),
                    _ => {}
                }
            }
            (
                first_event.expect("an event"),
                first_token.expect("a token"),
                retrieval.expect("done"),
            )
        }
    };

    // The first question loads the tenant's retrieval data from its feed.
    let started = Instant::now();
    ask(QUESTIONS[0]).await;
    bench(
        "chat_index_load_10k_ms",
        started.elapsed().as_secs_f64() * 1000.0,
        "ms",
    );

    let (mut first_events, mut first_tokens, mut retrievals) = (vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        for q in QUESTIONS {
            let (e, t, r) = ask(q).await;
            first_events.push(e);
            first_tokens.push(t);
            retrievals.push(r);
        }
    }
    bench("chat_first_event_ms_p95", p95(first_events), "ms");
    bench("chat_first_token_ms_p95", p95(first_tokens), "ms");
    bench("chat_retrieval_ms_p95", p95(retrievals), "ms");
}
