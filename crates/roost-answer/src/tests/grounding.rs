use roost_api::knowledge::KnowledgeKind;
use serde_json::json;

use super::fixtures::*;
use crate::{Record, ungrounded_mentions};

/// Sources: Marina Heights Tower 1 (DM-101, AED 2,000,000) and 2 (DM-102, AED 2,025,000), and
/// a market item; `all` adds DM-103…DM-105 that are not sources.
fn setup() -> (Vec<crate::Source>, Vec<roost_api::listings::Listing>) {
    let all = marina_listings(5);
    let mut records: Vec<Record> = all[..2].iter().cloned().map(Record::Listing).collect();
    let mut market = item(
        50,
        KnowledgeKind::MarketIntelligence,
        "Marina Q3",
        "Dubai Marina 3-bedroom apartments: median AED 2,600,000; AED 1,850 per sqft.",
    );
    market.data =
        json!({"median_rent": {"minor_units": 18_000_000, "currency": "AED"}, "sales": 80});
    records.push(knowledge(market));
    (numbered(records), all)
}

#[test]
fn catches_a_foreign_reference() {
    let (sources, all) = setup();
    let found = ungrounded_mentions("Also consider DM-104 [1].", &sources, &all);
    assert_eq!(found, ["listing ref DM-104"]);
    // Part of a longer reference is not a mention.
    assert!(ungrounded_mentions("See DM-1040 and XDM-104.", &sources, &all).is_empty());
}

#[test]
fn catches_a_foreign_title() {
    let (sources, all) = setup();
    let found = ungrounded_mentions("You could show marina heights tower 3 too.", &sources, &all);
    assert_eq!(found, ["listing \"Marina Heights Tower 3\""]);
}

#[test]
fn a_title_inside_a_source_title_is_the_source() {
    let all = vec![
        listing(
            1,
            "Marina Gate Tower 2 penthouse",
            "A-1",
            "Dubai Marina",
            4,
            3000.0,
            9_000_000,
        ),
        listing(
            2,
            "Marina Gate Tower",
            "A-2",
            "Dubai Marina",
            4,
            3000.0,
            9_000_000,
        ),
    ];
    let sources = numbered(vec![Record::Listing(all[0].clone())]);
    assert!(ungrounded_mentions("Marina Gate Tower 2 penthouse [1]", &sources, &all).is_empty());
    assert_eq!(
        ungrounded_mentions("Marina Gate Tower [1]", &sources, &all),
        ["listing \"Marina Gate Tower\""]
    );
}

#[test]
fn short_titles_and_bare_short_numbers_do_not_count() {
    let mut all = marina_listings(1);
    all.push(listing(9, "Sea View", "2026", "JVC", 1, 700.0, 800_000));
    all.push(listing(
        10,
        "Canal Residence West",
        "123456",
        "JVC",
        1,
        700.0,
        800_000,
    ));
    let sources = numbered(vec![Record::Listing(all[0].clone())]);
    assert!(ungrounded_mentions("A sea view in 2026 [1]", &sources, &all).is_empty());
    assert_eq!(
        ungrounded_mentions("Try ref 2026 and 123456.", &sources, &all),
        ["listing ref 2026", "listing ref 123456"]
    );
}

#[test]
fn catches_a_foreign_price() {
    let (sources, all) = setup();
    let found = ungrounded_mentions(
        "Tower 1 is AED 2,000,000 [1]; a similar one sold for AED 3.1M.",
        &sources,
        &all,
    );
    assert_eq!(found, ["amount AED 3.1M"]);
    // Another listing's price (DM-103 is AED 2,050,000) is not a source's either.
    let found = ungrounded_mentions("Prices start at AED 2,050,000.", &sources, &all);
    assert_eq!(found, ["amount AED 2,050,000"]);
    // The same number in another currency is another amount.
    let found = ungrounded_mentions("USD 2,000,000 [1]", &sources, &all);
    assert_eq!(found, ["amount USD 2,000,000"]);
}

#[test]
fn accepts_source_prices_in_full_or_short_form() {
    let (sources, all) = setup();
    for text in [
        "Tower 1 costs AED 2,000,000 [1] and Tower 2 AED 2,025,000 [2].",
        "Tower 1 costs AED 2M [1] and Tower 2 AED 2.03M [2].",
        "Tower 2 is 2.025M AED [2], Tower 1 is AED2m [1].",
        "Tower 2 is AED 2.025 million [2].",
    ] {
        assert!(
            ungrounded_mentions(text, &sources, &all).is_empty(),
            "{text}: {:?}",
            ungrounded_mentions(text, &sources, &all)
        );
    }
    // Rounded further than the short form does is another figure.
    assert_eq!(
        ungrounded_mentions("Tower 2 is AED 2.1M [2].", &sources, &all),
        ["amount AED 2.1M"]
    );
}

#[test]
fn accepts_figures_from_knowledge_bodies_and_data_and_bounds() {
    let (sources, all) = setup();
    for text in [
        "The median is AED 2.6M [3], about AED 1,850 per sqft [3].",
        "Median rent is AED 180,000 [3].",
        "12 listings match 3 bedrooms · under AED 2.5M; the best 2:",
        "Anything between AED 1M and AED 2.5M, or from AED 900K, up to AED 4M.",
    ] {
        assert!(
            ungrounded_mentions(text, &sources, &all).is_empty(),
            "{text}: {:?}",
            ungrounded_mentions(text, &sources, &all)
        );
    }
    assert_eq!(
        ungrounded_mentions(
            "The median fell to AED 2.4M after a peak of AED 2.5M.",
            &sources,
            &all
        ),
        ["amount AED 2.4M", "amount AED 2.5M"]
    );
}
