//! The in-memory index against SQL, the source of truth: filters select exactly the rows
//! `Filters::to_sql` selects, search never returns a listing outside the filters and can
//! reach every one inside, and an index updated with a sync's rids equals a fresh load.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use roost_api::listings::{Area, AreaUnit, Listing, Price};
use roost_api::sync::{Change, ChangePage, EmbeddingModel};
use rusqlite::params_from_iter;
use uuid::Uuid;

use crate::filters::{Bounds, Filters, FiltersSql, PriceRange};
use crate::search::SearchRequest;
use crate::vectors::VectorIndex;
use crate::{Cache, QueryEmbedder};
use roost_search::keywords::query_terms;

const DIM: usize = 8;
const MODEL: &str = "test-model";
const TYPES: [&str; 5] = ["Villa", "villa", "Apartment", "Townhouse", "Office"];
const COMMUNITIES: [&str; 4] = ["Arabian Ranches", "JVC", "Dubai Marina", "arabian ranches"];
const STATUSES: [&str; 2] = ["For Sale", "For Rent"];
const WORDS: [&str; 6] = [
    "pool",
    "garden",
    "sea view",
    "metro",
    "maid's room",
    "pools",
];

/// `make(rng)` seven times in eight, else `None` (SQL NULL).
fn maybe<T>(rng: &mut StdRng, make: impl FnOnce(&mut StdRng) -> T) -> Option<T> {
    (rng.random_range(0..8) != 0).then(|| make(rng))
}

fn listing(n: u128, rng: &mut StdRng) -> Listing {
    let beds = rng.random_range(0..6u16);
    let word = WORDS[rng.random_range(0..WORDS.len())];
    let currency = if rng.random_range(0..10) == 0 {
        "USD"
    } else {
        "AED"
    };
    let mut attributes = BTreeMap::new();
    if rng.random_bool(0.5) {
        let view = ["Sea", "sea", "Golf"][rng.random_range(0..3)];
        attributes.insert("View".to_string(), view.to_string());
    }
    Listing {
        id: Uuid::from_u128(n),
        external_id: format!("T-{n}"),
        title: maybe(rng, |_| format!("{beds} bed home with {word}")),
        description: maybe(rng, |rng| {
            format!("Bright rooms and a {}", WORDS[rng.random_range(0..6)])
        }),
        price: maybe(rng, |rng| Price {
            amount_minor: rng.random_range(1..80) * 10_000_000,
            currency: currency.into(),
        }),
        bedrooms: maybe(rng, |_| beds),
        bathrooms: maybe(rng, |rng| f32::from(rng.random_range(2..9u8)) / 2.0),
        size: maybe(rng, |rng| {
            Area::new(f64::from(rng.random_range(400..5000u32)), AreaUnit::Sqft)
        }),
        property_type: maybe(rng, |rng| {
            TYPES[rng.random_range(0..TYPES.len())].to_string()
        }),
        community: maybe(rng, |rng| {
            COMMUNITIES[rng.random_range(0..COMMUNITIES.len())].to_string()
        }),
        city: None,
        status: maybe(rng, |rng| STATUSES[rng.random_range(0..2)].to_string()),
        latitude: None,
        longitude: None,
        furnished: maybe(rng, |rng| rng.random_bool(0.5)),
        photos: vec![],
        listed_at: None,
        attributes,
        // Repeats on purpose: ties in the newest-first order must break the same way.
        updated_at: rng.random_range(0..50),
    }
}

fn vector(rng: &mut StdRng) -> Vec<f32> {
    (0..DIM).map(|_| rng.random::<f32>() - 0.5).collect()
}

fn page(changes: Vec<Change>, cursor: i64) -> ChangePage {
    ChangePage {
        changes,
        next_cursor: cursor,
        has_more: false,
        head: 0,
        embedding_model: Some(EmbeddingModel {
            id: MODEL.into(),
            dim: DIM as u32,
            encoding: "f32le".into(),
        }),
        scope: "agent".into(),
    }
}

