//! The built-in grounded answerer: composes an answer from the sources alone, so the product
//! is useful with no model and no key (and offline on the device).

use std::collections::BTreeSet;

use roost_api::chat::SourceKind;
use roost_api::knowledge::{Client, KnowledgeItem};
use roost_api::listings::{AreaUnit, Listing};
use roost_api::money::{format_amount, format_amount_short, group_thousands, minor_unit_exponent};
use serde_json::Value;

use crate::grounding::money_object;
use crate::source::listing_label;
use crate::text::{excerpt, inline, overlap, word_set};
use crate::{Answer, Question, Record, Source, cited_numbers, data_of, describe_filters};

/// Table rows at most; the rest are left to Search.
const MAX_ROWS: usize = 8;
const MAX_MARKET: usize = 3;
const MAX_DOCS: usize = 3;
const MAX_PEOPLE: usize = 8;
const DOC_EXCERPT_CHARS: usize = 450;
const MARKET_EXCERPT_CHARS: usize = 350;
const PERSON_DETAIL_CHARS: usize = 220;

/// The parts of an answer, one per kind of source (documents and agent resources together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Listings,
    Market,
    Docs,
    Team,
    Clients,
}

impl Section {
    fn of(s: &Source) -> Section {
        match s.kind() {
            SourceKind::Listing => Section::Listings,
            SourceKind::MarketIntelligence => Section::Market,
            SourceKind::AgentResource | SourceKind::Document => Section::Docs,
            SourceKind::Employee => Section::Team,
            SourceKind::Client => Section::Clients,
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Section::Listings => "Listings",
            Section::Market => "Market figures",
            Section::Docs => "Documents",
            Section::Team => "Team",
            Section::Clients => "Clients",
        }
    }

    /// Question words (stemmed) that ask for this kind of source even when no source shares
    /// a word with the question ("list my clients").
    fn cues(self) -> &'static [&'static str] {
        match self {
            Section::Listings => &[
                "listing",
                "property",
                "home",
                "unit",
                "apartment",
                "flat",
                "villa",
                "townhouse",
                "penthouse",
                "studio",
                "bed",
                "bedroom",
                "br",
                "bath",
                "bathroom",
                "sale",
                "rent",
                "available",
                "inventory",
                "plot",
                "duplex",
            ],
            Section::Market => &[
                "market",
                "price",
                "sqft",
                "psf",
                "yield",
                "trend",
                "median",
                "average",
                "transaction",
                "sold",
                "sell",
                "quarter",
                "growth",
                "roi",
                "appreciation",
            ],
            Section::Docs => &[
                "policy",
                "document",
                "guide",
                "procedure",
                "process",
                "rule",
                "checklist",
                "script",
                "handbook",
                "commission",
                "contract",
                "template",
                "training",
                "step",
            ],
            Section::Team => &[
                "team",
                "agent",
                "colleague",
                "employee",
                "staff",
                "speak",
                "language",
                "broker",
                "specialist",
                "expert",
                "cover",
            ],
            Section::Clients => &[
                "client", "buyer", "tenant", "lead", "customer", "investor", "prospect", "contact",
            ],
        }
    }
}

/// Composes an answer from `sources` (ranked best first, already satisfying the question's
/// filters). Every figure, name and price comes from a source and every fact line carries
/// its `[n]`; the listing count comes from `q.listing_total`.
pub fn grounded_answer(q: &Question, sources: &[Source]) -> Answer {
    let qwords = word_set(q.text);
    let data = data_of(q.company);

    // Sections in the order of their best-ranked source.
    let mut groups: Vec<(Section, Vec<&Source>)> = Vec::new();
    for s in sources {
        let section = Section::of(s);
        match groups.iter_mut().find(|(k, _)| *k == section) {
            Some((_, members)) => members.push(s),
            None => groups.push((section, vec![s])),
        }
    }
    let only = groups.len() == 1;

    let mut parts: Vec<(Section, String)> = Vec::new();
    for (section, members) in &groups {
        let cued = section.cues().iter().any(|c| qwords.contains(*c));
        let best = members
            .iter()
            .map(|s| overlap(&qwords, &source_words(s)))
            .max()
            .unwrap_or(0);
        let relevant = match section {
            // Retrieval applied the filters: filtered listings answer the question. A word in
            // common ("off-plan") is not enough for a table in a policy answer.
            Section::Listings => only || cued || !q.filters.is_empty() || best >= 3,
            _ => only || cued || best >= 1,
        };
        if !relevant {
            continue;
        }
        let body = match section {
            Section::Listings => listings_part(q, members),
            Section::Market => bullets(pick(&qwords, members, MAX_MARKET), |s, item| {
                knowledge_line(s, item, &qwords, MARKET_EXCERPT_CHARS)
            }),
            Section::Docs => docs_part(&pick(&qwords, members, MAX_DOCS), &qwords),
            Section::Team => bullets(pick(&qwords, members, MAX_PEOPLE), |s, item| {
                knowledge_line(s, item, &qwords, PERSON_DETAIL_CHARS)
            }),
            Section::Clients => clients_part(&pick(&qwords, members, MAX_PEOPLE)),
        };
        if !body.is_empty() {
            parts.push((*section, body));
        }
    }

    let has_listings = groups.iter().any(|(k, _)| *k == Section::Listings);
    let desc = describe_filters(q.filters);
    let no_listing = (!has_listings && !desc.is_empty() && q.listing_total == 0)
        .then(|| format!("No listing in {data} matches {desc}."));

    let text = if parts.is_empty() {
        match no_listing {
            Some(sentence) => sentence,
            None if !has_listings && !desc.is_empty() => format!(
                "{} match {desc}; open Search to see them.",
                count(q.listing_total, "listing", "listings")
            ),
            None => format!("I could not find anything about that in {data}."),
        }
    } else {
        let multi = parts.len() > 1;
        let mut blocks: Vec<String> = parts
            .into_iter()
            .map(|(section, body)| {
                if multi {
                    format!("**{}**\n\n{body}", section.heading())
                } else {
                    body
                }
            })
            .collect();
        blocks.extend(no_listing);
        blocks.join("\n\n")
    };
    let cited = cited_numbers(&text, sources.len());
    Answer { text, cited }
}

