//! The prompt for LLM providers: rules, numbered sources, history and the question, within a
//! character budget.

use roost_api::chat::MessageAuthor;
use roost_api::knowledge::KnowledgeKind;
use roost_api::listings::AreaUnit;
use roost_api::money::{format_amount, group_thousands};
use roost_api::users::Role;
use serde_json::Value;

use crate::text::{inline, truncate_words};
use crate::{Question, Record, Source, describe_filters};

/// The question is never dropped; below this it is not cut either, even if the budget is
/// exceeded (a budget that small is a configuration error, and the answer needs the question).
const MIN_QUESTION_CHARS: usize = 200;
/// A source or history message cut shorter than this says too little to keep.
const MIN_KEPT_CHARS: usize = 80;
const LISTING_BODY_CHARS: usize = 600;
const KNOWLEDGE_BODY_CHARS: usize = 1_500;
const CLIENT_BODY_CHARS: usize = 600;
/// Appended where a text was cut, so the model knows there was more.
const CUT_MARK: &str = " (truncated)";
const SOURCES_HEADER: &str = "\n\nSources:";
const NO_SOURCES: &str = "\n\nSources: none. Say that the data has nothing on this.";
/// Between two blocks or messages (also what joining two history messages adds).
const SEP: usize = 2;

/// What a provider is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The rules and the numbered sources.
    pub system: String,
    /// History (oldest first, starting with the user, authors alternating) then the
    /// question; the last is always the user's question.
    pub messages: Vec<(MessageAuthor, String)>,
}

impl Prompt {
    /// Characters of the system text and all messages: what `budget_chars` bounds.
    pub fn chars(&self) -> usize {
        chars(&self.system) + self.messages.iter().map(|(_, m)| chars(m)).sum::<usize>()
    }
}

/// The prompt for `q`, within `budget_chars` characters (system and messages together).
/// What gives way, in order: the oldest history, the last sources (the lowest ranked), long
/// bodies (cut with "(truncated)"). The rules and the question always stay; the budget can
/// only be exceeded when it cannot hold the rules and 200 characters of question.
pub fn prompt(
    company: &str,
    role: Role,
    q: &Question,
    history: &[(MessageAuthor, String)],
    sources: &[Source],
    budget_chars: usize,
) -> Prompt {
    let rules = rules(company, role, q);
    let fixed = chars(&rules) + chars(SOURCES_HEADER).max(chars(NO_SOURCES));
    let room = budget_chars.saturating_sub(fixed);
    let question = cut(q.text.trim(), room.max(MIN_QUESTION_CHARS));
    let mut left = room.saturating_sub(chars(&question));

    // Keep some room for the conversation so far, then give sources what they need.
    let history_total: usize = history.iter().map(|(_, m)| chars(m) + SEP).sum();
    let mut source_room = left - history_total.min(left / 4);
    let mut blocks: Vec<String> = Vec::new();
    for s in sources {
        let (head, body) = render(s);
        let head_cost = SEP + chars(&head) + usize::from(!body.is_empty());
        let full = head_cost + chars(&body);
        if full <= source_room {
            source_room -= full;
            blocks.push(join_block(head, &body));
            continue;
        }
        if !body.is_empty() && source_room >= head_cost + MIN_KEPT_CHARS {
            let body = cut(&body, source_room - head_cost);
            blocks.push(join_block(head, &body));
        }
        // Lower-ranked sources give way first.
        break;
    }
    left -= blocks
        .iter()
        .map(|b| chars(b) + SEP)
        .sum::<usize>()
        .min(left);

    let mut kept: Vec<(MessageAuthor, String)> = Vec::new();
    for (author, text) in history.iter().rev() {
        let need = chars(text) + SEP;
        if need <= left {
            left -= need;
            kept.push((*author, text.clone()));
        } else {
            // A cut answer without its question would be dropped by `tidy` anyway.
            if left >= MIN_KEPT_CHARS + SEP && *author == MessageAuthor::User {
                kept.push((*author, cut(text, left - SEP)));
            }
            break;
        }
    }
    kept.reverse();
    let mut messages = tidy(kept);
    messages.push((MessageAuthor::User, question));

    let mut system = rules;
    if blocks.is_empty() {
        system.push_str(NO_SOURCES);
    } else {
        system.push_str(SOURCES_HEADER);
        for b in blocks {
            system.push_str("\n\n");
            system.push_str(&b);
        }
    }
    Prompt { system, messages }
}

