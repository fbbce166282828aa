use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roost_core::{Cache, Filters, QueryEmbedder, SearchRequest, SearchResults};
use roost_tests::{Backend, TestServer, shared_embedder};
use uuid::Uuid;

use crate::{open_cache, sync_all};

/// One row of the generated file, kept to compute the expected answers.
struct Row {
    reference: String,
    kind: &'static str,
    community: &'static str,
    beds: u16,
    price: i64,
    status: &'static str,
}

const HEADER: &str =
    "Ref,Title,Property Type,Community,Beds,Baths,Size (sqft),Price,Status,Furnished,Description\n";

/// About 200 listings with the spread of a real agency's stock, plus hand-written ones whose
/// text the ranking tests rely on. Generated descriptions never mention a pool.
fn realistic_csv() -> (String, Vec<Row>) {
    let communities = [
        "Arabian Ranches",
        "Dubai Marina",
        "JVC",
        "Downtown Dubai",
        "Palm Jumeirah",
        "Dubai Hills Estate",
    ];
    let features = [
        "Close to schools and the community park",
        "Sea view from the balcony",
        "Upgraded kitchen and a maid's room",
        "Walking distance to the metro",
        "Landscaped garden and covered parking",
        "Gym and concierge in the building",
    ];
    let mut rows = Vec::new();
    let mut csv = String::from(HEADER);
    let mut seed: u64 = 42;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for i in 1..=200 {
        let kind = ["Villa", "Apartment", "Townhouse", "Apartment"][next(4) as usize];
        let beds = match kind {
            "Villa" => 3 + next(4) as u16,
            "Townhouse" => 2 + next(3) as u16,
            _ => next(4) as u16,
        };
        let community = communities[next(6) as usize];
        let price = 600_000 + i64::from(beds) * 700_000 + next(40) as i64 * 50_000;
        let status = if next(5) == 0 { "For Rent" } else { "For Sale" };
        let reference = format!("G-{i:03}");
        let desc = features[next(6) as usize];
        let title = if beds == 0 {
            format!("Studio {kind} in {community}")
        } else {
            format!("{beds} bed {kind} in {community}")
        };
        csv.push_str(&format!(
            "{reference},{title},{kind},{community},{beds},{baths},{size},\"AED {price}\",{status},{furn},{desc}\n",
            baths = beds.max(1),
            size = 500 + u32::from(beds) * 600,
            furn = if next(2) == 0 { "Yes" } else { "No" },
        ));
        rows.push(Row {
            reference,
            kind,
            community,
            beds,
            price,
            status,
        });
    }
    let handmade = [
        (
            "P-POOL",
            "Family villa with private pool",
            "Villa",
            "Arabian Ranches",
            3,
            3_900_000,
            "Spacious family home with a private swimming pool and a shaded garden",
        ),
        (
            "P-PARK",
            "Villa backing onto the park",
            "Villa",
            "Arabian Ranches",
            3,
            3_700_000,
            "Quiet street close to schools",
        ),
        (
            "P-OFFICE",
            "Fitted office floor",
            "Office",
            "Business Bay",
            0,
            2_100_000,
            "Open-plan office space with meeting rooms and a reception",
        ),
    ];
    for (reference, title, kind, community, beds, price, desc) in handmade {
        csv.push_str(&format!(
            "{reference},{title},{kind},{community},{beds},{beds},2500,\"AED {price}\",For Sale,No,{desc}\n"
        ));
        rows.push(Row {
            reference: reference.into(),
            kind,
            community,
            beds,
            price,
            status: "For Sale",
        });
    }
    (csv, rows)
}

fn request(text: &str) -> SearchRequest {
    SearchRequest {
        text: text.into(),
        filters: Filters::default(),
        limit: 500,
    }
}

fn refs(cache: &Cache, results: &SearchResults) -> Vec<String> {
    results
        .hits
        .iter()
        .map(|h| cache.listing(h.id).unwrap().unwrap().external_id)
        .collect()
}

