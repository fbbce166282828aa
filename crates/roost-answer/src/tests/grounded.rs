use roost_api::knowledge::KnowledgeKind;
use roost_api::search::Filters;
use serde_json::json;

use super::fixtures::*;
use crate::{Question, Record, Source, cited_numbers, grounded_answer, ungrounded_mentions};

const COMPANY: &str = "Acme Realty";

fn ask<'a>(text: &'a str, filters: &'a Filters, total: u64) -> Question<'a> {
    Question {
        text,
        filters,
        listing_total: total,
        company: COMPANY,
    }
}

fn table_rows(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Listing |"))
        .collect()
}

fn listing_sources(count: usize) -> Vec<Source> {
    numbered(
        marina_listings(count)
            .into_iter()
            .map(Record::Listing)
            .collect(),
    )
}

#[test]
fn listing_rows_are_exactly_the_sources() {
    let filters = marina_filters();
    let sources = listing_sources(3);
    let q = ask(
        "which of our 3-bed listings in Marina are under 2.5M?",
        &filters,
        3,
    );
    let a = grounded_answer(&q, &sources);
    assert!(
        a.text
            .starts_with("3 listings match 3 bedrooms · Dubai Marina · under AED 2.5M:\n\n"),
        "{}",
        a.text
    );
    let rows = table_rows(&a.text);
    assert_eq!(rows.len(), 3, "{}", a.text);
    for (row, s) in rows.iter().zip(&sources) {
        let Record::Listing(l) = &s.record else {
            unreachable!()
        };
        let title = l.title.as_deref().unwrap();
        assert!(
            row.starts_with(&format!("| {title} ({}) [{}] |", l.external_id, s.n)),
            "{row}"
        );
        let price = roost_api::money::format_amount(l.price.as_ref().unwrap().amount_minor, "AED");
        assert!(row.contains(&format!("| {price} |")), "{row}");
        assert!(row.contains("| Dubai Marina | 3 |"), "{row}");
    }
    assert_eq!(
        rows[0],
        "| Marina Heights Tower 1 (DM-101) [1] | Dubai Marina | 3 | 1,600 sqft | AED 2,000,000 | for sale |"
    );
    assert!(!a.text.contains("more in Search"), "{}", a.text);
    assert_eq!(a.cited, [1, 2, 3]);
}

#[test]
fn at_most_eight_rows_and_the_rest_in_search() {
    let filters = marina_filters();
    let sources = listing_sources(10);
    let a = grounded_answer(&ask("3 bed marina under 2.5m", &filters, 12), &sources);
    let rows = table_rows(&a.text);
    assert_eq!(rows.len(), 8, "{}", a.text);
    for (i, row) in rows.iter().enumerate() {
        assert!(row.contains(&format!(" [{}] |", i + 1)), "{row}");
    }
    assert!(
        a.text.starts_with(
            "12 listings match 3 bedrooms · Dubai Marina · under AED 2.5M; the best 8:"
        ),
        "{}",
        a.text
    );
    assert!(a.text.ends_with("…and 4 more in Search."), "{}", a.text);
    assert_eq!(a.cited, (1..=8).collect::<Vec<u32>>());
}

#[test]
fn the_total_counts_listings_beyond_the_sources() {
    let filters = marina_filters();
    let sources = listing_sources(3);
    let a = grounded_answer(&ask("3 bed marina", &filters, 1_250), &sources);
    assert!(
        a.text.starts_with(
            "1,250 listings match 3 bedrooms · Dubai Marina · under AED 2.5M; the best 3:"
        ),
        "{}",
        a.text
    );
    assert!(a.text.ends_with("…and 1,247 more in Search."), "{}", a.text);
    assert_eq!(table_rows(&a.text).len(), 3);

    // A total smaller than the sources given (stale count) never reads "-2 more".
    let a = grounded_answer(&ask("3 bed marina", &filters, 1), &sources);
    assert!(a.text.starts_with("3 listings match"), "{}", a.text);
    assert!(!a.text.contains("more in Search"), "{}", a.text);
}

#[test]
fn one_listing_is_singular_and_no_filters_say_closest() {
    let filters = marina_filters();
    let sources = listing_sources(1);
    let a = grounded_answer(&ask("3 bed marina", &filters, 1), &sources);
    assert!(
        a.text.starts_with("1 listing matches 3 bedrooms"),
        "{}",
        a.text
    );

    let none = Filters::default();
    let sources = listing_sources(2);
    let a = grounded_answer(&ask("sea view apartments", &none, 40), &sources);
    assert!(
        a.text
            .starts_with("The closest 2 of 40 listings in Acme Realty's data:"),
        "{}",
        a.text
    );
}