/// Depends on the question only, so callers can tell what the budget must at least hold.
fn rules(company: &str, role: Role, q: &Question) -> String {
    let company = match company.trim() {
        "" => "the company",
        c => c,
    };
    let role_note = match role {
        Role::Agent => "an agent (they see only their own clients)",
        Role::Manager => "a manager (they see the whole team's clients)",
        Role::Admin => "an admin (they run the company's account)",
    };
    let mut out = format!(
        "You are the assistant of {company}'s real-estate agents. You are answering {role_note}; \
         role: {role}.\n\
         - Answer in the language of the question.\n\
         - Use ONLY the numbered sources below. Cite every fact with its number in square \
         brackets, like [1] or [1][3].\n\
         - Never name a listing, price, person or client that is not in the sources, and never \
         estimate figures the sources do not give.\n\
         - If the sources do not answer the question, say so plainly.\n\
         - Keep it short: a sentence or two, then a list or a compact table for several items.\n\
         - Citation numbers in earlier messages referred to earlier sources; cite only the \
         sources below.",
        role = role.as_str(),
    );
    let desc = describe_filters(q.filters);
    if !desc.is_empty() {
        out.push_str(&format!(
            "\nFilters read from the question: {desc}. Listings in the data passing them: {}; \
             listing sources are the best of them.",
            group_thousands(q.listing_total)
        ));
    } else if q.listing_total > 0 {
        out.push_str(&format!(
            "\nListings in the data: {}.",
            group_thousands(q.listing_total)
        ));
    }
    out
}

/// One source as a header line and a body (cut to its kind's length).
fn render(s: &Source) -> (String, String) {
    let n = s.n;
    match &s.record {
        Record::Listing(l) => {
            let mut head = vec![format!("[{n}] listing"), inline(&s.title())];
            if !l.external_id.trim().is_empty() {
                head.push(format!("ref {}", inline(&l.external_id)));
            }
            if let Some(p) = &l.price {
                head.push(format_amount(p.amount_minor, &p.currency));
            }
            match l.bedrooms {
                Some(0) => head.push("studio".into()),
                Some(b) => head.push(format!("{b} bed")),
                None => {}
            }
            if let Some(b) = l.bathrooms {
                head.push(format!("{b} bath"));
            }
            if let Some(a) = &l.size {
                let unit = match a.unit {
                    AreaUnit::Sqft => "sqft",
                    AreaUnit::Sqm => "sqm",
                };
                head.push(format!("{} {unit}", a.value));
            }
            if let Some(t) = &l.property_type {
                head.push(inline(t));
            }
            let place: Vec<String> = [&l.community, &l.city]
                .into_iter()
                .flatten()
                .map(|s| inline(s))
                .filter(|s| !s.is_empty())
                .collect();
            if !place.is_empty() {
                head.push(place.join(", "));
            }
            if let Some(st) = &l.status {
                head.push(inline(st));
            }
            match l.furnished {
                Some(true) => head.push("furnished".into()),
                Some(false) => head.push("unfurnished".into()),
                None => {}
            }
            let mut body = String::new();
            if !l.attributes.is_empty() {
                let attrs: Vec<String> = l
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{}: {}", inline(k), inline(v)))
                    .collect();
                body.push_str(&attrs.join("; "));
            }
            if let Some(d) = l
                .description
                .as_deref()
                .map(inline)
                .filter(|d| !d.is_empty())
            {
                if !body.is_empty() {
                    body.push('\n');
                }
                body.push_str(&d);
            }
            (head.join(" · "), cut(&body, LISTING_BODY_CHARS))
        }
        Record::Knowledge { item, shared } => {
            let kind = match item.kind {
                KnowledgeKind::MarketIntelligence => "market figures",
                KnowledgeKind::AgentResource => "agent resource",
                KnowledgeKind::Document => "document",
                KnowledgeKind::Employee => "employee",
            };
            let mut head = format!("[{n}] {kind} · {}", inline(&item.title));
            if let Some(src) = item.source.as_deref().map(inline).filter(|s| !s.is_empty()) {
                head.push_str(&format!(" ({src})"));
            }
            if *shared {
                head.push_str(" · shared knowledge");
            }
            (head, cut(&block_text(&item.body), KNOWLEDGE_BODY_CHARS))
        }
        Record::Client(c) => {
            let mut head = vec![format!("[{n}] client"), inline(&c.name)];
            for v in [Some(&c.external_id), c.email.as_ref(), c.phone.as_ref()]
                .into_iter()
                .flatten()
            {
                let v = inline(v);
                if !v.is_empty() {
                    head.push(v);
                }
            }
            let mut fields = Vec::new();
            flatten(&c.data, "", &mut fields);
            (head.join(" · "), cut(&fields.join("; "), CLIENT_BODY_CHARS))
        }
    }
}