fn upsert(seq: i64, listing: Listing, rng: &mut StdRng) -> Change {
    let embedding = rng.random_bool(0.9).then(|| {
        let bytes: Vec<u8> = vector(rng).iter().flat_map(|x| x.to_le_bytes()).collect();
        STANDARD.encode(bytes)
    });
    Change::Listing {
        seq,
        listing,
        embedding,
    }
}

/// A cache with `n` random listings (ids 1..=n).
fn cache(dir: &std::path::Path, n: u128, rng: &mut StdRng) -> Cache {
    let mut cache = Cache::open_file(&dir.join("c.sqlite3")).unwrap();
    let changes = (1..=n)
        .map(|i| {
            let l = listing(i, rng);
            upsert(i as i64, l, rng)
        })
        .collect();
    cache.apply_page(&page(changes, n as i64)).unwrap();
    cache
}

fn random_filters(rng: &mut StdRng) -> Filters {
    let mut f = Filters::default();
    let pick = |rng: &mut StdRng, values: &[&str]| -> Vec<String> {
        (0..rng.random_range(1..3))
            .map(|_| values[rng.random_range(0..values.len())].to_uppercase())
            .chain(["Nowhere".to_string()])
            .collect()
    };
    if rng.random_bool(0.4) {
        f.price = Some(PriceRange {
            currency: if rng.random_bool(0.8) { "AED" } else { "USD" }.into(),
            min_minor: rng
                .random_bool(0.5)
                .then(|| rng.random_range(0..40) * 10_000_000),
            max_minor: rng
                .random_bool(0.5)
                .then(|| rng.random_range(20..90) * 10_000_000),
        });
    }
    if rng.random_bool(0.4) {
        f.bedrooms = Bounds {
            min: rng.random_bool(0.5).then(|| rng.random_range(0..4)),
            max: rng.random_bool(0.5).then(|| rng.random_range(2..6)),
        };
    }
    if rng.random_bool(0.2) {
        f.bathrooms_min = Some(f32::from(rng.random_range(2..9u8)) / 2.0);
    }
    if rng.random_bool(0.4) {
        f.property_types = pick(rng, &TYPES);
    }
    if rng.random_bool(0.4) {
        f.communities = pick(rng, &COMMUNITIES);
    }
    if rng.random_bool(0.3) {
        f.statuses = pick(rng, &STATUSES);
    }
    if rng.random_bool(0.3) {
        f.size_sqft = Bounds {
            min: rng
                .random_bool(0.5)
                .then(|| f64::from(rng.random_range(400..3000u32))),
            max: rng
                .random_bool(0.5)
                .then(|| f64::from(rng.random_range(1000..5000u32))),
        };
    }
    if rng.random_bool(0.3) {
        f.furnished = Some(rng.random_bool(0.5));
    }
    if rng.random_bool(0.2) {
        let view = ["SEA", "golf", "Mountain"][rng.random_range(0..3)];
        f.attributes = vec![("View".into(), view.into())];
    }
    f
}