#[test]
fn no_listing_matching_is_said_plainly() {
    let filters = marina_filters();
    let a = grounded_answer(&ask("3 bed marina under 2.5M", &filters, 0), &[]);
    assert_eq!(
        a.text,
        "No listing in Acme Realty's data matches 3 bedrooms · Dubai Marina · under AED 2.5M."
    );
    assert!(a.cited.is_empty());

    // With an unrelated document around, still no invented listing, and the fact stays.
    let sources = numbered(vec![knowledge(item(
        9,
        KnowledgeKind::Document,
        "Dress code",
        "Wear a suit to viewings.",
    ))]);
    let a = grounded_answer(&ask("3 bed marina under 2.5M", &filters, 0), &sources);
    assert!(
        a.text
            .contains("No listing in Acme Realty's data matches 3 bedrooms"),
        "{}",
        a.text
    );
    assert!(!a.text.contains('|'), "{}", a.text);
}

#[test]
fn nothing_useful_says_so() {
    let none = Filters::default();
    let a = grounded_answer(&ask("what is the meaning of life?", &none, 0), &[]);
    assert_eq!(
        a.text,
        "I could not find anything about that in Acme Realty's data."
    );
    let q = Question {
        company: "",
        ..ask("anything?", &none, 0)
    };
    assert_eq!(
        grounded_answer(&q, &[]).text,
        "I could not find anything about that in the data."
    );
}

#[test]
fn policy_question_quotes_the_document() {
    let none = Filters::default();
    let mut off_plan = marina_listings(1).remove(0);
    off_plan.status = Some("off-plan".into());
    let sources = numbered(vec![knowledge(policy_doc(7)), Record::Listing(off_plan)]);
    let a = grounded_answer(
        &ask(
            "what's our policy on off-plan commission splits?",
            &none,
            500,
        ),
        &sources,
    );
    assert!(
        a.text.starts_with("From *Commission policy* [1]:\n\n> "),
        "{}",
        a.text
    );
    assert!(
        a.text.contains(
            "the commission is split 50/50 between the listing agent and the selling agent."
        ),
        "{}",
        a.text
    );
    assert!(!a.text.contains("Parking"), "{}", a.text);
    assert!(!a.text.contains("Annual leave"), "{}", a.text);
    // A word in common with a listing ("off-plan") is no reason for a table.
    assert!(!a.text.contains('|'), "{}", a.text);
    assert_eq!(a.cited, [1]);
    let quote = a.text.lines().find(|l| l.starts_with("> ")).unwrap();
    assert!(quote.chars().count() <= 460, "{quote}");
}

#[test]
fn long_documents_are_quoted_in_about_450_characters() {
    let none = Filters::default();
    // One sentence of ~1,600 characters: cut at a word.
    let body = "Commission rules apply to every deal and ".repeat(40);
    let sources = numbered(vec![knowledge(item(
        1,
        KnowledgeKind::AgentResource,
        "Rules",
        &body,
    ))]);
    let a = grounded_answer(&ask("commission rules", &none, 0), &sources);
    let quote = a.text.lines().find(|l| l.starts_with("> ")).unwrap();
    assert!(quote.chars().count() <= 452, "{}", quote.chars().count());
    assert!(a.text.starts_with("From *Rules* [1]:"), "{}", a.text);
}

#[test]
fn market_question_quotes_the_figures() {
    let none = Filters::default();
    let sources = numbered(vec![
        knowledge(item(
            1,
            KnowledgeKind::MarketIntelligence,
            "JVC 2-bed apartments, Q3 2026",
            "Jumeirah Village Circle (JVC), Dubai, Q3 2026, 2-bedroom apartments: median sale \
             price AED 1,150,000; median AED 1,210 per sqft; 214 sales. New supply kept \
             rents flat.",
        )),
        knowledge(item(
            2,
            KnowledgeKind::MarketIntelligence,
            "Palm villas, Q3 2026",
            "Palm Jumeirah villas: median AED 32,000,000.",
        )),
    ]);
    let a = grounded_answer(
        &ask(
            "what did 2-beds in JVC sell for per sqft last quarter?",
            &none,
            0,
        ),
        &sources,
    );
    assert_eq!(
        a.text,
        "- **JVC 2-bed apartments, Q3 2026** — Jumeirah Village Circle (JVC), Dubai, Q3 2026, \
         2-bedroom apartments: median sale price AED 1,150,000; median AED 1,210 per sqft; 214 \
         sales. [1]"
    );
}

#[test]
fn team_question_lists_the_matching_people() {
    let none = Filters::default();
    let sources = numbered(vec![
        knowledge(item(
            1,
            KnowledgeKind::Employee,
            "Olga Petrova",
            "Senior agent. Languages: Russian, English. Covers Palm Jumeirah and Bluewaters.",
        )),
        knowledge(item(
            2,
            KnowledgeKind::Employee,
            "Ahmed Saleh",
            "Languages: Arabic, English. Areas: Downtown Dubai.",
        )),
        knowledge(item(
            3,
            KnowledgeKind::Employee,
            "Ivan Sokolov",
            "Languages: Russian. Areas: JVC.",
        )),
    ]);
    let a = grounded_answer(
        &ask(
            "who on the team speaks Russian and covers Palm Jumeirah?",
            &none,
            0,
        ),
        &sources,
    );
    assert_eq!(
        a.text,
        "- **Olga Petrova** — Languages: Russian, English. Covers Palm Jumeirah and Bluewaters. \
         [1]\n- **Ivan Sokolov** — Languages: Russian. [3]"
    );
    assert_eq!(a.cited, [1, 3]);
}