/// The words a source could share with the question.
fn source_words(s: &Source) -> String {
    match &s.record {
        Record::Listing(l) => {
            let mut t: Vec<&str> = [
                &l.title,
                &l.description,
                &l.property_type,
                &l.community,
                &l.city,
                &l.status,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
            for (k, v) in &l.attributes {
                t.push(k);
                t.push(v);
            }
            t.join(" ")
        }
        Record::Knowledge { item, .. } => format!("{} {}", item.title, item.body),
        Record::Client(c) => {
            let mut t = c.name.clone();
            json_text(&c.data, &mut t);
            t
        }
    }
}

fn json_text(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push(' ');
            out.push_str(s);
        }
        Value::Array(items) => items.iter().for_each(|i| json_text(i, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(' ');
                out.push_str(k);
                json_text(v, out);
            }
        }
        _ => {}
    }
}

/// The sources of a section worth showing: those sharing a word with the question, in rank
/// order; when none does (the section was asked for by name), the best-ranked ones.
fn pick<'a>(q: &BTreeSet<String>, members: &[&'a Source], max: usize) -> Vec<&'a Source> {
    let sharing: Vec<&Source> = members
        .iter()
        .copied()
        .filter(|s| overlap(q, &source_words(s)) > 0)
        .take(max)
        .collect();
    if sharing.is_empty() {
        members.iter().copied().take(max).collect()
    } else {
        sharing
    }
}

