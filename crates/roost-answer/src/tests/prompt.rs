use roost_api::chat::MessageAuthor;
use roost_api::knowledge::KnowledgeKind;
use roost_api::search::Filters;
use roost_api::users::Role;
use serde_json::json;

use super::fixtures::*;
use crate::{Question, Record, Source, cited_numbers, prompt};

const QUESTION: &str = "which of our 3-bed listings in Marina are under 2.5M and allow pets?";

fn sources() -> Vec<Source> {
    let mut records: Vec<Record> = marina_listings(3)
        .into_iter()
        .map(Record::Listing)
        .collect();
    let mut doc = policy_doc(10);
    doc.source = Some("handbook.pdf".into());
    records.push(knowledge(doc));
    records.push(Record::Knowledge {
        item: item(
            11,
            KnowledgeKind::Document,
            "Long guide [2]",
            &"Every viewing needs a signed form. ".repeat(200),
        ),
        shared: true,
    });
    let mut c = client(
        12,
        "Sara Khan",
        json!({"stage": "active", "budget_max": {"minor_units": 400_000_000, "currency": "AED"}}),
    );
    c.email = Some("sara@example.com".into());
    records.push(Record::Client(c));
    numbered(records)
}

fn history() -> Vec<(MessageAuthor, String)> {
    vec![
        (MessageAuthor::Assistant, "Hello! Ask me anything.".into()),
        (MessageAuthor::User, "first question about JVC".into()),
        (
            MessageAuthor::Assistant,
            format!("first answer {}", "x ".repeat(300)),
        ),
        (MessageAuthor::User, "second question about Marina".into()),
        (MessageAuthor::Assistant, "second answer [1]".into()),
    ]
}

fn build(budget: usize) -> crate::Prompt {
    let filters = marina_filters();
    let q = Question {
        text: QUESTION,
        filters: &filters,
        listing_total: 12,
        company: "Acme Realty",
    };
    prompt(
        "Acme Realty",
        Role::Agent,
        &q,
        &history(),
        &sources(),
        budget,
    )
}

/// The `[n]` that start source blocks in the system text.
fn block_numbers(system: &str) -> Vec<u32> {
    system
        .split("\n\n")
        .filter_map(|b| {
            let rest = b.strip_prefix('[')?;
            rest[..rest.find(']')?].parse().ok()
        })
        .collect()
}

#[test]
fn rules_name_the_company_role_and_filters() {
    let p = build(100_000);
    assert!(
        p.system.contains("Acme Realty's real-estate agents"),
        "{}",
        p.system
    );
    assert!(p.system.contains("role: agent"));
    assert!(p.system.contains("Use ONLY the numbered sources"));
    assert!(p.system.contains("language of the question"));
    assert!(p.system.contains(
        "Filters read from the question: 3 bedrooms · Dubai Marina · under AED 2.5M. Listings in \
         the data passing them: 12"
    ));
    let manager = {
        let f = Filters::default();
        let q = Question {
            text: "hi",
            filters: &f,
            listing_total: 0,
            company: "",
        };
        prompt("", Role::Manager, &q, &[], &[], 10_000)
    };
    assert!(manager.system.contains("role: manager"));
    assert!(manager.system.contains("the company's real-estate agents"));
    assert!(
        manager
            .system
            .ends_with("Sources: none. Say that the data has nothing on this.")
    );
    assert_eq!(manager.messages, [(MessageAuthor::User, "hi".to_string())]);
}

#[test]
fn sources_are_numbered_as_given_and_rendered_compactly() {
    let p = build(100_000);
    assert_eq!(block_numbers(&p.system), [1, 2, 3, 4, 5, 6]);
    assert!(
        p.system.contains(
            "\n\n[1] listing · Marina Heights Tower 1 · ref DM-101 · AED 2,000,000 · 3 bed · 2 \
             bath · 1600 sqft · Apartment · Dubai Marina, Dubai · for sale\nBright 3-bed home in \
             Dubai Marina.\n\n"
        ),
        "{}",
        p.system
    );
    assert!(
        p.system
            .contains("\n\n[4] document · Commission policy (handbook.pdf)\nWelcome")
    );
    assert!(
        p.system
            .contains("[5] document · Long guide (2) · shared knowledge\n")
    );
    assert!(p.system.contains(
        "[6] client · Sara Khan · C-12 · sara@example.com\nbudget_max: AED 4,000,000; stage: active"
    ));
    // No source text reads as a citation of another source.
    let sources_part = p.system.split("\n\nSources:").nth(1).unwrap();
    let markers: Vec<u32> = sources_part
        .split("\n\n")
        .flat_map(|b| cited_numbers(b.split_once(' ').map_or("", |(_, rest)| rest), 6))
        .collect();
    assert_eq!(markers, Vec::<u32>::new(), "{sources_part}");
}

