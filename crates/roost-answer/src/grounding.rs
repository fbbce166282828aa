//! The grounding check: what an answer says that its sources do not.

use std::collections::BTreeSet;

use roost_api::listings::Listing;
use roost_api::money::minor_unit_exponent;
use serde_json::Value;
use uuid::Uuid;

use crate::money_text::{Figure, amounts, figures};
use crate::source::listing_label;
use crate::{Record, Source};

/// Titles shorter than this are too generic ("Villa", "2BR Marina") to count as a mention.
const MIN_TITLE_CHARS: usize = 12;
/// All-digit references shorter than this count only after "ref" or "#": shorter ones are
/// years, sizes and counts as often as references.
const MIN_BARE_NUMERIC_ID: usize = 6;

/// Words before an amount that make it a bound ("under AED 2.5M"), not a claim about a
/// record: the question's filters are repeated that way.
const BOUND_WORDS: &[&str] = &[
    "under", "below", "over", "above", "from", "between", "max", "min", "maximum", "minimum",
    "upto", "<", ">", "≤", "≥",
];
const BOUND_PAIRS: &[&str] = &["up to", "at most", "at least", "less than", "more than"];
/// Between two amounts of one range: "between AED 1M and AED 2M", "AED 1M–2M".
const RANGE_JOINS: &[&str] = &["and", "to", "-", "–", "or"];

/// Mentions in `text` of listings that are not among `sources` (a listing of `all` whose
/// reference, or whose title of at least 12 characters, appears as whole words), and money
/// amounts that equal no price of a source listing nor any figure in a source's text or data
/// (listing descriptions and attributes, knowledge bodies and data, client data). Amounts
/// written as bounds ("under AED 2.5M", the question's filters) are not claims and pass. Each
/// mention is described once, in a stable order: listings as in `all`, then amounts as in
/// `text`.
pub fn ungrounded_mentions(text: &str, sources: &[Source], all: &[Listing]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };

    let source_ids: BTreeSet<Uuid> = sources.iter().map(Source::id).collect();
    let lower = text.to_lowercase();
    let spans = source_spans(&lower, sources);
    for l in all.iter().filter(|l| !source_ids.contains(&l.id)) {
        let reference = l.external_id.trim().to_lowercase();
        if !reference.is_empty() && mentions_reference(&lower, &reference, &spans) {
            push(format!("listing ref {}", l.external_id.trim()));
        }
        if let Some(title) = l.title.as_deref().map(str::trim)
            && title.chars().count() >= MIN_TITLE_CHARS
            && foreign_matches(&lower, &title.to_lowercase(), &spans)
                .next()
                .is_some()
        {
            push(format!("listing \"{title}\""));
        }
    }

    let codes: BTreeSet<String> = all
        .iter()
        .chain(sources.iter().filter_map(|s| match &s.record {
            Record::Listing(l) => Some(l),
            _ => None,
        }))
        .filter_map(|l| l.price.as_ref().map(|p| p.currency.clone()))
        .collect();
    let allowed = allowed_figures(sources, &codes);
    let found = amounts(text, &codes);
    let mut bound_until: Option<usize> = None;
    for a in &found {
        let bound = is_bound(text, a, bound_until);
        bound_until = bound.then_some(a.end);
        if bound {
            continue;
        }
        let grounded = allowed.iter().any(|(v, c)| a.matches(*v, c.as_deref()));
        if !grounded {
            push(format!("amount {}", &text[a.start..a.end]));
        }
    }
    out
}

/// Byte ranges of the lowercased text naming a source (listing title, label or reference,
/// item title, client name): a foreign title inside one of them ("Marina Gate" within "Marina
/// Gate Tower 2") is the source's name, not a mention.
fn source_spans(lower: &str, sources: &[Source]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    for s in sources {
        let names: Vec<String> = match &s.record {
            Record::Listing(l) => vec![
                l.title.clone().unwrap_or_default(),
                listing_label(l),
                l.external_id.clone(),
            ],
            Record::Knowledge { item, .. } => vec![item.title.clone()],
            Record::Client(c) => vec![c.name.clone()],
        };
        for name in names {
            let name = name.trim().to_lowercase();
            if name.chars().count() >= 3 {
                spans.extend(word_matches(lower, &name).map(|at| (at, at + name.len())));
            }
        }
    }
    spans
}

/// Offsets of `needle` in `hay` that are not inside a source's name.
fn foreign_matches<'a>(
    hay: &'a str,
    needle: &'a str,
    spans: &'a [(usize, usize)],
) -> impl Iterator<Item = usize> + 'a {
    word_matches(hay, needle).filter(move |&at| {
        !spans
            .iter()
            .any(|&(a, b)| a <= at && at + needle.len() <= b)
    })
}

