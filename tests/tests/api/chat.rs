//! Chat over real HTTP: the event stream and what is stored of it, answers grounded in the
//! company's data (cited records satisfy the question, nothing named that no source gives),
//! roles and tenants, conversations and feedback, and LLM providers behind the server played
//! by a local stand-in (OpenAI-compatible and Gemini wire formats).
//!
//! The test server embeds nothing, so retrieval here is keywords and filters only.
//! Usage rows (`chat_usage`) have no endpoint yet and are not checked.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use roost_answer::{Record, Source};
use roost_api::chat::{
    ChatErrorCode, ChatEvent, Citation, Conversation, ConversationList, MessageAuthor,
    MessageStatus, Rating, SourceKind, Usage,
};
use roost_api::knowledge::{Client, KnowledgeItem, KnowledgeKind};
use roost_api::listings::Listing;
use roost_api::users::Role;
use roost_tests::llm_standin::{Recorded, Reply, StandIn};
use roost_tests::{Resp, Session, Tenant, TestServer, on_both_backends, sse};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    the_answer_streams_as_events_and_is_stored_as_sent,
    answers_cite_only_records_that_satisfy_the_question,
    a_hyphenated_bedroom_count_filters_like_a_spaced_one,
    answers_about_knowledge_cite_the_document_the_figures_and_the_colleague,
    an_answer_never_denies_listings_that_exist,
    answers_follow_the_askers_role_and_client_ownership,
    answers_never_cross_tenants,
    conversations_belong_to_their_user_and_tenant,
    conversations_continue_list_delete_and_take_feedback,
    questions_are_validated_and_chat_can_be_switched_off,
    the_llm_key_is_write_only_and_for_admins,
    an_openai_compatible_provider_answers_through_the_server,
    a_gemini_provider_answers_through_the_server,
    an_answer_the_app_abandons_is_stored_as_failed,
);

roost_tests::on_both_backends_raw!(shared_knowledge_is_cited_as_shared);

// ---------------------------------------------------------------------------------------
// Seed data
// ---------------------------------------------------------------------------------------

const COMMUNITIES: [&str; 4] = ["Dubai Marina", "JVC", "Palm Jumeirah", "Arabian Ranches"];
/// One building per community and variant, so every listing title is different.
const BUILDINGS: [[&str; 2]; 4] = [
    ["Marina Gate", "Bay Central"],
    ["Bloom Towers", "Belgravia Heights"],
    ["Shoreline", "Golden Mile"],
    ["Saheel", "Alvorada"],
];

/// Asking price in AED of tenant A's listing in community `c`, with `beds`, variant `v`.
fn price_aed(c: usize, beds: u64, v: u64) -> u64 {
    let thousands = match c {
        0 => 200 + 700 * beds + 600 * v,
        1 => 250 + 550 * beds + 350 * v,
        2 => 500 + 1_500 * beds + 900 * v,
        _ => 600 + 900 * beds + 500 * v,
    };
    thousands * 1_000
}

fn property_type(c: usize, beds: u64, v: u64) -> &'static str {
    match c {
        2 if beds >= 4 => "Villa",
        3 if v == 0 => "Villa",
        3 => "Townhouse",
        _ => "Apartment",
    }
}

/// 40 listings: 4 communities × 1–5 beds × 2 variants, AED 0.8M–8.9M, some allowing pets.
fn tenant_a_listings_csv() -> String {
    let mut csv = String::from(
        "Ref,Title,Property Type,Community,City,Beds,Baths,Size (sqft),Asking Price,Status,Pets,Description\n",
    );
    let mut n = 0;
    for (c, community) in COMMUNITIES.iter().enumerate() {
        for beds in 1..=5u64 {
            for v in 0..2u64 {
                n += 1;
                let ty = property_type(c, beds, v);
                let building = BUILDINGS[c][v as usize];
                let title = format!("{beds} bed {} at {building}", ty.to_lowercase());
                let size = 600 + beds * 450 + v * 120;
                let pets = if (beds + v) % 3 == 0 { "allowed" } else { "" };
                csv.push_str(&format!(
                    "HH-{n:03},{title},{ty},{community},Dubai,{beds},{baths},{size},\"AED {price}\",For Sale,{pets},\"{title}: {size} sqft with a {view} view.\"\n",
                    baths = beds.min(4),
                    price = price_aed(c, beds, v),
                    view = if v == 0 { "sea" } else { "garden" },
                ));
            }
        }
    }
    csv
}

const TENANT_B_LISTINGS: &str = "Ref,Title,Property Type,Community,City,Beds,Baths,Size (sqft),Asking Price,Status,Description\n\
CR-001,3 bed apartment near Marina Gate,Apartment,Business Bay,Dubai,3,3,1650,\"AED 2,150,000\",For Sale,\"Canal view, three bedrooms.\"\n\
CR-002,2 bed apartment at Creek Vista,Apartment,Dubai Creek Harbour,Dubai,2,2,1100,\"AED 1,640,000\",For Sale,Creek view.\n\
CR-003,4 bed villa at Creek Palms,Villa,Dubai Creek Harbour,Dubai,4,4,3900,\"AED 6,300,000\",For Sale,Private garden.\n\
CR-004,1 bed apartment at Bay Square,Apartment,Business Bay,Dubai,1,1,780,\"AED 1,050,000\",For Sale,Close to the metro.\n\
CR-005,3 bed villa at Harbour Lane,Villa,Dubai Creek Harbour,Dubai,3,3,2900,\"AED 4,400,000\",For Sale,Corner plot.\n\
CR-006,2 bed apartment at Canal Heights,Apartment,Business Bay,Dubai,2,2,1200,\"AED 1,900,000\",For Sale,Pets allowed.\n";

const TENANT_A_POLICY: &str = "# Off-plan commission policy\n\n\
On off-plan sales the developer's commission is split 50/50 between the listing agent and the \
selling agent. The split is paid once the developer releases the commission to the agency.\n\n\
## Ready properties\n\n\
On ready (secondary) sales the agency keeps 30% of the commission and the agent receives the rest.\n";

const TENANT_A_MARKET: &str = r#"{ "currency": "AED", "source": "Harbour research", "items": [
  { "area": "JVC", "city": "Dubai", "period": "2026-Q3", "property_type": "Apartment", "bedrooms": 2,
    "median_price_per_sqft": 1150, "transactions": 312,
    "notes": "2-bed apartments in JVC sold for AED 1,150 per sqft in Q3 2026." },
  { "area": "Arabian Ranches", "city": "Dubai", "period": "2026-Q3", "property_type": "Villa", "bedrooms": 4,
    "median_price_per_sqft": 1480, "transactions": 64 }
] }"#;

const TENANT_A_RESOURCES: &str = r#"{ "resources": [
  { "title": "Quarterly targets policy", "audience": ["manager", "admin"],
    "body": "Managers only: each agent closes 30 deals per quarter and wins 12 exclusive listings." },
  { "title": "Viewing checklist",
    "body": "Confirm the budget, share the location pin and log the viewing in the CRM the same day." }
] }"#;

const TENANT_A_TEAM: &str = "Email,Name,Languages,Areas,Title\n\
nadia@harbour.test,Nadia Karim,\"English, Russian\",Palm Jumeirah,Senior Agent\n\
olga@harbour.test,Olga Ivanova,\"Russian, English\",JVC,Agent\n\
sam@harbour.test,Sam Lee,\"English, Mandarin\",Dubai Marina,Agent\n";

const TENANT_A_CLIENTS: &str = "Client Ref,Full Name,Email,Mobile,Budget (AED),Interests,Assigned Agent\n\
HC-1,Layla Haddad,layla@mail.test,+971 50 111 0001,4M,Villa in Arabian Ranches,agent1@harbour.test\n\
HC-2,Mei Chen,mei@mail.test,+971 50 111 0002,1.2M,1 bed apartment in JVC,agent1@harbour.test\n\
HC-3,Ivan Petrov,ivan@mail.test,+971 50 111 0003,8M,Villa on Palm Jumeirah,agent2@harbour.test\n\
HC-4,Tom Baker,tom@mail.test,+971 50 111 0004,5M,Family villa with a garden,agent2@harbour.test\n";

const TENANT_B_POLICY: &str = "# Creek referral rules\n\n\
Referral fees at Creek Realty are 25% of the agency commission, paid to the referring broker.\n";