async fn synced_cache(s: &TestServer, dir: &std::path::Path, csv: String) -> Cache {
    let t = s.register("Search Homes", "search", "professional").await;
    let r = s.import(&t.admin.access, "l.csv", csv.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut cache = open_cache(dir, &t.id, "admin");
    sync_all(s, &t.admin, &mut cache).await;
    cache
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_filters_are_exact_and_ranking_uses_the_rest() {
    let s = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let dir = tempfile::tempdir().unwrap();
    let (csv, rows) = realistic_csv();
    let mut cache = synced_cache(&s, dir.path(), csv).await;
    assert_eq!(cache.listing_count().unwrap() as usize, rows.len());

    // Filters only: exactly the 3-bed villas up to AED 4M, nothing else.
    let found = cache
        .search(&request("3 bed villa under 4M"), None)
        .unwrap();
    let expected: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.kind == "Villa" && r.beds == 3 && r.price <= 4_000_000)
        .map(|r| r.reference.clone())
        .collect();
    assert!(expected.len() >= 5, "the generated set has enough villas");
    let got: BTreeSet<String> = refs(&cache, &found).into_iter().collect();
    assert_eq!(got, expected);
    assert_eq!(found.total as usize, expected.len());
    for hit in &found.hits {
        let l = cache.listing(hit.id).unwrap().unwrap();
        assert_eq!(l.bedrooms, Some(3));
        assert_eq!(l.property_type.as_deref(), Some("Villa"));
        let price = l.price.unwrap();
        assert_eq!(price.currency, "AED");
        assert!(price.amount_minor <= 400_000_000);
    }
    assert_eq!(found.parsed.residual, "");
    assert!(!found.ranking.keyword && !found.ranking.semantic);
    assert!(found.ranking.semantic_unavailable.is_some(), "says why");

    // Filters and words: the community is matched against the cache, the pool ranks first.
    let found = cache
        .search(
            &request("3 bed villa under 4M in arabian ranches with a private pool"),
            None,
        )
        .unwrap();
    assert_eq!(
        found.filters.communities,
        vec!["Arabian Ranches".to_string()]
    );
    assert_eq!(found.parsed.residual, "with a private pool");
    assert!(found.ranking.keyword);
    let got = refs(&cache, &found);
    assert_eq!(got[0], "P-POOL", "{got:?}");
    assert!(
        got.contains(&"P-PARK".to_string()),
        "filtered-in listings still listed"
    );
    assert!(found.hits[0].snippet.to_lowercase().contains("pool"));
    assert!(found.hits[0].score > found.hits[1].score);
    for r in &got {
        let row = rows.iter().find(|x| &x.reference == r).unwrap();
        assert!(row.kind == "Villa" && row.beds == 3 && row.price <= 4_000_000);
        assert_eq!(row.community, "Arabian Ranches");
    }

    // Status from the text.
    let found = cache
        .search(&request("apartment for rent in Dubai Marina"), None)
        .unwrap();
    for r in refs(&cache, &found) {
        let row = rows.iter().find(|x| x.reference == r).unwrap();
        assert_eq!(
            (row.kind, row.status, row.community),
            ("Apartment", "For Rent", "Dubai Marina")
        );
    }

    // Facets over the filtered set agree with the hits.
    let filters = cache.parse("3 bed villa under 4M").unwrap().filters;
    let facets = cache.facets(&filters).unwrap();
    assert_eq!(facets.property_types.len(), 1);
    assert_eq!(facets.property_types[0].value, "Villa");
    assert_eq!(facets.property_types[0].count as usize, expected.len());
    assert_eq!(facets.bedrooms.len(), 1);
    assert_eq!(
        facets.communities.iter().map(|c| c.count).sum::<u64>() as usize,
        expected.len()
    );
    let all = cache.facets(&Filters::default()).unwrap();
    assert_eq!(
        all.property_types.iter().map(|c| c.count).sum::<u64>() as usize,
        rows.len()
    );

    // The filter controls win over the text.
    let found = cache
        .search(
            &SearchRequest {
                text: "villa in JVC".into(),
                filters: Filters {
                    communities: vec!["Palm Jumeirah".into()],
                    ..Filters::default()
                },
                limit: 500,
            },
            None,
        )
        .unwrap();
    for r in refs(&cache, &found) {
        let row = rows.iter().find(|x| x.reference == r).unwrap();
        assert_eq!((row.kind, row.community), ("Villa", "Palm Jumeirah"));
    }
}

/// Polls the feed until the server has embedded every listing.
async fn sync_until_embedded(s: &TestServer, session: &roost_tests::Session, cache: &mut Cache) {
    let started = Instant::now();
    loop {
        sync_all(s, session, cache).await;
        let ids = cache.listing_ids().unwrap();
        if !ids.is_empty() && ids.iter().all(|id| cache.vector(*id).unwrap().is_some()) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "embedding stalled"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantic_ranking_with_the_real_model() {
    let Some(embedder) = shared_embedder() else {
        return;
    };
    let s = TestServer::start_embedding(Backend::Sqlite, Some(embedder.clone()))
        .await
        .expect("sqlite");
    let t = s.register("Vector Homes", "semantic", "professional").await;
    let csv = format!(
        "{HEADER}\
         V-POOL,Family villa,Villa,Arabian Ranches,4,4,4200,\"AED 4.2M\",For Sale,No,Garden and a private swimming pool for the children\n\
         O-1,Fitted office floor,Office,Business Bay,0,2,3000,\"AED 2.1M\",For Sale,No,Open-plan office space with meeting rooms\n\
         S-1,Compact studio,Apartment,JVC,0,1,400,\"AED 450K\",For Sale,Yes,Studio apartment near the metro\n\
         W-1,Warehouse unit,Warehouse,Al Quoz,0,1,9000,\"AED 3M\",For Sale,No,Loading bay and high ceilings\n"
    );
    let r = s.import(&t.admin.access, "l.csv", csv.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let dir = tempfile::tempdir().unwrap();
    let mut cache = open_cache(dir.path(), &t.id, "admin");
    sync_until_embedded(&s, &t.admin, &mut cache).await;
    assert_eq!(
        cache.sync_state().unwrap().model.unwrap().id,
        embedder.model_id()
    );

    let model: &dyn QueryEmbedder = &*embedder;
    let found = cache
        .search(&request("family home with a swimming pool"), Some(model))
        .unwrap();
    assert!(found.ranking.semantic && found.ranking.keyword);
    let order = refs(&cache, &found);
    assert_eq!(order[0], "V-POOL", "{order:?}");

    // No word in common with any listing: only the vectors can rank this.
    let found = cache
        .search(&request("workspace for a startup team"), Some(model))
        .unwrap();
    assert!(found.ranking.semantic);
    let order = refs(&cache, &found);
    let pos = |r: &str| order.iter().position(|x| x == r).unwrap();
    assert!(pos("O-1") < pos("V-POOL"), "{order:?}");

    // Without the model the same search still answers, keyword-only, and says so.
    let found = cache
        .search(&request("family home with a swimming pool"), None)
        .unwrap();
    assert!(!found.ranking.semantic);
    assert_eq!(
        found.ranking.semantic_unavailable.as_deref(),
        Some("no embedding model on this device")
    );
    assert_eq!(refs(&cache, &found)[0], "V-POOL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenant_never_lands_in_anothers_cache() {
    let s = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let a = s.register("Acme Homes", "acme", "professional").await;
    let b = s.register("Bravo Homes", "bravo", "professional").await;
    let marker = "Zanzibarcove";
    let csv_a = format!(
        "{HEADER}A-1,{marker} villa,Villa,{marker} Gardens,4,4,4000,\"AED 5M\",For Sale,No,Only Acme sells {marker}\n"
    );
    let csv_b = format!(
        "{HEADER}B-1,Bravo villa,Villa,Arabian Ranches,4,4,4000,\"AED 5M\",For Sale,No,Only Bravo sells this\n"
    );
    for (t, csv) in [(&a, csv_a), (&b, csv_b)] {
        let r = s.import(&t.admin.access, "l.csv", csv.into(), "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let root = tempfile::tempdir().unwrap();
    let mut cache_a = open_cache(root.path(), &a.id, "admin");
    let mut cache_b = open_cache(root.path(), &b.id, "admin");
    sync_all(&s, &a.admin, &mut cache_a).await;
    sync_all(&s, &b.admin, &mut cache_b).await;
    let a_ids: Vec<Uuid> = cache_a.listing_ids().unwrap();
    assert_eq!(a_ids.len(), 1);
    drop(cache_b);

    // Every byte under B's folder (database, WAL, shared memory).
    let mut files = vec![root.path().join(&b.id)];
    let mut bytes = Vec::new();
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            bytes.extend(std::fs::read(&p).unwrap());
        }
    }
    assert!(!bytes.is_empty());
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(marker));
    assert!(!text.contains(&a_ids[0].to_string()));
    assert!(
        text.contains("Bravo villa"),
        "the scan reads the data it should"
    );

    let mut cache_b = open_cache(root.path(), &b.id, "admin");
    assert!(
        cache_b
            .search(&request(marker), None)
            .unwrap()
            .hits
            .is_empty()
    );
    assert!(roost_core::Cache::open(root.path(), "..", "admin").is_err());
}