#[test]
fn long_bodies_are_cut_and_marked() {
    let p = build(100_000);
    let guide = p.system.split("\n\n[5] ").nth(1).unwrap();
    let body = guide
        .split("\n\n")
        .next()
        .unwrap()
        .split_once('\n')
        .unwrap()
        .1;
    assert!(body.ends_with("… (truncated)"), "{body}");
    assert!(body.chars().count() <= 1_500, "{}", body.chars().count());
}

#[test]
fn the_budget_is_respected_and_the_question_kept() {
    let full = build(1_000_000);
    let mut previous_blocks = usize::MAX;
    for budget in (full.chars() / 8..=full.chars() + 100).rev().step_by(97) {
        let p = build(budget);
        let minimum = p
            .system
            .split("\n\nSources:")
            .next()
            .unwrap()
            .chars()
            .count()
            + "\n\nSources: none. Say that the data has nothing on this.".len()
            + QUESTION.len();
        if budget < minimum {
            continue;
        }
        assert!(p.chars() <= budget, "{budget}: {}", p.chars());
        let (author, last) = p.messages.last().unwrap();
        assert_eq!((*author, last.as_str()), (MessageAuthor::User, QUESTION));
        // Sources give way from the last: those kept are always 1..=k.
        let blocks = block_numbers(&p.system);
        assert_eq!(
            blocks,
            (1..=blocks.len() as u32).collect::<Vec<_>>(),
            "{budget}"
        );
        assert!(blocks.len() <= previous_blocks, "{budget}");
        previous_blocks = blocks.len();
        // History starts with the user and alternates.
        let history = &p.messages[..p.messages.len() - 1];
        assert!(
            history
                .first()
                .is_none_or(|(a, _)| *a == MessageAuthor::User)
        );
        assert!(history.windows(2).all(|w| w[0].0 != w[1].0));
        assert!(
            history
                .last()
                .is_none_or(|(a, _)| *a == MessageAuthor::Assistant)
        );
    }
    assert!(previous_blocks < 6, "small budgets must drop sources");
}

#[test]
fn history_drops_the_oldest_first() {
    let full = build(1_000_000);
    assert_eq!(full.messages.len(), 5, "{:?}", full.messages);
    assert_eq!(full.messages[0].1, "first question about JVC");

    let f = Filters::default();
    let q = Question {
        text: QUESTION,
        filters: &f,
        listing_total: 0,
        company: "Acme",
    };
    let fixed = prompt("Acme", Role::Agent, &q, &[], &[], 1_000_000)
        .system
        .chars()
        .count();
    // Room for the last exchange (and separators) and a little more, not for the long answer.
    let budget = fixed + QUESTION.len() + 30 + 19 + 50;
    let p = prompt("Acme", Role::Agent, &q, &history(), &[], budget);
    let texts: Vec<&str> = p.messages.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(
        texts,
        [
            "second question about Marina",
            "second answer [1]",
            QUESTION
        ]
    );
    assert!(p.chars() <= budget);
    // A long question of the history is cut, not dropped.
    let history = vec![
        (MessageAuthor::User, "tell me about Marina ".repeat(20)),
        (MessageAuthor::Assistant, "short answer".to_string()),
    ];
    let budget = fixed + QUESTION.len() + 14 + 150;
    let p = prompt("Acme", Role::Agent, &q, &history, &[], budget);
    assert_eq!(p.messages.len(), 3, "{:?}", p.messages);
    assert!(
        p.messages[0].1.ends_with("… (truncated)"),
        "{:?}",
        p.messages
    );
    assert_eq!(p.messages[1].1, "short answer");
    assert!(p.chars() <= budget);
}

#[test]
fn the_question_survives_any_budget() {
    for budget in [0, 1, 50, 500] {
        let p = build(budget);
        assert_eq!(p.messages.last().unwrap().1, QUESTION);
        assert_eq!(block_numbers(&p.system), Vec::<u32>::new(), "{budget}");
    }
    let long = "why ".repeat(400);
    let f = Filters::default();
    let q = Question {
        text: &long,
        filters: &f,
        listing_total: 0,
        company: "Acme",
    };
    let p = prompt("Acme", Role::Admin, &q, &[], &[], 0);
    let asked = &p.messages.last().unwrap().1;
    assert!(asked.starts_with("why why"), "{asked}");
    assert!(asked.ends_with("(truncated)") && asked.chars().count() <= 200);
}
