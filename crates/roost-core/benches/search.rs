//! Search on the device over 100,000 (and 10,000) synthetic listings, written through the
//! same apply path a sync uses. Prints `BENCH <name> <value> <unit>`.
//!
//! Needs the real model (`ROOST_EMBED_MODEL_DIR`, `ORT_DYLIB_PATH`): every timed search embeds
//! its query with it (the words the parser left after taking the filters out, or the whole
//! text when only filters and small words were typed, as the app does). Stored vectors are
//! real embeddings of 300 listing texts (type × community × feature pair); each listing's is a
//! small perturbation of its text's, normalised: clustered like real stock, the hard case for
//! an approximate scan.
//!
//! `cargo bench -p roost-core --bench search`

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use roost_api::listings::{Area, AreaUnit, Listing, Price};
use roost_api::sync::{Change, ChangePage, EmbeddingModel};
use roost_core::{Cache, Filters, SearchRequest, SearchResults};
use roost_embed::{EmbedConfig, Embedder};
use uuid::Uuid;

const PAGE: usize = 2_000;
const RUNS: usize = 21;
/// Rounds of [`RUNS`] whose lowest median is reported.
const ROUNDS: usize = 3;
/// Per-dimension noise added to a text's vector: cosine ~0.93 to it, ~0.86 between two
/// listings of the same text.
const NOISE: f32 = 0.02;
const VARIANTS: usize = 3;

const FILTERED: [&str; 6] = [
    "3 bed villa under 4M in Arabian Ranches",
    "3 bed villa under 4M in Arabian Ranches with a private pool",
    "2 bed apartment in Dubai Marina under 2.5M with sea view",
    "townhouse for rent in JVC close to schools",
    "4 bed villa in Dubai Hills Estate with a landscaped garden",
    "penthouse in Downtown Dubai under 8M",
];
const UNFILTERED: [&str; 6] = [
    "family home with a private pool",
    "quiet place near good schools",
    "modern flat close to the metro",
    "bright home with a big kitchen",
    "somewhere with a view of the sea",
    "spacious house with a garden for the kids",
];

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

/// The features of a (community, variant) text.
fn features(community: usize, variant: usize) -> (&'static str, &'static str) {
    let a = (community + variant) % FEATURES.len();
    (FEATURES[a], FEATURES[(a + 3) % FEATURES.len()])
}

fn template(kind: usize, community: usize, variant: usize) -> String {
    let (a, b) = features(community, variant);
    let (kind, community) = (TYPES[kind], COMMUNITIES[community]);
    format!("{kind} in {community}. Bright {kind} with {a} and {b}.")
}

/// Index of the (kind, community, variant) text.
fn template_of(kind: usize, community: usize, variant: usize) -> usize {
    (kind * COMMUNITIES.len() + community) * VARIANTS + variant
}

/// `base` plus a little noise, normalised.
fn perturbed(base: &[f32], rng: &mut StdRng) -> Vec<f32> {
    let mut v: Vec<f32> = base
        .iter()
        .map(|x| x + (rng.random::<f32>() - 0.5) * 2.0 * NOISE)
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// A listing and the index of the text its vector derives from.
fn listing(i: usize, rng: &mut StdRng) -> (Listing, usize) {
    let kind_i = rng.random_range(0..TYPES.len());
    let kind = TYPES[kind_i];
    let beds: u16 = match kind {
        "Villa" => rng.random_range(3..=7),
        "Townhouse" => rng.random_range(2..=5),
        _ => rng.random_range(0..=4),
    };
    let community_i = rng.random_range(0..COMMUNITIES.len());
    let community = COMMUNITIES[community_i];
    let variant = rng.random_range(0..VARIANTS);
    let (a, b) = features(community_i, variant);
    let price = 500_000 + i64::from(beds) * 800_000 + rng.random_range(0..60) * 50_000;
    let listing = Listing {
        id: Uuid::from_u128(i as u128 + 1),
        external_id: format!("B-{i:06}"),
        title: Some(format!("{beds} bed {kind} in {community}")),
        description: Some(format!(
            "Bright {kind} with {a} and {b}. Well kept, close to shops and community \
             facilities; viewing by appointment."
        )),
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
    };
    (listing, template_of(kind_i, community_i, variant))
}

/// Writes `n` listings through `apply_page`; returns their vectors (rid `i + 1` is `[i]`).
fn build(cache: &mut Cache, n: usize, bases: &[Vec<f32>], model: &Embedder) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(7);
    let feed_model = EmbeddingModel {
        id: model.model_id().into(),
        dim: model.dim() as u32,
        encoding: "f32le".into(),
    };
    let mut vectors = Vec::with_capacity(n);
    let mut seq = 0i64;
    for start in (0..n).step_by(PAGE) {
        let changes: Vec<Change> = (start..(start + PAGE).min(n))
            .map(|i| {
                seq += 1;
                let (listing, t) = listing(i, &mut rng);
                let v = perturbed(&bases[t], &mut rng);
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                vectors.push(v);
                Change::Listing {
                    seq,
                    listing,
                    embedding: Some(STANDARD.encode(bytes)),
                }
            })
            .collect();
        let page = ChangePage {
            changes,
            next_cursor: seq,
            has_more: start + PAGE < n,
            head: 0,
            embedding_model: Some(feed_model.clone()),
            scope: "agent".into(),
        };
        cache.apply_page(&page).expect("apply a bench page");
    }
    cache.optimize().expect("optimize"); // as a sync does at its end
    vectors
}