/// A listing reference as a whole word; all-digit ones only when long or introduced as one.
fn mentions_reference(hay: &str, reference: &str, spans: &[(usize, usize)]) -> bool {
    let numeric = reference.bytes().all(|b| b.is_ascii_digit());
    foreign_matches(hay, reference, spans).any(|at| {
        if !numeric || reference.len() >= MIN_BARE_NUMERIC_ID {
            return true;
        }
        let head = hay[..at].trim_end();
        ["ref", "ref.", "ref:", "#", "id", "id:", "reference", "no."]
            .iter()
            .any(|w| {
                head.strip_suffix(w).is_some_and(|rest| {
                    !rest.chars().next_back().is_some_and(char::is_alphanumeric)
                })
            })
    })
}

/// Offsets of `needle` in `hay` where it is not part of a longer word.
fn word_matches<'a>(hay: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    let starts_word = needle.starts_with(char::is_alphanumeric);
    let ends_word = needle.ends_with(char::is_alphanumeric);
    let empty = needle.is_empty();
    hay.match_indices(needle).map(|(i, _)| i).filter(move |&i| {
        let joins = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let glued_before = starts_word && joins(hay[..i].chars().next_back());
        let glued_after = ends_word && joins(hay[i + needle.len()..].chars().next());
        !empty && !glued_before && !glued_after
    })
}

fn is_bound(text: &str, a: &Figure, previous_bound_end: Option<usize>) -> bool {
    let head = text[..a.start].trim_end().to_lowercase();
    if let Some(prev_end) = previous_bound_end
        && prev_end <= a.start
    {
        let between = text[prev_end..a.start].trim().to_lowercase();
        if RANGE_JOINS.contains(&between.as_str()) {
            return true;
        }
    }
    let last_words: Vec<&str> = head
        .rsplit(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .take(2)
        .collect();
    match last_words.as_slice() {
        [] => false,
        [last, rest @ ..] => {
            let last = last.trim_start_matches(['(', '*', '_']);
            BOUND_WORDS.contains(&last)
                || rest
                    .first()
                    .is_some_and(|w| BOUND_PAIRS.contains(&format!("{w} {last}").as_str()))
        }
    }
}

/// Every amount a source gives, with its currency when known.
fn allowed_figures(sources: &[Source], codes: &BTreeSet<String>) -> Vec<(f64, Option<String>)> {
    let mut out = Vec::new();
    let from_text = |text: &str, out: &mut Vec<(f64, Option<String>)>| {
        out.extend(
            figures(text, codes)
                .into_iter()
                .map(|f| (f.value, f.currency)),
        );
    };
    for s in sources {
        match &s.record {
            Record::Listing(l) => {
                if let Some(p) = &l.price {
                    out.push((major(p.amount_minor, &p.currency), Some(p.currency.clone())));
                }
                for text in [&l.title, &l.description].into_iter().flatten() {
                    from_text(text, &mut out);
                }
                for (k, v) in &l.attributes {
                    from_text(&format!("{k} {v}"), &mut out);
                }
            }
            Record::Knowledge { item, .. } => {
                from_text(&item.title, &mut out);
                from_text(&item.body, &mut out);
                json_figures(&item.data, codes, &mut out);
            }
            Record::Client(c) => json_figures(&c.data, codes, &mut out),
        }
    }
    out
}

fn major(minor: i64, currency: &str) -> f64 {
    minor as f64 / 10f64.powi(minor_unit_exponent(currency) as i32)
}

/// Numbers of structured data: plain numbers, numbers in strings, and money objects
/// (`{"minor_units"|"amount_minor": …, "currency": …}`) in whole units.
fn json_figures(v: &Value, codes: &BTreeSet<String>, out: &mut Vec<(f64, Option<String>)>) {
    match v {
        Value::Number(n) => out.extend(n.as_f64().map(|f| (f, None))),
        Value::String(s) => {
            out.extend(figures(s, codes).into_iter().map(|f| (f.value, f.currency)))
        }
        Value::Array(items) => items.iter().for_each(|i| json_figures(i, codes, out)),
        Value::Object(map) => {
            if let Some((minor, currency)) = money_object(v) {
                out.push((major(minor, &currency), Some(currency)));
            }
            map.values().for_each(|i| json_figures(i, codes, out));
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// `(minor units, currency)` of a money object in data.
pub(crate) fn money_object(v: &Value) -> Option<(i64, String)> {
    let currency = v.get("currency")?.as_str()?.trim().to_uppercase();
    let minor = ["minor_units", "amount_minor"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_i64));
    match minor {
        Some(m) => Some((m, currency)),
        None => {
            let whole = v.get("amount")?.as_f64()?;
            let scale = 10f64.powi(minor_unit_exponent(&currency) as i32);
            Some(((whole * scale).round() as i64, currency))
        }
    }
}
