//! Search on the device over 100,000 synthetic listings with random unit vectors (dim 384),
//! written through the same apply path a sync uses. Prints `BENCH <name> <value> <unit>`.
//!
//! `cargo bench -p roost-core --bench search`

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use roost_api::listings::{Area, AreaUnit, Listing, Price};
use roost_api::sync::{Change, ChangePage, EmbeddingModel};
use roost_core::{Cache, Filters, QueryEmbedder, SearchRequest};
use uuid::Uuid;

const LISTINGS: usize = 100_000;
const DIM: usize = 384;
const PAGE: usize = 2_000;
const RUNS: usize = 3;
const MODEL: &str = "bench-model";

const COMMUNITIES: [&str; 25] = [
    "Arabian Ranches",
    "Dubai Marina",
    "JVC",
    "Downtown Dubai",
    "Palm Jumeirah",
    "Dubai Hills Estate",
    "Business Bay",
    "JLT",
    "Al Barsha",
    "Mirdif",
    "Damac Hills",
    "Town Square",
    "Motor City",
    "Sports City",
    "The Springs",
    "The Meadows",
    "Emirates Hills",
    "Jumeirah Golf Estates",
    "Al Furjan",
    "Discovery Gardens",
    "International City",
    "Silicon Oasis",
    "Meydan",
    "Creek Harbour",
    "Bluewaters",
];
const TYPES: [&str; 4] = ["Villa", "Apartment", "Townhouse", "Penthouse"];
const FEATURES: [&str; 8] = [
    "private pool",
    "landscaped garden",
    "sea view",
    "maid's room",
    "close to schools",
    "walking distance to the metro",
    "upgraded kitchen",
    "covered parking",
];

/// A query vector the bench passes in place of a model: no model call is timed.
struct FixedVector(Vec<f32>);

impl QueryEmbedder for FixedVector {
    fn model_id(&self) -> &str {
        MODEL
    }

    fn embed_query(&self, _text: &str) -> Result<Vec<f32>, String> {
        Ok(self.0.clone())
    }
}

fn unit_vector(rng: &mut StdRng) -> Vec<f32> {
    let mut v: Vec<f32> = (0..DIM).map(|_| rng.random::<f32>() - 0.5).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn listing(i: usize, rng: &mut StdRng) -> Listing {
    let kind = TYPES[rng.random_range(0..TYPES.len())];
    let beds: u16 = match kind {
        "Villa" => rng.random_range(3..=7),
        "Townhouse" => rng.random_range(2..=5),
        _ => rng.random_range(0..=4),
    };
    let community = COMMUNITIES[rng.random_range(0..COMMUNITIES.len())];
    let a = FEATURES[rng.random_range(0..FEATURES.len())];
    let b = FEATURES[rng.random_range(0..FEATURES.len())];
    let price = 500_000 + i64::from(beds) * 800_000 + rng.random_range(0..60) * 50_000;
    Listing {
        id: Uuid::from_u128(i as u128 + 1),
        external_id: format!("B-{i:06}"),
        title: Some(format!("{beds} bed {kind} in {community}")),
        description: Some(format!("Bright {kind} with {a} and {b}.")),
        price: Some(Price {
            amount_minor: price * 100,
            currency: "AED".into(),
        }),
        bedrooms: Some(beds),
        bathrooms: Some(f32::from(beds.max(1))),
        size: Some(Area::new(
            f64::from(500 + u32::from(beds) * 550),
            AreaUnit::Sqft,
        )),
        property_type: Some(kind.into()),
        community: Some(community.into()),
        city: Some("Dubai".into()),
        status: Some(
            if i.is_multiple_of(5) {
                "For Rent"
            } else {
                "For Sale"
            }
            .into(),
        ),
        latitude: None,
        longitude: None,
        furnished: Some(i.is_multiple_of(2)),
        photos: vec![],
        listed_at: None,
        attributes: [("View".to_string(), "Garden".to_string())].into(),
        updated_at: 1_700_000_000_000 + i as i64,
    }
}

fn build(cache: &mut Cache, rng: &mut StdRng) {
    let model = EmbeddingModel {
        id: MODEL.into(),
        dim: DIM as u32,
        encoding: "f32le".into(),
    };
    let mut seq = 0i64;
    for start in (0..LISTINGS).step_by(PAGE) {
        let changes: Vec<Change> = (start..(start + PAGE).min(LISTINGS))
            .map(|i| {
                seq += 1;
                let bytes: Vec<u8> = unit_vector(rng)
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect();
                Change::Listing {
                    seq,
                    listing: listing(i, rng),
                    embedding: Some(STANDARD.encode(bytes)),
                }
            })
            .collect();
        let page = ChangePage {
            changes,
            next_cursor: seq,
            has_more: start + PAGE < LISTINGS,
            embedding_model: Some(model.clone()),
            scope: "agent".into(),
        };
        cache.apply_page(&page).expect("apply a bench page");
    }
}

fn p50(mut f: impl FnMut()) -> Duration {
    f(); // warm caches and lazily built state
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn report(name: &str, d: Duration) {
    println!("BENCH {name} {:.2} ms", d.as_secs_f64() * 1e3);
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cache = Cache::open(dir.path(), "bench", "agent").expect("cache");
    let mut rng = StdRng::seed_from_u64(7);

    let t = Instant::now();
    build(&mut cache, &mut rng);
    println!("BENCH cache_build_100k {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    cache.optimize().expect("optimize"); // as a sync does at its end
    report("cache_analyze_100k", t.elapsed());

    let t = Instant::now();
    let rows = cache.vector_index().expect("load").map_or(0, |v| v.len());
    report("vector_load_100k", t.elapsed());
    assert_eq!(rows, LISTINGS);

    let query = FixedVector(unit_vector(&mut rng));
    let search = |cache: &mut Cache, text: &str, embedder: Option<&dyn QueryEmbedder>| {
        let req = SearchRequest {
            text: text.into(),
            filters: Filters::default(),
            limit: 20,
        };
        let r = cache.search(&req, embedder).expect("search");
        assert!(!r.hits.is_empty(), "{text}: no hits");
        r
    };

    let filtered = search(&mut cache, "3 bed villa under 4M in Arabian Ranches", None);
    println!("# filtered set: {} listings", filtered.total);
    report(
        "search_filtered_p50",
        p50(|| {
            search(&mut cache, "3 bed villa under 4M in Arabian Ranches", None);
        }),
    );

    let hybrid_text = "3 bed villa under 4M with a private pool";
    let r = search(&mut cache, hybrid_text, Some(&query));
    assert!(r.ranking.keyword && r.ranking.semantic);
    println!("# hybrid filtered set: {} listings", r.total);
    report(
        "search_hybrid_p50",
        p50(|| {
            search(&mut cache, hybrid_text, Some(&query));
        }),
    );

    report(
        "search_hybrid_unfiltered_p50",
        p50(|| {
            search(&mut cache, "family home with a private pool", Some(&query));
        }),
    );

    let index = cache.vector_index().expect("load").expect("vectors");
    report(
        "search_vector_scan_100k_p50",
        p50(|| {
            let top = index.top_k(&query.0, None, 10);
            assert_eq!(top.len(), 10);
        }),
    );
}
