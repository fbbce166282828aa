//! Properties over random sources: the grounded answer cites only given sources, its `cited`
//! is what its text cites, it names no listing or amount outside its sources, and it streams
//! back to itself.

use proptest::prelude::*;
use roost_api::chat::MessageAuthor;
use roost_api::knowledge::KnowledgeKind;
use roost_api::listings::{Area, AreaUnit, Listing, Price};
use roost_api::money::group_thousands;
use roost_api::search::{Bounds, Filters, PriceRange};
use roost_api::users::Role;
use serde_json::json;

use super::fixtures::*;
use crate::{
    Question, Record, cited_numbers, grounded_answer, prompt, stream_pieces, ungrounded_mentions,
};

const WORDS: &[&str] = &[
    "marina",
    "palm",
    "villa",
    "pool",
    "sea",
    "view",
    "garden",
    "downtown",
    "tower",
    "quiet",
    "family",
    "pets",
    "gym",
    "commission",
    "policy",
    "split",
    "russian",
    "arabic",
    "yield",
    "rent",
    "market",
    "quarter",
    "agent",
    "team",
    "client",
    "budget",
    "listing",
    "3-bed",
    "price",
    "sqft",
];
const COMMUNITIES: &[&str] = &["Dubai Marina", "JVC", "Palm Jumeirah", "Downtown Dubai"];
const CURRENCIES: &[&str] = &["AED", "USD", "GBP"];
const KINDS: &[KnowledgeKind] = &[
    KnowledgeKind::MarketIntelligence,
    KnowledgeKind::AgentResource,
    KnowledgeKind::Document,
    KnowledgeKind::Employee,
];