fn sql_rids(cache: &Cache, f: &Filters) -> Vec<u32> {
    let (cond, params) = f.to_sql();
    let sql = format!("SELECT l.rid FROM listings l WHERE {cond} ORDER BY l.rid");
    let mut stmt = cache.conn.prepare(&sql).unwrap();
    stmt.query_map(params_from_iter(params), |r| r.get::<_, u32>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A fixed query vector in the cache's model; remembers the texts it was asked to embed.
struct Fixed(Vec<f32>, std::cell::RefCell<Vec<String>>);

impl Fixed {
    fn new(vector: Vec<f32>) -> Fixed {
        Fixed(vector, Default::default())
    }
}

impl QueryEmbedder for Fixed {
    fn model_id(&self) -> &str {
        MODEL
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, String> {
        self.1.borrow_mut().push(text.to_string());
        Ok(self.0.clone())
    }
}

#[test]
fn filters_in_memory_select_exactly_what_sql_selects() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    let mut cache = cache(dir.path(), 400, &mut rng);
    let embedder = Fixed::new(vector(&mut rng));
    let mut non_empty = 0;
    for round in 0..300 {
        let filters = random_filters(&mut rng);
        let expected = sql_rids(&cache, &filters);
        cache.ensure_index_for_tests();
        let index = cache.vectors.as_ref().unwrap();
        assert_eq!(index.columns.passing(&filters), expected, "{filters:?}");
        non_empty += usize::from(!expected.is_empty());

        // Through search, in pages: every hit passes, every passing listing shows up once.
        // Words the parser reads no filter from.
        let text = ["", "pool", "garden with a view", "quiet"][round % 4];
        let req = SearchRequest {
            text: text.into(),
            filters: filters.clone(),
            limit: 37,
        };
        let mut seen = BTreeSet::new();
        let mut offset = 0;
        loop {
            let r = cache.search_page(&req, offset, Some(&embedder)).unwrap();
            if filters.is_empty() {
                break;
            }
            assert_eq!(r.total as usize, expected.len());
            for hit in &r.hits {
                let rid: u32 = cache
                    .conn
                    .query_row(
                        "SELECT rid FROM listings WHERE id = ?1",
                        [hit.id.to_string()],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert!(
                    expected.binary_search(&rid).is_ok(),
                    "{filters:?}: {rid} fails them"
                );
                assert!(seen.insert(rid), "{rid} on two pages");
            }
            if r.hits.len() < req.limit {
                break;
            }
            offset += req.limit;
        }
        if !filters.is_empty() {
            assert_eq!(
                seen.len(),
                expected.len(),
                "{filters:?} ({text:?}) {seen:?} {expected:?}"
            );
        }

        // Facets count the same set.
        let facets = cache.facets(&filters).unwrap();
        let counted: u64 = facets.bedrooms.iter().map(|b| b.count).sum();
        let with_beds = expected
            .iter()
            .filter(|&&rid| {
                cache
                    .conn
                    .query_row(
                        "SELECT bedrooms IS NOT NULL FROM listings WHERE rid = ?1",
                        [rid],
                        |r| r.get::<_, bool>(0),
                    )
                    .unwrap()
            })
            .count();
        assert_eq!(counted as usize, with_beds);
    }
    assert!(
        non_empty > 100,
        "the random filters mostly select something ({non_empty})"
    );
}

/// Everything observable about an index, for comparing two.
fn fingerprint(index: &VectorIndex, probes: &[(Filters, Vec<String>, Vec<f32>)]) -> Vec<String> {
    let mut out = vec![format!("{} {}", index.columns.live(), index.len())];
    for (filters, terms, query) in probes {
        let passing = index.columns.passing(filters);
        out.push(format!("{passing:?}"));
        out.push(format!(
            "{:?}",
            index.columns.newest(Some(&passing), &|_| false, 0, 50)
        ));
        out.push(format!("{:?}", index.columns.facets(&passing)));
        out.push(format!("{:?}", index.keywords.top(terms, None, 30)));
        out.push(format!(
            "{:?}",
            index.keywords.top(terms, Some(&passing), 30)
        ));
        out.push(format!("{:?}", index.vectors.top_k(query, None, 20)));
        out.push(format!(
            "{:?}",
            index.vectors.top_k(query, Some(&passing), 20)
        ));
    }
    out
}

#[test]
fn an_updated_index_equals_a_fresh_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(2);
    let mut cache = cache(dir.path(), 300, &mut rng);
    cache.ensure_index_for_tests();
    let mut seq = 1_000;
    for _ in 0..5 {
        // Changes, additions (new ids) and deletions, as a sync page brings them.
        let mut changes = Vec::new();
        for _ in 0..40 {
            seq += 1;
            let id = rng.random_range(1..400u128);
            if rng.random_bool(0.25) {
                changes.push(Change::ListingDeleted {
                    seq,
                    id: Uuid::from_u128(id),
                });
            } else {
                let l = listing(id, &mut rng);
                changes.push(upsert(seq, l, &mut rng));
            }
        }
        // The rids the page touches: known ones before it applies (deletions), new ones after.
        let rids_of = |cache: &Cache| -> BTreeMap<String, i64> {
            let mut stmt = cache.conn.prepare("SELECT id, rid FROM listings").unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let before = rids_of(&cache);
        let mut index = cache.vectors.take().unwrap();
        cache.apply_page(&page(changes.clone(), seq)).unwrap();
        let after = rids_of(&cache);
        let touched: Vec<i64> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Listing { listing, .. } => Some(listing.id),
                Change::ListingDeleted { id, .. } => Some(*id),
                _ => None,
            })
            .flat_map(|id| {
                let id = id.to_string();
                [before.get(&id), after.get(&id)]
            })
            .flatten()
            .copied()
            .collect();
        index.update(&cache.conn, &touched).unwrap();

        let fresh =
            VectorIndex::load(&cache.conn, cache.sync_state().unwrap().model.as_ref()).unwrap();
        let probes: Vec<_> = (0..20)
            .map(|i| {
                let terms = query_terms(["pool", "garden sea", "maid room", "home"][i % 4]);
                (random_filters(&mut rng), terms, vector(&mut rng))
            })
            .collect();
        assert_eq!(fingerprint(&index, &probes), fingerprint(&fresh, &probes));
        cache.vectors = Some(index);
    }
}

#[test]
fn top_k_ranks_and_filters_by_rid() {
    let dir = tempfile::tempdir().unwrap();
    let mut cache = Cache::open_file(&dir.path().join("c.sqlite3")).unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let axis = |i: usize, s: f32| -> String {
        let mut v = [0f32; DIM];
        v[i] = s;
        STANDARD.encode(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>())
    };
    let changes = [(1, axis(0, 1.0)), (2, axis(1, 1.0)), (3, axis(0, -1.0))]
        .into_iter()
        .map(|(n, v)| Change::Listing {
            seq: n,
            listing: listing(n as u128, &mut rng),
            embedding: Some(v),
        })
        .collect();
    cache.apply_page(&page(changes, 3)).unwrap();
    let index = cache.vector_index().unwrap().unwrap();
    let mut q = vec![0f32; DIM];
    q[0] = 2.0;
    let ids = |v: Vec<(i64, f32)>| v.into_iter().map(|(r, _)| r).collect::<Vec<_>>();
    assert_eq!(ids(index.top_k(&q, None, 3)), vec![1, 2, 3]);
    assert_eq!(ids(index.top_k(&q, Some(&[3, 2, 77, -3]), 10)), vec![2, 3]);
    assert!(index.top_k(&q, None, 0).is_empty());
    assert!(
        (index.top_k(&q, None, 1)[0].1 - 1.0).abs() < 1e-5,
        "cosine of normalised rows"
    );
}

impl Cache {
    fn ensure_index_for_tests(&mut self) {
        self.vector_index().unwrap();
    }
}

#[test]
fn the_embedder_reads_what_the_filters_left_or_the_whole_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let mut cache = cache(dir.path(), 200, &mut rng);
    let embedder = Fixed::new(vector(&mut rng));
    let cases = [
        // Filters taken out; the words that order what passes them are embedded.
        (
            "3 bed villa in Arabian Ranches with a private pool",
            "with a private pool",
        ),
        ("studio near the metro", "near the metro"),
        // Nothing but filters and small words left: the whole text.
        ("villa or townhouse", "villa or townhouse"),
        ("3 bed villa in JVC", "3 bed villa in JVC"),
        // No filters: the whole text.
        (
            "family home with a swimming pool",
            "family home with a swimming pool",
        ),
    ];
    for (text, embedded) in cases {
        let req = SearchRequest {
            text: text.into(),
            filters: Filters::default(),
            limit: 10,
        };
        let r = cache.search(&req, Some(&embedder)).unwrap();
        assert!(r.ranking.semantic, "{text}");
        assert_eq!(embedder.1.borrow_mut().pop().as_deref(), Some(embedded));
    }
}