#[test]
fn client_question_lists_stage_budget_and_interests() {
    let none = Filters::default();
    let sources = numbered(vec![
        Record::Client(client(
            1,
            "Sara Khan",
            json!({
                "stage": "active",
                "budget_min": {"minor_units": 300_000_000, "currency": "AED"},
                "budget_max": {"minor_units": 450_000_000, "currency": "AED"},
                "interests": ["villa", "private pool"],
                "preferred_communities": ["Arabian Ranches"],
            }),
        )),
        Record::Client(client(
            2,
            "Omar Ali",
            json!({"stage": "lead", "interests": "apartment"}),
        )),
        Record::Client(client(
            3,
            "Lena Berg",
            json!({"interests": "Villa or townhouse", "budget": 2_000_000, "currency": "AED"}),
        )),
    ]);
    let a = grounded_answer(
        &ask("which of my clients want a villa?", &none, 0),
        &sources,
    );
    assert_eq!(
        a.text,
        "- **Sara Khan** — stage: active · budget AED 3M–AED 4.5M · interests: villa, private \
         pool · areas: Arabian Ranches [1]\n- **Lena Berg** — budget AED 2M · interests: Villa or \
         townhouse [3]"
    );
    assert!(ungrounded_mentions(&a.text, &sources, &[]).is_empty());
}

#[test]
fn mixed_sources_make_sections_in_rank_order() {
    let filters = marina_filters();
    let mut records: Vec<Record> = vec![knowledge(item(
        20,
        KnowledgeKind::AgentResource,
        "Pets in Marina towers",
        "Most Marina towers allow cats and small dogs. Large dogs need the owners' \
         association approval.",
    ))];
    records.extend(marina_listings(2).into_iter().map(Record::Listing));
    records.push(knowledge(item(
        21,
        KnowledgeKind::Employee,
        "Ahmed Saleh",
        "Languages: Arabic. Areas: Downtown Dubai.",
    )));
    records.push(knowledge(item(
        22,
        KnowledgeKind::MarketIntelligence,
        "Dubai Marina 3-bed, Q3 2026",
        "Dubai Marina 3-bedroom apartments: median AED 2,600,000; 80 sales.",
    )));
    let sources = numbered(records);
    let a = grounded_answer(
        &ask(
            "which of our 3-bed listings in Marina are under 2.5M and allow pets?",
            &filters,
            2,
        ),
        &sources,
    );
    let docs = a
        .text
        .find("**Documents**\n\nFrom *Pets in Marina towers* [1]:")
        .unwrap();
    let listings = a
        .text
        .find("**Listings**\n\n2 listings match 3 bedrooms · Dubai Marina · under AED 2.5M:")
        .unwrap();
    let market = a
        .text
        .find("**Market figures**\n\n- **Dubai Marina 3-bed")
        .unwrap();
    assert!(docs < listings && listings < market, "{}", a.text);
    // The employee shares no word with the question: no Team section.
    assert!(!a.text.contains("Ahmed"), "{}", a.text);
    assert_eq!(table_rows(&a.text).len(), 2);
    assert_eq!(a.cited, [1, 2, 3, 5]);
    assert_eq!(a.cited, cited_numbers(&a.text, sources.len()));
    let all = marina_listings(2);
    assert!(ungrounded_mentions(&a.text, &sources, &all).is_empty());
}

#[test]
fn source_text_cannot_fake_citations_and_answers_are_deterministic() {
    let none = Filters::default();
    let sources = numbered(vec![knowledge(item(
        1,
        KnowledgeKind::Document,
        "Commission [7]",
        "Commission is 2% [9] of the price | paid on transfer.",
    ))]);
    let q = ask("commission", &none, 0);
    let a = grounded_answer(&q, &sources);
    assert_eq!(a.cited, [1], "{}", a.text);
    assert!(
        a.text.contains("Commission is 2% (9) of the price"),
        "{}",
        a.text
    );
    assert_eq!(a, grounded_answer(&q, &sources));
}

#[test]
fn listings_without_titles_get_a_label() {
    let filters = marina_filters();
    let l = listing(1, "", "DM-900", "Dubai Marina", 0, 450.5, 900_000);
    let sources = numbered(vec![Record::Listing(l)]);
    let a = grounded_answer(&ask("studio", &filters, 1), &sources);
    assert!(
        a.text
            .contains("| Apartment in Dubai Marina (DM-900) [1] | Dubai Marina | Studio | 450.5 sqft | AED 900,000 | for sale |"),
        "{}",
        a.text
    );
    assert_eq!(sources[0].citation().title, "Apartment in Dubai Marina");
}