const TENANT_B_TEAM: &str = "Email,Name,Languages,Areas,Title\n\
omar@creek.test,Omar Farouk,\"Arabic, English\",Business Bay,Agent\n\
irina@creek.test,Irina Volkova,\"Russian, English\",Dubai Creek Harbour,Agent\n";

/// Tenant A with its people and data, as its admin sees it.
struct World {
    a: Tenant,
    agent1: Session,
    agent1_id: Uuid,
    agent2: Session,
    agent2_id: Uuid,
    /// Holds manager and agent; acts as manager unless `X-Roost-Role` says otherwise.
    mgr: Session,
    listings: Vec<Listing>,
    knowledge: Vec<KnowledgeItem>,
    clients: Vec<Client>,
}

async fn import_ok(s: &TestServer, token: &str, name: &str, body: &str, query: &str) {
    let r = s.import(token, name, body.as_bytes().to_vec(), query).await;
    assert_eq!(r.status, StatusCode::OK, "import {name}: {}", r.body);
}

async fn knowledge_of(s: &TestServer, token: &str) -> Vec<KnowledgeItem> {
    let r = s.get("/api/v1/knowledge", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_value(r.body).expect("knowledge items")
}

async fn clients_of(s: &TestServer, token: &str) -> Vec<Client> {
    let r = s.get("/api/v1/clients", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_value(r.body).expect("clients")
}

async fn listings_of(s: &TestServer, token: &str) -> Vec<Listing> {
    s.all_listings(token)
        .await
        .into_iter()
        .map(|l| serde_json::from_value(l).expect("listing"))
        .collect()
}

impl World {
    async fn seed(s: &TestServer) -> World {
        let a = s.register("Harbour Homes", "harbour", "professional").await;
        let (agent1_id, agent1) = s.add_user(&a, "agent1@harbour.test", &["agent"]).await;
        let (agent2_id, agent2) = s.add_user(&a, "agent2@harbour.test", &["agent"]).await;
        let (_, mgr) = s
            .add_user(&a, "mgr@harbour.test", &["manager", "agent"])
            .await;
        let admin = &a.admin.access;
        import_ok(s, admin, "listings.csv", &tenant_a_listings_csv(), "").await;
        import_ok(
            s,
            admin,
            "commission-policy.md",
            TENANT_A_POLICY,
            "kind=documents",
        )
        .await;
        import_ok(
            s,
            admin,
            "market.json",
            TENANT_A_MARKET,
            "kind=market_intelligence",
        )
        .await;
        import_ok(
            s,
            admin,
            "resources.json",
            TENANT_A_RESOURCES,
            "kind=agent_resources",
        )
        .await;
        import_ok(s, admin, "team.csv", TENANT_A_TEAM, "kind=employees").await;
        import_ok(s, admin, "clients.csv", TENANT_A_CLIENTS, "kind=clients").await;
        let listings = listings_of(s, admin).await;
        assert_eq!(listings.len(), 40);
        let knowledge = knowledge_of(s, admin).await;
        let clients = clients_of(s, admin).await;
        assert_eq!(clients.len(), 4);
        World {
            agent1_id: agent1_id.parse().unwrap(),
            agent2_id: agent2_id.parse().unwrap(),
            a,
            agent1,
            agent2,
            mgr,
            listings,
            knowledge,
            clients,
        }
    }

    fn item(&self, kind: KnowledgeKind, pick: impl Fn(&KnowledgeItem) -> bool) -> &KnowledgeItem {
        self.knowledge
            .iter()
            .find(|i| i.kind == kind && pick(i))
            .unwrap_or_else(|| panic!("no {kind:?} item as expected in {:#?}", self.knowledge))
    }

    fn targets(&self) -> &KnowledgeItem {
        self.item(KnowledgeKind::AgentResource, |i| {
            i.title == "Quarterly targets policy"
        })
    }

    fn clients_of_agent(&self, agent: Uuid) -> BTreeSet<Uuid> {
        self.clients
            .iter()
            .filter(|c| c.agent_user_id == Some(agent))
            .map(|c| c.id)
            .collect()
    }

    /// Every id of tenant A: listings, knowledge, clients.
    fn ids(&self) -> BTreeSet<Uuid> {
        self.listings
            .iter()
            .map(|l| l.id)
            .chain(self.knowledge.iter().map(|k| k.id))
            .chain(self.clients.iter().map(|c| c.id))
            .collect()
    }
}

/// Tenant B: other communities, words and people, and one title close to one of A's.
async fn seed_b(s: &TestServer) -> (Tenant, Session) {
    let b = s
        .register("Creek Realty", "creekrealty", "professional")
        .await;
    let (_, agent) = s.add_user(&b, "agent@creek.test", &["agent"]).await;
    let admin = &b.admin.access;
    import_ok(s, admin, "listings.csv", TENANT_B_LISTINGS, "").await;
    import_ok(s, admin, "referrals.md", TENANT_B_POLICY, "kind=documents").await;
    import_ok(s, admin, "team.csv", TENANT_B_TEAM, "kind=employees").await;
    (b, agent)
}

// ---------------------------------------------------------------------------------------
// Asking
// ---------------------------------------------------------------------------------------

/// One answer as its events arrived.
#[derive(Debug)]
struct Asked {
    events: Vec<ChatEvent>,
}

impl Asked {
    fn start(&self) -> (Uuid, Uuid, Role) {
        match &self.events[0] {
            ChatEvent::Start {
                conversation_id,
                message_id,
                role,
            } => (*conversation_id, *message_id, *role),
            other => panic!("the first event is {other:?}"),
        }
    }

    fn conversation(&self) -> Uuid {
        self.start().0
    }

    fn message(&self) -> Uuid {
        self.start().1
    }

    fn tokens(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::Token { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn text(&self) -> String {
        self.tokens().concat()
    }

    fn citations(&self) -> &[Citation] {
        self.events
            .iter()
            .find_map(|e| match e {
                ChatEvent::Sources { citations } => Some(citations.as_slice()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no sources event in {:#?}", self.events))
    }

    fn cited_ids(&self) -> BTreeSet<Uuid> {
        self.citations().iter().map(|c| c.id).collect()
    }

    fn cited_of(&self, kind: SourceKind) -> BTreeSet<Uuid> {
        self.citations()
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.id)
            .collect()
    }

    fn usage(&self) -> &Usage {
        match self.events.last() {
            Some(ChatEvent::Done { usage }) => usage,
            _ => panic!("the answer did not end with done: {:#?}", self.events),
        }
    }

    fn error(&self) -> (ChatErrorCode, &str, Option<u64>) {
        match self.events.last() {
            Some(ChatEvent::Error {
                code,
                message,
                retry_after_s,
            }) => (*code, message.as_str(), *retry_after_s),
            _ => panic!("the answer did not end with an error: {:#?}", self.events),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.events.iter().any(|e| e.name() == name)
    }
}

async fn post_chat(
    s: &TestServer,
    token: &str,
    role: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut rb = s.req(Method::POST, "/api/v1/chat", Some(token)).json(&body);
    if let Some(r) = role {
        rb = rb.header("x-roost-role", r);
    }
    rb.send().await.expect("chat request sent")
}

/// A refused question: the error body.
async fn refused(s: &TestServer, token: &str, body: Value) -> Resp {
    let r = post_chat(s, token, None, body).await;
    assert_ne!(r.status(), StatusCode::OK, "the question was accepted");
    Resp::from(r).await
}

async fn ask(s: &TestServer, token: &str, question: &str) -> Asked {
    ask_in(s, token, None, None, question).await
}

/// Asks and reads the whole stream, checking on the way what every stream must be: SSE
/// events whose name matches their data's variant, in the order start, token*, then either
/// sources and done or an error; a finished answer's citations are exactly the in-range
/// `[n]` markers of its text, in first-use order.
async fn ask_in(
    s: &TestServer,
    token: &str,
    role: Option<&str>,
    conversation: Option<Uuid>,
    question: &str,
) -> Asked {
    let mut body = json!({ "question": question });
    if let Some(c) = conversation {
        body["conversation_id"] = json!(c);
    }
    let r = post_chat(s, token, role, body).await;
    let status = r.status();
    if status != StatusCode::OK {
        panic!("chat answered {status}: {}", Resp::from(r).await.body);
    }
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "content-type {content_type}"
    );
    let raw = sse::read_all(r).await;
    let events: Vec<ChatEvent> = raw
        .iter()
        .map(|e| {
            let parsed: ChatEvent = serde_json::from_str(&e.data)
                .unwrap_or_else(|err| panic!("event {e:?} is not a ChatEvent: {err}"));
            assert_eq!(
                parsed.name(),
                e.event,
                "event name and data disagree: {e:?}"
            );
            parsed
        })
        .collect();
    assert!(
        matches!(events.first(), Some(ChatEvent::Start { .. })),
        "{events:#?}"
    );
    let tokens_end = 1 + events[1..]
        .iter()
        .take_while(|e| matches!(e, ChatEvent::Token { .. }))
        .count();
    let tail: Vec<&str> = events[tokens_end..].iter().map(ChatEvent::name).collect();
    assert!(
        tail == ["sources", "done"] || tail == ["error"] || tail == ["sources", "error"],
        "after start and tokens came {tail:?}: {events:#?}"
    );
    let asked = Asked { events };
    if tail == ["sources", "done"] {
        let numbers: Vec<u32> = asked.citations().iter().map(|c| c.n).collect();
        assert_eq!(
            numbers,
            roost_answer::cited_numbers(&asked.text(), asked.usage().sources as usize),
            "citations are the text's markers: {}",
            asked.text()
        );
    }
    asked
}

async fn conversation(s: &TestServer, token: &str, id: Uuid) -> Conversation {
    let r = s
        .get(&format!("/api/v1/chat/conversations/{id}"), token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_value(r.body).expect("a conversation")
}

async fn conversations(s: &TestServer, token: &str) -> ConversationList {
    let r = s.get("/api/v1/chat/conversations", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_value(r.body).expect("a conversation list")
}

async fn feedback(s: &TestServer, token: &str, message: Uuid, body: Value) -> Resp {
    s.call(
        Method::PUT,
        &format!("/api/v1/chat/messages/{message}/feedback"),
        Some(token),
        Some(body),
    )
    .await
}

async fn delete_conversation(s: &TestServer, token: &str, id: Uuid) -> Resp {
    s.call(
        Method::DELETE,
        &format!("/api/v1/chat/conversations/{id}"),
        Some(token),
        None,
    )
    .await
}

/// The cited records as the asker sees them: listings through `GET /api/v1/listings/{id}`,
/// knowledge and clients from the asker's own lists. Panics when the asker cannot see one.
async fn sources_for(s: &TestServer, token: &str, citations: &[Citation]) -> Vec<Source> {
    let r = s.get("/api/v1/knowledge?include_shared=true", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let knowledge: Vec<KnowledgeItem> = serde_json::from_value(r.body).expect("knowledge");
    let clients = clients_of(s, token).await;
    let mut out = Vec::new();
    for c in citations {
        let record = match c.kind {
            SourceKind::Listing => {
                let r = s.get(&format!("/api/v1/listings/{}", c.id), token).await;
                assert_eq!(r.status, StatusCode::OK, "cited listing {c:?}: {}", r.body);
                Record::Listing(serde_json::from_value(r.body).expect("listing"))
            }
            SourceKind::Client => Record::Client(
                clients
                    .iter()
                    .find(|x| x.id == c.id)
                    .unwrap_or_else(|| panic!("cited client {c:?} is not the asker's"))
                    .clone(),
            ),
            _ => {
                let item = knowledge
                    .iter()
                    .find(|x| x.id == c.id)
                    .unwrap_or_else(|| panic!("cited item {c:?} is not visible to the asker"))
                    .clone();
                assert_eq!(SourceKind::from(item.kind), c.kind, "{c:?}");
                Record::Knowledge {
                    item,
                    shared: c.shared,
                }
            }
        };
        let source = Source { n: c.n, record };
        assert_eq!(source.citation(), *c, "the citation describes its record");
        out.push(source);
    }
    out
}

/// Asserts the answer names no listing and no amount that its cited sources do not give.
async fn assert_grounded(s: &TestServer, token: &str, asked: &Asked, all: &[Listing]) {
    let sources = sources_for(s, token, asked.citations()).await;
    let text = asked.text();
    let ungrounded = roost_answer::ungrounded_mentions(&text, &sources, all);
    assert!(
        ungrounded.is_empty(),
        "ungrounded {ungrounded:?} in:\n{text}"
    );
}

async fn put_config(s: &TestServer, admin: &Session, edit: impl FnOnce(&mut Value)) -> Resp {
    let current = s.get("/api/v1/config", &admin.access).await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.body);
    let etag = current.header("etag").expect("etag").to_string();
    let mut config = current.body["config"].clone();
    edit(&mut config);
    Resp::from(
        s.req(Method::PUT, "/api/v1/config", Some(&admin.access))
            .header("if-match", etag)
            .json(&config)
            .send()
            .await
            .expect("config sent"),
    )
    .await
}

async fn put_key(s: &TestServer, token: &str, body: Value) -> Resp {
    s.call(
        Method::PUT,
        "/api/v1/integrations/llm/key",
        Some(token),
        Some(body),
    )
    .await
}

fn aed(l: &Listing) -> f64 {
    let p = l.price.as_ref().expect("a price");
    assert_eq!(p.currency, "AED");
    p.amount_minor as f64 / 100.0
}

// ---------------------------------------------------------------------------------------
// The stream and what is stored
// ---------------------------------------------------------------------------------------

async fn the_answer_streams_as_events_and_is_stored_as_sent(s: TestServer) {
    let w = World::seed(&s).await;
    let question = "which of our 3-bed listings in Marina are under 2.5M?";
    let asked = ask_in(&s, &w.agent1.access, None, None, &format!("  {question}\n")).await;
    let (conversation_id, message_id, role) = asked.start();
    assert_eq!(role, Role::Agent);
    assert!(!asked.tokens().is_empty(), "at least one token");
    assert!(!asked.citations().is_empty(), "{}", asked.text());
    let usage = asked.usage();
    assert_eq!(usage.provider, "grounded");
    assert_eq!(usage.model, None);
    assert!(usage.sources as usize >= asked.citations().len());
    assert!(usage.first_token_ms <= usage.total_ms && usage.retrieval_ms <= usage.total_ms);

    let stored = conversation(&s, &w.agent1.access, conversation_id).await;
    assert_eq!(stored.id, conversation_id);
    assert_eq!(stored.title, question, "the title is the trimmed question");
    assert_eq!(stored.messages.len(), 2);
    let (q, a) = (&stored.messages[0], &stored.messages[1]);
    assert_eq!(
        (q.author, q.text.as_str(), q.status),
        (MessageAuthor::User, question, MessageStatus::Complete)
    );
    assert_eq!(a.id, message_id);
    assert_eq!(a.author, MessageAuthor::Assistant);
    assert_eq!(a.status, MessageStatus::Complete);
    assert_eq!(a.text, asked.text(), "stored text is what streamed");
    assert_eq!(
        a.citations,
        asked.citations(),
        "stored citations are the sources event"
    );
    assert_eq!(a.provider.as_deref(), Some("grounded"));
    assert_eq!((a.error.as_deref(), a.rating), (None, None));
    assert!(q.created_at <= a.created_at);
}

// ---------------------------------------------------------------------------------------
// Grounding
// ---------------------------------------------------------------------------------------

struct Expect {
    question: &'static str,
    beds: Option<u16>,
    community: &'static str,
    property_type: Option<&'static str>,
    max_aed: Option<f64>,
    min_aed: Option<f64>,
}

impl Expect {
    fn admits(&self, l: &Listing) -> bool {
        self.beds.is_none_or(|b| l.bedrooms == Some(b))
            && l.community.as_deref() == Some(self.community)
            && self
                .property_type
                .is_none_or(|t| l.property_type.as_deref() == Some(t))
            && self.max_aed.is_none_or(|m| aed(l) <= m)
            && self.min_aed.is_none_or(|m| aed(l) >= m)
    }
}

/// Asks `case.question` as agent1: every cited record is a listing passing the question's
/// filters, every passing listing (the seed keeps them under 8) is cited, and the text is
/// grounded in what is cited.
async fn check_listing_answer(s: &TestServer, w: &World, case: &Expect) {
    let token = &w.agent1.access;
    let expected: BTreeSet<Uuid> = w
        .listings
        .iter()
        .filter(|l| case.admits(l))
        .map(|l| l.id)
        .collect();
    assert!(
        !expected.is_empty() && expected.len() < w.listings.len() / 4,
        "the seed must make {:?} selective",
        case.question
    );
    let asked = ask(s, token, case.question).await;
    for c in asked.citations() {
        assert_eq!(c.kind, SourceKind::Listing, "{}: {c:?}", case.question);
        let r = s.get(&format!("/api/v1/listings/{}", c.id), token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let l: Listing = serde_json::from_value(r.body).expect("cited listing");
        assert!(
            case.admits(&l),
            "{}: cited {} ({:?} beds, {:?}, {:?}, AED {})\n{}",
            case.question,
            l.external_id,
            l.bedrooms,
            l.property_type,
            l.community,
            aed(&l),
            asked.text()
        );
    }
    assert_eq!(
        asked.cited_of(SourceKind::Listing),
        expected,
        "{}: every match is cited\n{}",
        case.question,
        asked.text()
    );
    assert_grounded(s, token, &asked, &w.listings).await;
}

async fn answers_cite_only_records_that_satisfy_the_question(s: TestServer) {
    let w = World::seed(&s).await;
    let token = &w.agent1.access;
    let cases = [
        Expect {
            // "3-bed" (hyphenated) has its own test below.
            question: "which of our 3 bed listings in Marina are under 2.5M?",
            beds: Some(3),
            community: "Dubai Marina",
            property_type: None,
            max_aed: Some(2_500_000.0),
            min_aed: None,
        },
        Expect {
            question: "villas in Arabian Ranches",
            beds: None,
            community: "Arabian Ranches",
            property_type: Some("Villa"),
            max_aed: None,
            min_aed: None,
        },
        Expect {
            question: "2 bed apartments in JVC under 1.5M",
            beds: Some(2),
            community: "JVC",
            property_type: Some("Apartment"),
            max_aed: Some(1_500_000.0),
            min_aed: None,
        },
        Expect {
            question: "any 4 bed villas on Palm Jumeirah over 6.8M?",
            beds: Some(4),
            community: "Palm Jumeirah",
            property_type: Some("Villa"),
            max_aed: None,
            min_aed: Some(6_800_000.0),
        },
    ];
    for case in &cases {
        check_listing_answer(&s, &w, case).await;
    }

    // The answers follow the data: a new match is cited by the next answer.
    let extra = "Ref,Title,Property Type,Community,City,Beds,Baths,Size (sqft),Asking Price,Status\n\
                 HH-041,3 bed apartment at Marina Promenade,Apartment,Dubai Marina,Dubai,3,3,1900,\"AED 2,050,000\",For Sale\n";
    import_ok(&s, &w.a.admin.access, "more.csv", extra, "").await;
    let all = listings_of(&s, token).await;
    let new = all.iter().find(|l| l.external_id == "HH-041").unwrap();
    let asked = ask(&s, token, cases[0].question).await;
    assert!(
        asked.cited_ids().contains(&new.id),
        "the new listing is cited: {}",
        asked.text()
    );
    assert_grounded(&s, token, &asked, &all).await;

    // …and a listing gone from the data is no longer cited.
    let gone = w
        .listings
        .iter()
        .find(|l| l.external_id == "HH-005")
        .unwrap();
    assert!(asked.cited_ids().contains(&gone.id), "{}", asked.text());
    let without: String = tenant_a_listings_csv()
        .lines()
        .filter(|l| !l.starts_with("HH-005,"))
        .map(|l| format!("{l}\n"))
        // HH-041 with this file's two more columns (pets, description) empty.
        .chain(extra.lines().skip(1).map(|l| format!("{l},,\n")))
        .collect();
    import_ok(&s, &w.a.admin.access, "all.csv", &without, "mode=replace").await;
    let all = listings_of(&s, token).await;
    assert_eq!(all.len(), 40);
    let asked = ask(&s, token, cases[0].question).await;
    assert_eq!(
        asked.cited_ids(),
        BTreeSet::from([new.id]),
        "{}",
        asked.text()
    );
    assert_grounded(&s, token, &asked, &all).await;
}

async fn answers_about_knowledge_cite_the_document_the_figures_and_the_colleague(s: TestServer) {
    let w = World::seed(&s).await;
    let token = &w.agent1.access;
    let all = &w.listings;
    let policy = ask(
        &s,
        token,
        "what's our policy on off-plan commission splits?",
    )
    .await;
    let chunks: BTreeSet<Uuid> = w
        .knowledge
        .iter()
        .filter(|i| i.kind == KnowledgeKind::Document && i.body.contains("50/50"))
        .map(|i| i.id)
        .collect();
    assert!(
        !policy.cited_of(SourceKind::Document).is_disjoint(&chunks),
        "the policy is cited: {:?}\n{}",
        policy.citations(),
        policy.text()
    );
    assert!(policy.text().contains("50/50"), "{}", policy.text());
    assert!(policy.cited_of(SourceKind::Listing).is_empty());
    assert_grounded(&s, token, &policy, all).await;

    let jvc = w.item(KnowledgeKind::MarketIntelligence, |i| {
        i.title.contains("JVC")
    });
    let market = ask(
        &s,
        token,
        "what did 2-bed apartments in JVC sell for per sqft in Q3 2026?",
    )
    .await;
    assert!(
        market.cited_ids().contains(&jvc.id),
        "{:?}\n{}",
        market.citations(),
        market.text()
    );
    assert!(market.text().contains("1,150"), "{}", market.text());
    assert!(market.cited_of(SourceKind::Listing).is_empty());
    assert_grounded(&s, token, &market, all).await;

    let nadia = w.item(KnowledgeKind::Employee, |i| i.title == "Nadia Karim");
    let people = ask(
        &s,
        token,
        "who on the team speaks Russian and covers Palm Jumeirah?",
    )
    .await;
    assert_eq!(
        people.citations().first().map(|c| (c.kind, c.id)),
        Some((SourceKind::Employee, nadia.id)),
        "Nadia first: {:?}\n{}",
        people.citations(),
        people.text()
    );
    assert_grounded(&s, token, &people, all).await;
}

/// Questions about market figures, people or clients name a community, a type or a bedroom
/// count; listings are not what they ask for, but the answer must not then deny that such
/// listings exist.
async fn an_answer_never_denies_listings_that_exist(s: TestServer) {
    let w = World::seed(&s).await;
    for (question, community, property_type) in [
        (
            "what did 2-bed apartments in JVC sell for per sqft in Q3 2026?",
            Some("JVC"),
            Some("Apartment"),
        ),
        (
            "who on the team speaks Russian and covers Palm Jumeirah?",
            Some("Palm Jumeirah"),
            None,
        ),
        ("which of my clients want a villa?", None, Some("Villa")),
    ] {
        let matching = w
            .listings
            .iter()
            .filter(|l| community.is_none_or(|c| l.community.as_deref() == Some(c)))
            .filter(|l| property_type.is_none_or(|t| l.property_type.as_deref() == Some(t)))
            .count();
        assert!(matching > 0);
        let asked = ask(&s, &w.agent1.access, question).await;
        assert!(
            !asked.text().contains("No listing"),
            "{question}: {matching} listings match, yet the answer says none does:\n{}",
            asked.text()
        );
    }
}

/// "3-bed" is how agents write it (and the example question of the design); it must filter
/// exactly as "3 bed" does.
async fn a_hyphenated_bedroom_count_filters_like_a_spaced_one(s: TestServer) {
    let w = World::seed(&s).await;
    for case in [
        Expect {
            question: "which of our 3-bed listings in Marina are under 2.5M?",
            beds: Some(3),
            community: "Dubai Marina",
            property_type: None,
            max_aed: Some(2_500_000.0),
            min_aed: None,
        },
        Expect {
            question: "2-bed apartments in JVC under 1.5M",
            beds: Some(2),
            community: "JVC",
            property_type: Some("Apartment"),
            max_aed: Some(1_500_000.0),
            min_aed: None,
        },
    ] {
        check_listing_answer(&s, &w, &case).await;
    }
}

// ---------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------

async fn answers_follow_the_askers_role_and_client_ownership(s: TestServer) {
    let w = World::seed(&s).await;
    let own1 = w.clients_of_agent(w.agent1_id);
    let own2 = w.clients_of_agent(w.agent2_id);
    assert_eq!((own1.len(), own2.len()), (2, 2));
    let names_of = |ids: &BTreeSet<Uuid>| -> Vec<String> {
        w.clients
            .iter()
            .filter(|c| ids.contains(&c.id))
            .map(|c| c.name.clone())
            .collect()
    };
    let question = "which of my clients want a villa?";

    for (session, own, other) in [(&w.agent1, &own1, &own2), (&w.agent2, &own2, &own1)] {
        let asked = ask(&s, &session.access, question).await;
        assert_eq!(asked.start().2, Role::Agent);
        let cited = asked.cited_of(SourceKind::Client);
        assert!(!cited.is_empty(), "{}", asked.text());
        assert!(
            cited.is_subset(own),
            "{}: {cited:?} not all own",
            session.email
        );
        for name in names_of(other) {
            assert!(
                !asked.text().contains(&name),
                "{name} leaked to {}",
                session.email
            );
        }
        assert_grounded(&s, &session.access, &asked, &w.listings).await;
    }

    // The manager sees the whole team's clients; acting as an agent, only their own (none).
    let asked = ask(&s, &w.mgr.access, question).await;
    assert_eq!(asked.start().2, Role::Manager);
    let cited = asked.cited_of(SourceKind::Client);
    assert!(
        !cited.is_disjoint(&own1) && !cited.is_disjoint(&own2),
        "both agents' clients: {}",
        asked.text()
    );
    let as_agent = ask_in(&s, &w.mgr.access, Some("agent"), None, question).await;
    assert_eq!(as_agent.start().2, Role::Agent);
    assert!(as_agent.cited_of(SourceKind::Client).is_empty());
    for c in &w.clients {
        assert!(!as_agent.text().contains(&c.name), "{}", as_agent.text());
    }
    let admin = ask(&s, &w.a.admin.access, question).await;
    assert_eq!(admin.start().2, Role::Admin);
    assert!(!admin.cited_of(SourceKind::Client).is_empty());
    // A role the user does not hold is refused.
    let r = post_chat(
        &s,
        &w.agent1.access,
        Some("manager"),
        json!({ "question": question }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The managers-only resource: never for an agent, found for the manager.
    let targets = w.targets();
    let question = "what is the policy on quarterly targets?";
    for (session, role) in [(&w.agent1, None), (&w.mgr, Some("agent"))] {
        let asked = ask_in(&s, &session.access, role, None, question).await;
        assert!(!asked.cited_ids().contains(&targets.id), "{}", asked.text());
        assert!(!asked.text().contains("30 deals"), "{}", asked.text());
    }
    let asked = ask(&s, &w.mgr.access, question).await;
    assert!(
        asked.cited_ids().contains(&targets.id),
        "{:?}\n{}",
        asked.citations(),
        asked.text()
    );
    assert_grounded(&s, &w.mgr.access, &asked, &w.listings).await;

    // Ownership follows the data: Layla moves to agent2.
    let layla = w.clients.iter().find(|c| c.name == "Layla Haddad").unwrap();
    let moved = TENANT_A_CLIENTS.replace(
        "Villa in Arabian Ranches,agent1@harbour.test",
        "Villa in Arabian Ranches,agent2@harbour.test",
    );
    assert_ne!(moved, TENANT_A_CLIENTS);
    import_ok(&s, &w.a.admin.access, "clients.csv", &moved, "kind=clients").await;
    let question = "which of my clients want a villa?";
    let agent1 = ask(&s, &w.agent1.access, question).await;
    assert!(!agent1.cited_ids().contains(&layla.id), "{}", agent1.text());
    assert!(!agent1.text().contains("Layla"), "{}", agent1.text());
    let agent2 = ask(&s, &w.agent2.access, question).await;
    assert!(agent2.cited_ids().contains(&layla.id), "{}", agent2.text());
}

// ---------------------------------------------------------------------------------------
// Tenants
// ---------------------------------------------------------------------------------------

async fn answers_never_cross_tenants(s: TestServer) {
    let w = World::seed(&s).await;
    let (b, b_agent) = seed_b(&s).await;
    let a_ids = w.ids();
    let b_listings = listings_of(&s, &b.admin.access).await;
    let b_ids: BTreeSet<Uuid> = b_listings
        .iter()
        .map(|l| l.id)
        .chain(knowledge_of(&s, &b.admin.access).await.iter().map(|k| k.id))
        .collect();
    let a_words: Vec<String> = w
        .listings
        .iter()
        .flat_map(|l| [l.external_id.clone(), l.title.clone().unwrap_or_default()])
        .chain(w.knowledge.iter().map(|k| k.title.clone()))
        .chain(w.clients.iter().map(|c| c.name.clone()))
        .chain(["50/50".to_string(), "30 deals".to_string()])
        .collect();

    let a_questions = [
        "which of our 3-bed listings in Marina are under 2.5M?",
        "villas in Arabian Ranches",
        "show me the listings at Marina Gate",
        "who on the team speaks Russian and covers Palm Jumeirah?",
        "what's our policy on off-plan commission splits?",
        "what did 2-bed apartments in JVC sell for per sqft in Q3 2026?",
        "which of my clients want a villa?",
        "what is the policy on quarterly targets?",
    ];
    for token in [&b.admin.access, &b_agent.access] {
        for q in a_questions {
            let asked = ask(&s, token, q).await;
            let leaked: Vec<Uuid> = asked.cited_ids().intersection(&a_ids).copied().collect();
            assert!(leaked.is_empty(), "{q}: tenant A cited to B: {leaked:?}");
            assert!(
                asked.cited_ids().is_subset(&b_ids),
                "{q}: {:?}",
                asked.citations()
            );
            let text = asked.text();
            for word in &a_words {
                assert!(
                    !text.contains(word.as_str()),
                    "{q}: '{word}' of A in B's answer:\n{text}"
                );
            }
            assert_grounded(&s, token, &asked, &b_listings).await;
        }
    }
    // The look-alike title is B's own and may be cited; A's Marina Gate listings never.
    let look_alike = b_listings
        .iter()
        .find(|l| l.external_id == "CR-001")
        .unwrap();
    let asked = ask(&s, &b_agent.access, "show me the listings at Marina Gate").await;
    assert!(
        asked.cited_ids().iter().all(|id| *id == look_alike.id),
        "{:?}",
        asked.citations()
    );

    // And the other way round.
    let b_words = [
        "CR-0",
        "Creek Vista",
        "Canal Heights",
        "Omar Farouk",
        "Irina Volkova",
        "25%",
    ];
    for q in [
        "apartments in Business Bay",
        "listings in Dubai Creek Harbour",
        "who speaks Russian and covers Dubai Creek Harbour?",
        "what are the referral rules for fees?",
    ] {
        let asked = ask(&s, &w.agent1.access, q).await;
        let leaked: Vec<Uuid> = asked.cited_ids().intersection(&b_ids).copied().collect();
        assert!(leaked.is_empty(), "{q}: tenant B cited to A: {leaked:?}");
        for word in b_words {
            assert!(
                !asked.text().contains(word),
                "{q}: '{word}':\n{}",
                asked.text()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Conversations are private
// ---------------------------------------------------------------------------------------

async fn conversations_belong_to_their_user_and_tenant(s: TestServer) {
    let w = World::seed(&s).await;
    let b = s
        .register("Creek Realty", "creekrealty", "professional")
        .await;
    let asked = ask(&s, &w.agent1.access, "villas in Arabian Ranches").await;
    let (conv, msg) = (asked.conversation(), asked.message());
    let mine = asked.start();

    for (who, token) in [
        ("agent2", &w.agent2.access),
        ("the manager", &w.mgr.access),
        ("A's admin", &w.a.admin.access),
        ("B's admin", &b.admin.access),
    ] {
        let r = s
            .get(&format!("/api/v1/chat/conversations/{conv}"), token)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} GET: {}", r.body);
        assert_eq!(r.code(), "not_found");
        let r = delete_conversation(&s, token, conv).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} DELETE: {}", r.body);
        let r = feedback(&s, token, msg, json!({ "rating": "down" })).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{who} feedback: {}",
            r.body
        );
        let r = refused(
            &s,
            token,
            json!({ "conversation_id": conv, "question": "and in JVC?" }),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{who} continue: {}",
            r.body
        );
        assert!(
            conversations(&s, token)
                .await
                .conversations
                .iter()
                .all(|c| c.id != conv),
            "{who} lists it"
        );
    }

    // Nothing the others tried changed it.
    let stored = conversation(&s, &w.agent1.access, conv).await;
    assert_eq!(stored.messages.len(), 2);
    assert_eq!(stored.messages[1].rating, None);
    assert_eq!(stored.messages[1].id, mine.1);
    let list = conversations(&s, &w.agent1.access).await;
    assert_eq!(list.conversations.len(), 1);
    assert_eq!(list.conversations[0].messages, 2);
}

// ---------------------------------------------------------------------------------------
// Conversations over time
// ---------------------------------------------------------------------------------------

async fn conversations_continue_list_delete_and_take_feedback(s: TestServer) {
    let w = World::seed(&s).await;
    let token = &w.agent1.access;
    let first = ask(&s, token, "villas in Arabian Ranches").await;
    let c1 = first.conversation();
    let second = ask(&s, token, "2 bed apartments in JVC under 1.5M").await;
    let c2 = second.conversation();
    assert_ne!(c1, c2, "no conversation_id starts a new conversation");

    let follow = ask_in(&s, token, None, Some(c1), "which of them allow pets?").await;
    assert_eq!(
        follow.conversation(),
        c1,
        "the answer continues the conversation"
    );
    let stored = conversation(&s, token, c1).await;
    assert_eq!(stored.title, "villas in Arabian Ranches");
    let shape: Vec<(MessageAuthor, &str)> = stored
        .messages
        .iter()
        .map(|m| (m.author, m.text.as_str()))
        .collect();
    let (t1, t2) = (first.text(), follow.text());
    assert_eq!(
        shape,
        [
            (MessageAuthor::User, "villas in Arabian Ranches"),
            (MessageAuthor::Assistant, t1.as_str()),
            (MessageAuthor::User, "which of them allow pets?"),
            (MessageAuthor::Assistant, t2.as_str()),
        ]
    );
    assert_eq!(stored.messages[3].id, follow.message());

    // Newest activity first: c1 was continued after c2 started.
    let list = conversations(&s, token).await.conversations;
    let order: Vec<(Uuid, u32)> = list.iter().map(|c| (c.id, c.messages)).collect();
    assert_eq!(order, [(c1, 4), (c2, 2)]);
    assert!(list[0].updated_at >= list[1].updated_at);
    assert_eq!(list[1].title, "2 bed apartments in JVC under 1.5M");

    // Feedback: the latest rating counts; only answers take it.
    let answer = first.message();
    let r = feedback(&s, token, answer, json!({ "rating": "up" })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        conversation(&s, token, c1).await.messages[1].rating,
        Some(Rating::Up)
    );
    let r = feedback(
        &s,
        token,
        answer,
        json!({ "rating": "down", "comment": "missed the townhouses" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let stored = conversation(&s, token, c1).await;
    assert_eq!(stored.messages[1].rating, Some(Rating::Down));
    assert_eq!(stored.messages[3].rating, None, "only the rated answer");
    let question_id = stored.messages[0].id;
    let r = feedback(&s, token, question_id, json!({ "rating": "up" })).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a question takes no rating"
    );
    let r = feedback(&s, token, Uuid::now_v7(), json!({ "rating": "up" })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = feedback(&s, token, answer, json!({ "rating": "meh" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = feedback(&s, token, answer, json!({ "rating": "up", "stars": 5 })).await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("stars")
        )
    );
    let r = feedback(
        &s,
        token,
        answer,
        json!({ "rating": "up", "comment": "x".repeat(2_001) }),
    )
    .await;
    assert_eq!(
        (r.status, r.field()),
        (StatusCode::BAD_REQUEST, Some("comment"))
    );
    assert_eq!(
        conversation(&s, token, c1).await.messages[1].rating,
        Some(Rating::Down),
        "refused feedback changes nothing"
    );

    // Delete: gone for every endpoint.
    let r = delete_conversation(&s, token, c2).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = s
        .get(&format!("/api/v1/chat/conversations/{c2}"), token)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        delete_conversation(&s, token, c2).await.status,
        StatusCode::NOT_FOUND
    );
    let r = feedback(&s, token, second.message(), json!({ "rating": "up" })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = refused(
        &s,
        token,
        json!({ "conversation_id": c2, "question": "and studios?" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = conversations(&s, token).await.conversations;
    assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [c1]);

    // A long question's conversation is titled by its first line, shortened.
    let long = format!("{}?\nand with a garden", "spacious family villa ".repeat(6));
    let asked = ask(&s, token, &long).await;
    let title = conversation(&s, token, asked.conversation()).await.title;
    assert!(
        title.chars().count() <= 80
            && title.ends_with('…')
            && title.starts_with("spacious family villa"),
        "{title}"
    );
    let audit = s.get("/api/v1/audit", &w.a.admin.access).await;
    assert!(
        audit.body.to_string().contains("chat.delete_conversation"),
        "{}",
        audit.body
    );
}

// ---------------------------------------------------------------------------------------
// Validation and the feature switch
// ---------------------------------------------------------------------------------------

async fn questions_are_validated_and_chat_can_be_switched_off(s: TestServer) {
    let t = s.register("Gate Homes", "gate", "professional").await;
    let (_, agent) = s.add_user(&t, "agent@gate.test", &["agent"]).await;
    let token = &agent.access;

    for q in ["", "   \n\t "] {
        let r = refused(&s, token, json!({ "question": q })).await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (
                StatusCode::BAD_REQUEST,
                "validation_failed",
                Some("question")
            ),
            "{q:?}: {}",
            r.body
        );
    }
    let r = refused(&s, token, json!({ "question": "hi", "tone": "formal" })).await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("tone")
        ),
        "{}",
        r.body
    );
    let r = refused(&s, token, json!({})).await;
    assert_eq!(
        (r.status, r.field()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("question"))
    );
    let r = refused(&s, token, json!({ "question": "é".repeat(4_001) })).await;
    assert_eq!(
        (r.status, r.field()),
        (StatusCode::BAD_REQUEST, Some("question")),
        "{}",
        r.body
    );
    let r = refused(
        &s,
        token,
        json!({ "question": "villas?", "conversation_id": Uuid::now_v7() }),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = s
        .req(Method::POST, "/api/v1/chat", None)
        .json(&json!({ "question": "villas?" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        conversations(&s, token).await.conversations.is_empty(),
        "refused questions start nothing"
    );
    // 4,000 characters is the limit, counted in characters (this is 8,000 bytes).
    let long = ask(&s, token, &"é".repeat(4_000)).await;
    long.usage();

    // Switched off by an admin: refused; on again: answered.
    let r = put_config(&s, &t.admin, |c| c["features"]["chat"] = json!(false)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = refused(&s, token, json!({ "question": "villas?" })).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{}",
        r.body
    );
    assert_eq!(conversations(&s, token).await.conversations.len(), 1);
    let r = put_config(&s, &t.admin, |c| c["features"]["chat"] = json!(true)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    ask(&s, token, "villas?").await.usage();
}

// ---------------------------------------------------------------------------------------
// LLM providers
// ---------------------------------------------------------------------------------------

const KEY: &str = "sk-test-9f3a1c77e2b54d0a";

/// Everything a client could read that might carry the key.
async fn assert_key_never_shown(s: &TestServer, t: &Tenant, agent: &Session, extra: &[Uuid]) {
    let mut seen = vec![
        s.get("/api/v1/config", &t.admin.access).await.body,
        s.get("/api/v1/config", &agent.access).await.body,
        s.get("/api/v1/audit?limit=500", &t.admin.access).await.body,
        s.get("/api/v1/sync/changes?since=0", &agent.access)
            .await
            .body,
    ];
    for id in extra {
        seen.push(
            s.get(&format!("/api/v1/chat/conversations/{id}"), &agent.access)
                .await
                .body,
        );
    }
    for body in seen {
        let text = body.to_string();
        assert!(!text.contains(KEY), "the key is shown: {text}");
        assert!(
            !text.contains(&KEY[8..]),
            "part of the key is shown: {text}"
        );
    }
}

async fn the_llm_key_is_write_only_and_for_admins(s: TestServer) {
    let t = s.register("Key Homes", "keyhomes", "professional").await;
    let (_, agent) = s.add_user(&t, "agent@keyhomes.test", &["agent"]).await;
    let (_, mgr) = s.add_user(&t, "mgr@keyhomes.test", &["manager"]).await;
    for token in [&agent.access, &mgr.access] {
        let r = put_key(&s, token, json!({ "api_key": KEY })).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    for bad in ["", "   ", "sk-with\nnewline"] {
        let r = put_key(&s, &t.admin.access, json!({ "api_key": bad })).await;
        assert_eq!(
            (r.status, r.field()),
            (StatusCode::BAD_REQUEST, Some("api_key")),
            "{bad:?}: {}",
            r.body
        );
    }
    let r = put_key(
        &s,
        &t.admin.access,
        json!({ "api_key": KEY, "provider": "x" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = put_key(&s, &t.admin.access, json!({ "api_key": KEY })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.body, Value::Null, "nothing comes back");
    let audit = s.get("/api/v1/audit", &t.admin.access).await;
    assert!(
        audit.body.to_string().contains("integration.secret_set"),
        "{}",
        audit.body
    );
    assert_key_never_shown(&s, &t, &agent, &[]).await;
}

fn openai_chunk(delta: Value, finish: Option<&str>) -> String {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": "test-model",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    })
    .to_string()
}

/// The numbered source lines of a system prompt: `[n] …` after a blank line.
fn prompt_sources(system: &str) -> Vec<String> {
    let mut out = Vec::new();
    for n in 1.. {
        let marker = format!("\n\n[{n}] ");
        match system.find(&marker) {
            Some(at) => {
                let line = system[at + 2..].lines().next().unwrap_or_default();
                out.push(line.to_string());
            }
            None => break,
        }
    }
    out
}

/// Checks the request the stand-in got for an OpenAI-compatible chat completion.
fn check_openai_request(r: &Recorded, question: &str) -> Vec<String> {
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str()),
        "the stored key is sent"
    );
    assert_eq!(r.body["model"], "test-model");
    assert_eq!(r.body["stream"], true);
    let messages = r.body["messages"].as_array().expect("messages");
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().unwrap();
    assert!(system.contains("Sources:"), "{system}");
    let last = messages.last().unwrap();
    assert_eq!(
        (last["role"].as_str(), last["content"].as_str()),
        (Some("user"), Some(question))
    );
    let sources = prompt_sources(system);
    assert!(
        !sources.is_empty(),
        "numbered sources in the system prompt: {system}"
    );
    sources
}

async fn an_openai_compatible_provider_answers_through_the_server(s: TestServer) {
    let w = World::seed(&s).await;
    let stand_in = StandIn::start(|_| Reply::json(500, json!({ "error": "not scripted" }))).await;
    let r = put_key(&s, &w.a.admin.access, json!({ "api_key": KEY })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let base_url = format!("{}/v1", stand_in.base);
    let r = put_config(&s, &w.a.admin, |c| {
        c["integrations"]["llm"] =
            json!({ "provider": "openai_compatible", "model": "test-model", "base_url": base_url });
    })
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = &w.agent1.access;

    // A streamed answer citing sources 3 and 1 (and a 42 that does not exist).
    let deltas = [
        "Two villas stand out: ",
        "the larger one [3]",
        " and the smaller one [1].",
        " Also see [42].",
    ];
    let mut pieces: Vec<String> = deltas
        .iter()
        .map(|d| openai_chunk(json!({ "content": d }), None))
        .collect();
    pieces.insert(0, openai_chunk(json!({ "role": "assistant" }), None));
    pieces.push(openai_chunk(json!({}), Some("stop")));
    pieces.push(
        json!({ "id": "chatcmpl-test", "object": "chat.completion.chunk", "choices": [],
                "usage": { "prompt_tokens": 321, "completion_tokens": 17, "total_tokens": 338 } })
        .to_string(),
    );
    pieces.push("[DONE]".into());
    let happy = Reply::data_events(&pieces);
    let reply = happy.clone();
    stand_in.set_script(move |_| reply.clone());

    let question = "villas in Arabian Ranches";
    let asked = ask(&s, token, question).await;
    assert_eq!(asked.tokens(), deltas, "tokens arrive as sent, in order");
    let usage = asked.usage();
    assert_eq!(usage.provider, "openai_compatible");
    assert_eq!(usage.model.as_deref(), Some("test-model"));
    assert_eq!(
        (usage.input_tokens, usage.output_tokens),
        (Some(321), Some(17))
    );
    let requests = stand_in.requests();
    assert_eq!(requests.len(), 1);
    let sources = check_openai_request(&requests[0], question);
    assert_eq!(usage.sources as usize, sources.len());
    for line in &sources {
        assert!(
            line.contains("Arabian Ranches") && line.contains("Villa"),
            "the prompt's sources satisfy the question: {line}"
        );
    }
    let cited: Vec<(u32, &str)> = asked
        .citations()
        .iter()
        .map(|c| (c.n, c.title.as_str()))
        .collect();
    assert_eq!(cited.iter().map(|c| c.0).collect::<Vec<_>>(), [3, 1]);
    for (n, title) in cited {
        assert!(
            sources[n as usize - 1].contains(title),
            "[{n}] is {title}: {}",
            sources[n as usize - 1]
        );
    }
    let stored = conversation(&s, token, asked.conversation()).await;
    let answer = &stored.messages[1];
    assert_eq!(answer.status, MessageStatus::Complete);
    assert_eq!(answer.text, deltas.concat());
    assert_eq!(answer.citations, asked.citations());
    assert_eq!(answer.provider.as_deref(), Some("openai_compatible"));

    // A follow-up carries the conversation so far.
    let follow = ask_in(
        &s,
        token,
        None,
        Some(asked.conversation()),
        "and the cheapest?",
    )
    .await;
    follow.usage();
    let requests = stand_in.requests();
    let history: Vec<(String, String)> = requests[1].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|m| {
            (
                m["role"].as_str().unwrap().into(),
                m["content"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("user".to_string(), question.to_string()),
            ("assistant".to_string(), deltas.concat()),
            ("user".to_string(), "and the cheapest?".to_string()),
        ]
    );

    // The provider is shown only what the asker may see: their own clients, no
    // managers-only resource (and never the key).
    let before = stand_in.requests().len();
    for (session, q) in [
        (&w.agent1, "which of my clients want a villa?"),
        (&w.agent1, "what is the policy on quarterly targets?"),
        (&w.mgr, "what is the policy on quarterly targets?"),
    ] {
        ask(&s, &session.access, q).await.usage();
    }
    let prompts: Vec<String> = stand_in.requests()[before..]
        .iter()
        .map(|r| {
            r.body["messages"][0]["content"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(prompts[0].contains("Layla Haddad"), "{}", prompts[0]);
    for name in ["Ivan Petrov", "Tom Baker"] {
        assert!(
            !prompts[0].contains(name),
            "{name} shown to agent1's provider: {}",
            prompts[0]
        );
    }
    assert!(!prompts[1].contains("30 deals"), "{}", prompts[1]);
    assert!(
        prompts[2].contains("30 deals"),
        "the manager's prompt has it: {}",
        prompts[2]
    );
    for r in stand_in.requests() {
        assert!(!r.body.to_string().contains(KEY), "the key is in a prompt");
    }

    // Rate limited, asking to wait longer than the server retries for.
    stand_in.set_script(|_| {
        Reply::json(
            429,
            json!({ "error": { "message": "Rate limit reached for test-model", "type": "requests" } }),
        )
        .with_header("retry-after", "30")
    });
    let before = stand_in.requests().len();
    let limited = ask(&s, token, question).await;
    let (code, message, retry) = limited.error();
    assert_eq!(
        (code, retry),
        (ChatErrorCode::RateLimited, Some(30)),
        "{message}"
    );
    assert!(!limited.has("done") && !limited.has("sources"));
    assert_eq!(
        stand_in.requests().len(),
        before + 1,
        "a 30 s wait is not retried"
    );
    let failed = conversation(&s, token, limited.conversation()).await;
    let m = &failed.messages[1];
    assert_eq!(m.status, MessageStatus::Failed, "{m:?}");
    assert!(m.error.is_some() && m.citations.is_empty(), "{m:?}");

    // Some tokens, then a chunk that is not JSON.
    let good = [
        openai_chunk(json!({ "content": "The first villa [1]" }), None),
        openai_chunk(json!({ "content": " costs" }), None),
    ];
    let broken = Reply::Events(vec![
        format!("data: {}\n\n", good[0]),
        format!("data: {}\n\n", good[1]),
        "data: {\"choices\": [{\"delta\": \n\n".to_string(),
    ]);
    stand_in.set_script(move |_| broken.clone());
    let cut = ask(&s, token, question).await;
    assert_eq!(cut.tokens(), ["The first villa [1]", " costs"]);
    assert_eq!(
        cut.error().0,
        ChatErrorCode::MalformedStream,
        "{:?}",
        cut.error()
    );
    assert!(!cut.has("done") && !cut.has("sources"));
    let m = &conversation(&s, token, cut.conversation()).await.messages[1];
    assert_eq!(m.status, MessageStatus::Failed, "{m:?}");
    assert!(m.citations.is_empty(), "{m:?}");

    // The provider refuses the key, echoing it.
    stand_in.set_script(|_| {
        Reply::json(
            401,
            json!({ "error": { "message": format!("Incorrect API key provided: {KEY}."), "code": "invalid_api_key" } }),
        )
    });
    let refused_key = ask(&s, token, question).await;
    let (code, message, _) = refused_key.error();
    assert_eq!(code, ChatErrorCode::ProviderAuth, "{message}");
    assert!(!message.contains(KEY), "{message}");
    let m = &conversation(&s, token, refused_key.conversation())
        .await
        .messages[1];
    assert_eq!(m.status, MessageStatus::Failed);

    assert_key_never_shown(
        &s,
        &w.a,
        &w.agent1,
        &[
            asked.conversation(),
            limited.conversation(),
            cut.conversation(),
            refused_key.conversation(),
        ],
    )
    .await;
}

fn gemini_chunk(text: &str, finish: Option<&str>, output_tokens: u32) -> String {
    let mut candidate =
        json!({ "content": { "role": "model", "parts": [{ "text": text }] }, "index": 0 });
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": { "promptTokenCount": 250, "candidatesTokenCount": output_tokens },
    })
    .to_string()
}

async fn a_gemini_provider_answers_through_the_server(s: TestServer) {
    let w = World::seed(&s).await;
    let stand_in = StandIn::start(|_| Reply::json(500, json!({ "error": "not scripted" }))).await;
    let base_url = stand_in.base.clone();
    let r = put_config(&s, &w.a.admin, |c| {
        c["integrations"]["llm"] =
            json!({ "provider": "gemini", "model": "gemini-test", "base_url": base_url });
    })
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = &w.agent1.access;
    let question = "villas in Arabian Ranches";

    // Gemini needs a key; without one the answer fails before any request.
    let keyless = ask(&s, token, question).await;
    assert_eq!(
        keyless.error().0,
        ChatErrorCode::ProviderAuth,
        "{:?}",
        keyless.error()
    );
    assert!(stand_in.requests().is_empty());

    let r = put_key(&s, &w.a.admin.access, json!({ "api_key": KEY })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let reply = Reply::data_events(&[
        gemini_chunk("The villa at Saheel [1]", None, 5),
        gemini_chunk(" is the pick [2].", Some("STOP"), 9),
    ]);
    stand_in.set_script(move |_| reply.clone());
    let asked = ask(&s, token, question).await;
    assert_eq!(
        asked.tokens(),
        ["The villa at Saheel [1]", " is the pick [2]."]
    );
    let usage = asked.usage();
    assert_eq!(usage.provider, "gemini");
    assert_eq!(usage.model.as_deref(), Some("gemini-test"));
    assert_eq!(
        (usage.input_tokens, usage.output_tokens),
        (Some(250), Some(9))
    );
    assert_eq!(
        asked.citations().iter().map(|c| c.n).collect::<Vec<_>>(),
        [1, 2]
    );
    let requests = stand_in.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str(), r.query.as_deref()),
        (
            "POST",
            "/v1beta/models/gemini-test:streamGenerateContent",
            Some("alt=sse")
        )
    );
    assert_eq!(r.header("x-goog-api-key"), Some(KEY));
    let system = r.body["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .expect("a system instruction");
    let sources = prompt_sources(system);
    assert_eq!(sources.len(), usage.sources as usize, "{system}");
    assert!(
        sources[0].contains(&asked.citations()[0].title),
        "{}",
        sources[0]
    );
    let contents = r.body["contents"].as_array().unwrap();
    let last = contents.last().unwrap();
    assert_eq!(
        (last["role"].as_str(), last["parts"][0]["text"].as_str()),
        (Some("user"), Some(question))
    );
    let stored = &conversation(&s, token, asked.conversation()).await.messages[1];
    assert_eq!(stored.status, MessageStatus::Complete);
    assert_eq!(stored.text, asked.text());
    assert_eq!(stored.provider.as_deref(), Some("gemini"));

    // Safety filters block the question.
    let blocked = Reply::data_events(&[json!({
        "promptFeedback": { "blockReason": "SAFETY" },
        "usageMetadata": { "promptTokenCount": 250 },
    })
    .to_string()]);
    stand_in.set_script(move |_| blocked.clone());
    let asked = ask(&s, token, question).await;
    let (code, message, _) = asked.error();
    assert_eq!(code, ChatErrorCode::Blocked, "{message}");
    assert!(asked.tokens().is_empty() && !asked.has("done"));
    let stored = &conversation(&s, token, asked.conversation()).await.messages[1];
    assert_eq!(stored.status, MessageStatus::Failed);
    assert_key_never_shown(&s, &w.a, &w.agent1, &[asked.conversation()]).await;
}

/// The app goes away mid-answer: the answer is stored failed, not complete, even though the
/// provider finishes normally.
async fn an_answer_the_app_abandons_is_stored_as_failed(s: TestServer) {
    let w = World::seed(&s).await;
    let stand_in = StandIn::start(|_| Reply::json(500, json!({ "error": "not scripted" }))).await;
    let base_url = format!("{}/v1", stand_in.base);
    let r = put_config(&s, &w.a.admin, |c| {
        c["integrations"]["llm"] =
            json!({ "provider": "openai_compatible", "model": "test-model", "base_url": base_url });
    })
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let data = |chunk: String| format!("data: {chunk}\n\n");
    let first = vec![data(openai_chunk(json!({ "content": "Villas:" }), None))];
    // Plenty after the gate, so the server writes to the closed connection and notices.
    let rest: Vec<String> = (0..400)
        .map(|i| {
            data(openai_chunk(
                json!({ "content": format!(" villa {i} [1]") }),
                None,
            ))
        })
        .chain([
            data(openai_chunk(json!({}), Some("stop"))),
            data("[DONE]".into()),
        ])
        .collect();
    let reply = Reply::Gated {
        first,
        gate: gate.clone(),
        rest,
    };
    stand_in.set_script(move |_| reply.clone());

    let mut resp = post_chat(
        &s,
        &w.agent1.access,
        None,
        json!({ "question": "villas in Arabian Ranches" }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut parser = sse::SseParser::default();
    let mut events = Vec::new();
    while !events.iter().any(|e: &sse::SseEvent| e.event == "token") {
        let chunk = resp
            .chunk()
            .await
            .expect("read")
            .expect("the stream ends only after its first token");
        events.extend(parser.feed(std::str::from_utf8(&chunk).expect("UTF-8")));
    }
    let (conversation_id, message_id) = match serde_json::from_str(&events[0].data).unwrap() {
        ChatEvent::Start {
            conversation_id,
            message_id,
            ..
        } => (conversation_id, message_id),
        other => panic!("{other:?}"),
    };
    drop(resp);
    gate.notify_one();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answer = loop {
        let c = conversation(&s, &w.agent1.access, conversation_id).await;
        let m = c.messages[1].clone();
        assert_eq!(m.id, message_id);
        if m.status != MessageStatus::Streaming {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still streaming: {m:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(answer.status, MessageStatus::Failed, "{answer:?}");
    assert!(
        answer
            .error
            .as_deref()
            .is_some_and(|e| e.contains("closed")),
        "{answer:?}"
    );
    assert!(answer.citations.is_empty());
}

/// The operator's shared knowledge base answers every company, cited as shared.
async fn shared_knowledge_is_cited_as_shared(backend: roost_tests::Backend) {
    let Some(s) = TestServer::start_with(backend, |c| {
        c.operator_token = Some(roost_server::settings::Secret("operator-chat-token".into()));
    })
    .await
    else {
        return;
    };
    let law = r#"{ "resources": [ { "title": "RERA escrow rules",
        "body": "Off-plan payments go into an escrow account registered with RERA; the developer draws on it as construction milestones are certified." } ] }"#;
    let r = s
        .import(
            "operator-chat-token",
            "law.json",
            law.into(),
            "shared_kind=agent_resources",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for slug in ["sharedone", "sharedtwo"] {
        let t = s.register("Shared Homes", slug, "starter").await;
        let asked = ask(
            &s,
            &t.admin.access,
            "what are the RERA rules for off-plan escrow payments?",
        )
        .await;
        let shared: Vec<&Citation> = asked.citations().iter().filter(|c| c.shared).collect();
        assert_eq!(shared.len(), 1, "{:?}\n{}", asked.citations(), asked.text());
        assert_eq!(
            (shared[0].kind, shared[0].title.as_str()),
            (SourceKind::AgentResource, "RERA escrow rules")
        );
        assert!(asked.text().contains("escrow"), "{}", asked.text());
        assert_grounded(&s, &t.admin.access, &asked, &[]).await;
    }
}