fn bullets(members: Vec<&Source>, line: impl Fn(&Source, &KnowledgeItem) -> String) -> String {
    members
        .into_iter()
        .filter_map(|s| match &s.record {
            Record::Knowledge { item, .. } => Some(line(s, item)),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `- **Title** — the relevant sentences [n]`.
fn knowledge_line(s: &Source, item: &KnowledgeItem, q: &BTreeSet<String>, max: usize) -> String {
    let title = emphasis_safe(&s.title());
    let details = excerpt(&item.body, q, max, 2);
    match (title.is_empty(), details.is_empty()) {
        (false, false) => format!("- **{title}** — {details} [{}]", s.n),
        (false, true) => format!("- **{title}** [{}]", s.n),
        (true, _) => format!("- {details} [{}]", s.n),
    }
}

fn docs_part(members: &[&Source], q: &BTreeSet<String>) -> String {
    let mut blocks = Vec::new();
    for s in members {
        let Record::Knowledge { item, .. } = &s.record else {
            continue;
        };
        let quote = excerpt(&item.body, q, DOC_EXCERPT_CHARS, 4);
        if quote.is_empty() {
            continue;
        }
        let title = emphasis_safe(&s.title());
        let from = if title.is_empty() {
            format!("From [{}]:", s.n)
        } else {
            format!("From *{title}* [{}]:", s.n)
        };
        blocks.push(format!("{from}\n\n> {quote}"));
    }
    blocks.join("\n\n")
}

fn listings_part(q: &Question, members: &[&Source]) -> String {
    let rows: Vec<(&Source, &Listing)> = members
        .iter()
        .filter_map(|s| match &s.record {
            Record::Listing(l) => Some((*s, l)),
            _ => None,
        })
        .take(MAX_ROWS)
        .collect();
    let shown = rows.len() as u64;
    let total = q.listing_total.max(members.len() as u64);
    let desc = describe_filters(q.filters);
    let lead = if !desc.is_empty() {
        let verb = if total == 1 { "matches" } else { "match" };
        let what = count(total, "listing", "listings");
        if total > shown {
            format!("{what} {verb} {desc}; the best {shown}:")
        } else {
            format!("{what} {verb} {desc}:")
        }
    } else if total > shown {
        format!(
            "The closest {shown} of {} in {}:",
            count(total, "listing", "listings"),
            data_of(q.company)
        )
    } else {
        format!("{}:", count(shown, "listing", "listings"))
    };

    let mut out = lead;
    out.push_str("\n\n| Listing | Community | Beds | Size | Price | Status |\n");
    out.push_str("|---|---|---|---|---|---|");
    for (s, l) in &rows {
        let label = listing_label(l);
        let reference = l.external_id.trim();
        let name = if reference.is_empty() || label == reference {
            label
        } else {
            format!("{label} ({reference})")
        };
        let beds = match l.bedrooms {
            Some(0) => "Studio".to_string(),
            Some(b) => b.to_string(),
            None => "–".to_string(),
        };
        let size = l.size.as_ref().map(|a| {
            let unit = match a.unit {
                AreaUnit::Sqft => "sqft",
                AreaUnit::Sqm => "sqm",
            };
            format!("{} {unit}", number(a.value))
        });
        let price = l
            .price
            .as_ref()
            .map(|p| format_amount(p.amount_minor, &p.currency));
        out.push_str(&format!(
            "\n| {} [{}] | {} | {} | {} | {} | {} |",
            cell(Some(&name)),
            s.n,
            cell(l.community.as_ref()),
            beds,
            cell(size.as_ref()),
            cell(price.as_ref()),
            cell(l.status.as_ref()),
        ));
    }
    if total > shown {
        out.push_str(&format!(
            "\n\n…and {} more in Search.",
            group_thousands(total - shown)
        ));
    }
    out
}

fn clients_part(members: &[&Source]) -> String {
    members
        .iter()
        .filter_map(|s| match &s.record {
            Record::Client(c) => Some((s, c)),
            _ => None,
        })
        .map(|(s, c)| {
            let name = emphasis_safe(&c.name);
            let details = client_details(c);
            if details.is_empty() {
                format!("- **{name}** [{}]", s.n)
            } else {
                format!("- **{name}** — {} [{}]", details.join(" · "), s.n)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Stage, budget, interests and preferred areas, when the client's data has them.
fn client_details(c: &Client) -> Vec<String> {
    let d = &c.data;
    let mut out = Vec::new();
    if let Some(stage) = d.get("stage").and_then(Value::as_str).map(inline)
        && !stage.is_empty()
    {
        out.push(format!("stage: {stage}"));
    }
    let currency = d.get("currency").and_then(Value::as_str);
    let amount = |key: &str| d.get(key).and_then(|v| money_text(v, currency));
    match (amount("budget_min"), amount("budget_max")) {
        (Some(a), Some(b)) if a == b => out.push(format!("budget {a}")),
        (Some(a), Some(b)) => out.push(format!("budget {a}–{b}")),
        (Some(a), None) => out.push(format!("budget from {a}")),
        (None, Some(b)) => out.push(format!("budget up to {b}")),
        (None, None) => {
            if let Some(b) = amount("budget") {
                out.push(format!("budget {b}"));
            }
        }
    }
    for (key, label) in [
        ("interests", "interests"),
        ("preferred_communities", "areas"),
    ] {
        let list = d.get(key).map(list_text).unwrap_or_default();
        if !list.is_empty() {
            out.push(format!("{label}: {list}"));
        }
    }
    out
}

/// An amount in client data: a money object, a number in the data's currency, or text.
fn money_text(v: &Value, currency: Option<&str>) -> Option<String> {
    if let Some((minor, cur)) = money_object(v) {
        return Some(format_amount_short(minor, &cur));
    }
    match v {
        Value::Number(n) => {
            let whole = n.as_f64()?;
            Some(match currency {
                Some(cur) => {
                    let cur = cur.trim().to_uppercase();
                    let scale = 10f64.powi(minor_unit_exponent(&cur) as i32);
                    format_amount_short((whole * scale).round() as i64, &cur)
                }
                None => number(whole),
            })
        }
        Value::String(s) if !s.trim().is_empty() => Some(inline(s)),
        _ => None,
    }
}

fn list_text(v: &Value) -> String {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(inline)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        Value::String(s) => inline(s),
        _ => String::new(),
    }
}

/// A table cell: one line, no pipes breaking the row, "–" when absent.
fn cell(v: Option<&String>) -> String {
    match v.map(|s| inline(s)).filter(|s| !s.is_empty()) {
        Some(s) => s.replace('|', "\\|"),
        None => "–".to_string(),
    }
}

/// Names inside `*…*` or `**…**`: asterisks would end the emphasis early.
fn emphasis_safe(s: &str) -> String {
    inline(s).replace('*', "")
}

/// `1,650`, `1,650.5`.
fn number(v: f64) -> String {
    let v = v.abs();
    let whole = v.trunc() as u64;
    let tenth = ((v - v.trunc()) * 10.0).round() as u64;
    match tenth {
        0 => group_thousands(whole),
        10 => group_thousands(whole + 1),
        t => format!("{}.{t}", group_thousands(whole)),
    }
}

fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", group_thousands(n))
    }
}