/// Median time of `f(run)` over [`RUNS`] runs, after one warm-up; the lowest median of
/// [`ROUNDS`] rounds. The machine is shared: a neighbour's burst moves one round's median by a
/// third, and the lowest is what the code takes when it has the cores.
fn p50(mut f: impl FnMut(usize)) -> Duration {
    f(0); // warm caches and lazily built state
    (0..ROUNDS)
        .map(|_| {
            let mut times: Vec<Duration> = (0..RUNS)
                .map(|run| {
                    let t = Instant::now();
                    f(run);
                    t.elapsed()
                })
                .collect();
            times.sort();
            times[RUNS / 2]
        })
        .min()
        .expect("rounds")
}

fn report(name: &str, d: Duration) {
    println!("BENCH {name} {:.2} ms", d.as_secs_f64() * 1e3);
}

/// The full search, query embedding included.
fn search(cache: &mut Cache, text: &str, model: &Embedder) -> SearchResults {
    let req = SearchRequest {
        text: text.into(),
        filters: Filters::default(),
        limit: 20,
    };
    let r = cache.search(&req, Some(model)).expect("search");
    assert!(r.ranking.semantic, "{text}: {:?}", r.ranking);
    assert!(!r.hits.is_empty(), "{text}: no hits");
    r
}

/// A cache of `n` listings in `dir` with its index loaded, and the stored vectors.
fn prepare(
    dir: &std::path::Path,
    n: usize,
    bases: &[Vec<f32>],
    model: &Embedder,
) -> (Cache, Vec<Vec<f32>>) {
    let mut cache = Cache::open(dir, "bench", &format!("agent{n}")).expect("cache");
    let t = Instant::now();
    let vectors = build(&mut cache, n, bases, model);
    let k = n / 1000;
    println!("BENCH cache_build_{k}k {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let rows = cache.vector_index().expect("load").map_or(0, |v| v.len());
    report(&format!("index_load_{k}k"), t.elapsed());
    assert_eq!(rows, n);
    (cache, vectors)
}

/// Recall of the index's top `k` against an exact f32 scan over `vectors`.
fn recall(cache: &mut Cache, vectors: &[Vec<f32>], queries: &[Vec<f32>], k: usize) -> f64 {
    let index = cache.vector_index().expect("load").expect("vectors");
    let mut found = 0;
    for q in queries {
        let mut exact: Vec<(f32, i64)> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum(), i as i64 + 1))
            .collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        let truth: Vec<i64> = exact[..k].iter().map(|e| e.1).collect();
        found += index
            .top_k(q, None, k)
            .iter()
            .filter(|(rid, _)| truth.contains(rid))
            .count();
    }
    found as f64 / (queries.len() * k) as f64
}

fn main() {
    let Some(config) = EmbedConfig::from_env() else {
        eprintln!(
            "set ROOST_EMBED_MODEL_DIR and ORT_DYLIB_PATH: the bench embeds queries for real"
        );
        return;
    };
    let model = Embedder::load(&config).expect("load the embedding model");
    let texts: Vec<String> = (0..TYPES.len())
        .flat_map(|k| {
            (0..COMMUNITIES.len()).flat_map(move |c| (0..VARIANTS).map(move |v| template(k, c, v)))
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let bases = model.embed_documents(&refs).expect("embed the templates");

    report(
        "embed_query_p50_ms",
        p50(|run| {
            let text = UNFILTERED[run % UNFILTERED.len()];
            model.embed_query(text).expect("embed");
        }),
    );

    // Longer texts take longer: the filtered queries' whole texts, for reference (a search
    // embeds the words its filters leave, or the whole text when none are left).
    report(
        "embed_query_filtered_texts_p50_ms",
        p50(|run| {
            let text = FILTERED[run % FILTERED.len()];
            model.embed_query(text).expect("embed");
        }),
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let (mut cache, vectors) = prepare(dir.path(), 100_000, &bases, &model);
    for text in FILTERED {
        let r = search(&mut cache, text, &model);
        println!("# {text:?}: {} pass the filters", r.total);
    }
    report(
        "search_p50_ms_100k_filtered",
        p50(|run| {
            search(&mut cache, FILTERED[run % FILTERED.len()], &model);
        }),
    );
    report(
        "search_p50_ms_100k_unfiltered",
        p50(|run| {
            search(&mut cache, UNFILTERED[run % UNFILTERED.len()], &model);
        }),
    );

    // Real queries and queries near the stored clusters.
    let mut rng = StdRng::seed_from_u64(9);
    let mut queries: Vec<Vec<f32>> = UNFILTERED
        .iter()
        .chain(&FILTERED)
        .map(|t| model.embed_query(t).expect("embed"))
        .collect();
    queries.extend((0..38).map(|_| perturbed(&bases[rng.random_range(0..bases.len())], &mut rng)));
    let r = recall(&mut cache, &vectors, &queries, 10);
    println!("BENCH search_recall10_100k {r:.4} ratio");
    // The depth a search ranks to (MIN_RANK_DEPTH): what reaches the fusion.
    let r = recall(&mut cache, &vectors, &queries, 100);
    println!("BENCH search_recall100_100k {r:.4} ratio");
    let index = cache.vector_index().expect("load").expect("vectors");
    report(
        "search_vector_scan_100k_p50",
        p50(|run| {
            let top = index.top_k(&queries[run % queries.len()], None, 10);
            assert_eq!(top.len(), 10);
        }),
    );
    report(
        "search_vector_top100_100k_p50",
        p50(|run| {
            let top = index.top_k(&queries[run % queries.len()], None, 100);
            assert_eq!(top.len(), 100);
        }),
    );
    drop(cache);

    let (mut small, _) = prepare(dir.path(), 10_000, &bases, &model);
    report(
        "search_p50_ms_10k_filtered",
        p50(|run| {
            search(&mut small, FILTERED[run % FILTERED.len()], &model);
        }),
    );
}
