//! Offline answers on the device: a synced cache answers with the same retrieval plan and
//! grounded answerer as the server, cites only what the question's filters allow and what
//! the asking role may see, and names nothing that is not among its sources.

use reqwest::StatusCode;
use roost_answer::{Record, ungrounded_mentions};
use roost_api::chat::SourceKind;
use roost_api::users::Role;
use roost_search::retrieve::Asker;
use roost_tests::{Backend, TestServer};
use uuid::Uuid;

use crate::{open_cache, sync_all};

const LISTINGS: &str = "Ref,Title,Property Type,Community,Beds,Asking Price,Status\n\
    M-1,Marina Heights 3BR,Apartment,Dubai Marina,3,\"AED 2,200,000\",For Sale\n\
    M-2,Marina Gate 3BR,Apartment,Dubai Marina,3,\"AED 2,450,000\",For Sale\n\
    M-3,Marina Crown 3BR,Apartment,Dubai Marina,3,\"AED 3,900,000\",For Sale\n\
    M-4,Marina Pearl 2BR,Apartment,Dubai Marina,2,\"AED 1,600,000\",For Sale\n\
    R-1,Ranches Villa Palma,Villa,Arabian Ranches,4,\"AED 5,100,000\",For Sale\n\
    J-1,JVC Garden 2BR,Apartment,JVC,2,\"AED 1,100,000\",For Sale\n";

const POLICY: &str = "# Commission policy\n\nOff-plan sales: the listing agent and the selling \
    agent split the commission 50/50 once the developer pays.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_answers_are_grounded_and_role_aware() {
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let t = s.register("Offline Homes", "offh", "professional").await;
    let (sara_id, _) = s.add_user(&t, "sara@offh.test", &["agent"]).await;
    s.add_user(&t, "omar@offh.test", &["agent"]).await;
    let (_, boss) = s
        .add_user(&t, "boss@offh.test", &["manager", "agent"])
        .await;
    for (name, body, query) in [
        ("l.csv", LISTINGS, ""),
        ("policy.md", POLICY, "kind=documents"),
        (
            "c.csv",
            "Client Ref,Full Name,Mobile,Interests,Assigned Agent\n\
             C-1,Layla Haddad,+971 50 111 2222,wants a villa,sara@offh.test\n\
             C-2,Ivan Petrov,+971 55 333 4444,wants a villa,omar@offh.test\n",
            "kind=clients",
        ),
    ] {
        let r = s.import(&t.admin.access, name, body.into(), query).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
    }

    // The manager's device holds every client; acting as an agent must still hide Omar's.
    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), &t.id, "boss");
    sync_all(&s, &boss, &mut cache).await;
    let boss_id: Uuid = boss_user_id(&s, &boss.access).await;
    let all: Vec<_> = cache
        .listing_ids()
        .unwrap()
        .into_iter()
        .map(|id| cache.listing(id).unwrap().unwrap())
        .collect();

    let manager = [Role::Manager];
    let as_manager = Asker {
        user: boss_id,
        acting: &manager,
    };
    let a = cache
        .answer_offline(
            "which of our 3-bed listings in Marina are under 2.5M?",
            as_manager,
            "Offline Homes",
            None,
        )
        .unwrap();
    let refs: Vec<&str> = a
        .sources
        .iter()
        .filter_map(|s| match &s.record {
            Record::Listing(l) => Some(l.external_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        {
            let mut r = refs.clone();
            r.sort();
            r
        },
        vec!["M-1", "M-2"],
        "only 3-bed Marina listings under 2.5M: {}",
        a.answer.text
    );
    assert!(!a.answer.cited.is_empty(), "{}", a.answer.text);
    assert!(
        ungrounded_mentions(&a.answer.text, &a.sources, &all).is_empty(),
        "{}",
        a.answer.text
    );
    assert!(!a.answer.text.contains("M-3") && !a.answer.text.contains("3,900,000"));

    let a = cache
        .answer_offline(
            "what's our policy on off-plan commission splits?",
            as_manager,
            "Offline Homes",
            None,
        )
        .unwrap();
    let first = a.sources.first().expect("a source");
    assert_eq!(first.kind(), SourceKind::Document, "{}", a.answer.text);
    assert!(a.answer.text.contains("50/50"), "{}", a.answer.text);
    assert!(a.answer.cited.contains(&1), "{}", a.answer.text);

    let clients = |acting: &[Role], user: Uuid, cache: &mut roost_core::Cache| {
        let a = cache
            .answer_offline(
                "which of my clients want a villa?",
                Asker { user, acting },
                "Offline Homes",
                None,
            )
            .unwrap();
        let mut names: Vec<String> = a
            .sources
            .iter()
            .filter_map(|s| match &s.record {
                Record::Client(c) => Some(c.name.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        clients(&[Role::Manager], boss_id, &mut cache),
        vec!["Ivan Petrov", "Layla Haddad"]
    );
    // Acting as an agent, the boss sees only clients assigned to the boss: none here.
    assert!(clients(&[Role::Agent], boss_id, &mut cache).is_empty());
    // And an agent id sees exactly their own.
    let sara: Uuid = sara_id.parse().unwrap();
    assert_eq!(
        clients(&[Role::Agent], sara, &mut cache),
        vec!["Layla Haddad"]
    );
}

async fn boss_user_id(s: &TestServer, token: &str) -> Uuid {
    let r = s.get("/api/v1/me", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["user"]["id"].as_str().unwrap().parse().unwrap()
}