/// Structured data as `key: value` pairs, nested keys joined with dots.
fn flatten(v: &Value, key: &str, out: &mut Vec<String>) {
    let pair = |value: String| format!("{key}: {value}");
    match v {
        Value::Null => {}
        Value::Object(map) => {
            if let Some((minor, cur)) = crate::grounding::money_object(v) {
                out.push(pair(format_amount(minor, &cur)));
                return;
            }
            // Sorted, whatever map order serde_json was built with.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in entries {
                let k = if key.is_empty() {
                    inline(k)
                } else {
                    format!("{key}.{}", inline(k))
                };
                flatten(v, &k, out);
            }
        }
        Value::Array(items) => {
            let scalars: Vec<String> = items.iter().filter_map(scalar).collect();
            if scalars.len() == items.len() {
                if !scalars.is_empty() {
                    out.push(pair(scalars.join(", ")));
                }
            } else {
                items.iter().for_each(|i| flatten(i, key, out));
            }
        }
        other => out.extend(scalar(other).map(pair)),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(inline(s)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Body text keeping its lines (markdown structure), without citation-like brackets.
fn block_text(s: &str) -> String {
    s.trim()
        .lines()
        .map(inline)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn join_block(head: String, body: &str) -> String {
    if body.is_empty() {
        head
    } else {
        format!("{head}\n{body}")
    }
}

/// History as providers accept it: starting with the user, authors alternating (messages in
/// a row by one author joined), and not ending with an unanswered question.
fn tidy(messages: Vec<(MessageAuthor, String)>) -> Vec<(MessageAuthor, String)> {
    let mut out: Vec<(MessageAuthor, String)> = Vec::new();
    for (author, text) in messages {
        if out.is_empty() && author != MessageAuthor::User {
            continue;
        }
        match out.last_mut() {
            Some((last, prev)) if *last == author => {
                prev.push_str("\n\n");
                prev.push_str(&text);
            }
            _ => out.push((author, text)),
        }
    }
    if out.last().is_some_and(|(a, _)| *a == MessageAuthor::User) {
        out.pop();
    }
    out
}

/// `text` within `max` characters, marked when cut.
fn cut(text: &str, max: usize) -> String {
    if chars(text) <= max {
        return text.to_string();
    }
    let mut out = truncate_words(text, max.saturating_sub(chars(CUT_MARK)));
    out.push_str(CUT_MARK);
    out
}

fn chars(s: &str) -> usize {
    s.chars().count()
}