fn words(picks: &[usize]) -> String {
    picks
        .iter()
        .map(|i| WORDS[i % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sentence with words, a figure, maybe an amount and a bracketed number.
fn sentence(picks: &[usize], figure: u64, amount: Option<(u64, usize)>, bracket: bool) -> String {
    let mut s = words(picks);
    s.push_str(&format!(" {figure}"));
    if let Some((a, c)) = amount {
        s.push_str(&format!(" at {} {}", CURRENCIES[c % 3], group_thousands(a)));
    }
    if bracket {
        s.push_str(&format!(" [{}]", figure % 40));
    }
    s.push('.');
    s
}

type ListingSeed = (
    (Vec<usize>, bool, usize, Option<u16>),
    (Option<u32>, Option<(u64, usize)>, Option<usize>, Vec<usize>),
);

fn listing_seed() -> impl Strategy<Value = ListingSeed> {
    (
        (
            prop::collection::vec(0usize..100, 1..4),
            any::<bool>(),
            0usize..4,
            prop::option::of(0u16..7),
        ),
        (
            prop::option::of(300u32..9_000),
            prop::option::of((50_000u64..60_000_000, 0usize..3)),
            prop::option::of(0usize..3),
            prop::collection::vec(0usize..100, 0..6),
        ),
    )
}

fn make_listing(i: usize, seed: &ListingSeed, foreign: bool) -> Listing {
    let ((title, bracket, community, beds), (size, price, status, desc)) = seed;
    let tag = if foreign {
        format!("Estate F{i}")
    } else {
        format!("Residence S{i}")
    };
    let mut l = listing(
        if foreign { 10_000 + i } else { i + 1 } as u128,
        "",
        &if foreign {
            format!("F-{i:03}")
        } else {
            format!("S-{i:03}")
        },
        COMMUNITIES[*community],
        0,
        0.0,
        0,
    );
    l.title = Some(format!(
        "{} {tag}{}",
        words(title),
        if *bracket { " [2]" } else { "" }
    ));
    l.bedrooms = *beds;
    l.size = size.map(|s| Area::new(f64::from(s), AreaUnit::Sqft));
    l.price = price.map(|(units, c)| Price {
        amount_minor: units as i64 * 100,
        currency: CURRENCIES[c].into(),
    });
    l.status = status.map(|s| ["for sale", "for rent", "off-plan"][s].to_string());
    l.description = Some(sentence(desc, desc.len() as u64, None, *bracket));
    l
}

type KnowledgeSeed = (
    usize,
    Vec<usize>,
    Vec<(Vec<usize>, u64, Option<(u64, usize)>, bool)>,
);

fn knowledge_seed() -> impl Strategy<Value = KnowledgeSeed> {
    (
        0usize..4,
        prop::collection::vec(0usize..100, 1..4),
        prop::collection::vec(
            (
                prop::collection::vec(0usize..100, 1..12),
                0u64..5_000_000,
                prop::option::of((1_000u64..90_000_000, 0usize..3)),
                any::<bool>(),
            ),
            1..8,
        ),
    )
}

type ClientSeed = (usize, Option<usize>, Option<(u64, usize)>, Vec<usize>);

fn client_seed() -> impl Strategy<Value = ClientSeed> {
    (
        0usize..50,
        prop::option::of(0usize..3),
        prop::option::of((100_000u64..20_000_000, 0usize..3)),
        prop::collection::vec(0usize..100, 0..3),
    )
}

type FilterSeed = (
    Option<u16>,
    Option<usize>,
    Option<(Option<u64>, u64, usize)>,
);

fn filter_seed() -> impl Strategy<Value = FilterSeed> {
    (
        prop::option::of(0u16..6),
        prop::option::of(0usize..4),
        prop::option::of((
            prop::option::of(100_000u64..1_000_000),
            1_000_000u64..9_000_000,
            0usize..3,
        )),
    )
}

fn make_filters((beds, community, price): &FilterSeed) -> Filters {
    Filters {
        bedrooms: Bounds {
            min: *beds,
            max: *beds,
        },
        communities: community
            .iter()
            .map(|c| COMMUNITIES[*c].to_string())
            .collect(),
        price: price.map(|(min, max, c)| PriceRange {
            currency: CURRENCIES[c].into(),
            min_minor: min.map(|m| m as i64 * 100),
            max_minor: Some(max as i64 * 100),
        }),
        ..Filters::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn grounded_answers_stay_within_their_sources(
        listings in prop::collection::vec(listing_seed(), 0..12),
        items in prop::collection::vec(knowledge_seed(), 0..6),
        clients in prop::collection::vec(client_seed(), 0..4),
        foreign in prop::collection::vec(listing_seed(), 0..10),
        order in prop::collection::vec(any::<u32>(), 22),
        filter in filter_seed(),
        extra in 0u64..60,
        question in prop::collection::vec(0usize..100, 0..8),
        budget in 0usize..8_000,
    ) {
        let mut records: Vec<Record> = listings
            .iter()
            .enumerate()
            .map(|(i, s)| Record::Listing(make_listing(i, s, false)))
            .collect();
        for (i, (kind, title, body)) in items.iter().enumerate() {
            let body: Vec<String> = body
                .iter()
                .map(|(w, f, a, b)| sentence(w, *f, *a, *b))
                .collect();
            records.push(knowledge(item(
                20_000 + i as u128,
                KINDS[*kind],
                &words(title),
                &body.join(if i % 2 == 0 { " " } else { "\n" }),
            )));
        }
        for (i, (name, stage, budget, interests)) in clients.iter().enumerate() {
            let mut data = json!({});
            if let Some(s) = stage {
                data["stage"] = json!(["lead", "active", "closed"][*s]);
            }
            if let Some((units, c)) = budget {
                data["budget_max"] = json!({"minor_units": units * 100, "currency": CURRENCIES[*c]});
            }
            let interests: Vec<&str> = interests.iter().map(|i| WORDS[i % WORDS.len()]).collect();
            data["interests"] = json!(interests);
            records.push(Record::Client(client(
                30_000 + i as u128,
                &format!("Client {}", WORDS[name % WORDS.len()]),
                data,
            )));
        }
        // Shuffle by the random keys: kinds come interleaved, in any rank order.
        let mut keyed: Vec<(u32, Record)> = records
            .into_iter()
            .enumerate()
            .map(|(i, r)| (order[i % order.len()].wrapping_add(i as u32), r))
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        let sources = numbered(keyed.into_iter().map(|(_, r)| r).collect());
        let mut all: Vec<Listing> = foreign
            .iter()
            .enumerate()
            .map(|(i, s)| make_listing(i, s, true))
            .collect();
        all.extend(sources.iter().filter_map(|s| match &s.record {
            Record::Listing(l) => Some(l.clone()),
            _ => None,
        }));

        let filters = make_filters(&filter);
        let text = words(&question);
        let q = Question {
            text: &text,
            filters: &filters,
            listing_total: listings.len() as u64 + extra,
            company: "Acme Realty",
        };
        let a = grounded_answer(&q, &sources);

        let every_marker = cited_numbers(&a.text, usize::MAX);
        prop_assert!(
            every_marker.iter().all(|n| *n as usize <= sources.len() && *n >= 1),
            "{every_marker:?} over {} sources:\n{}", sources.len(), a.text
        );
        prop_assert_eq!(&a.cited, &cited_numbers(&a.text, sources.len()));
        let ungrounded = ungrounded_mentions(&a.text, &sources, &all);
        prop_assert!(ungrounded.is_empty(), "{ungrounded:?} in:\n{}", a.text);
        prop_assert_eq!(stream_pieces(&a.text).concat(), a.text.clone());
        prop_assert_eq!(&a, &grounded_answer(&q, &sources));

        // The prompt over the same sources keeps its budget whenever the rules and the
        // question fit, and always ends with the question.
        let history = vec![
            (MessageAuthor::User, text.repeat(3)),
            (MessageAuthor::Assistant, a.text.clone()),
        ];
        let p = prompt("Acme Realty", Role::Agent, &q, &history, &sources, budget);
        let base = prompt("Acme Realty", Role::Agent, &q, &[], &[], usize::MAX);
        prop_assert_eq!(&p.messages.last().unwrap().1, &base.messages.last().unwrap().1);
        if budget >= base.chars() {
            prop_assert!(p.chars() <= budget, "{} > {budget}", p.chars());
        }
    }
}
