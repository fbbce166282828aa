//! Retrieval for chat, shared by the server and the device so an offline answer is chosen the
//! way an online one is: what a question is about ([`plan`]), and the ranking of knowledge
//! items and clients ([`Docs`]); listings rank through [`crate::Index`].

use std::collections::HashSet;

use roost_api::chat::SourceKind;
use roost_api::search::ParsedQuery;
use roost_api::users::Role;
use uuid::Uuid;

use crate::index::fuse;
use crate::keywords::{Keywords, query_terms};
use crate::quantised::Quantised;

/// Listings a chat answer lists at most.
pub const LISTING_SOURCES: usize = 8;
/// Knowledge items or clients per kind at most.
pub const DOC_SOURCES: usize = 4;
/// A document whose vector is this close to the question counts as relevant without a
/// shared word (all-MiniLM-L6-v2: unrelated texts score ~0–0.2, paraphrases ≥ 0.5).
const MIN_COSINE: f32 = 0.35;

/// What a question asks about, in the order the answer should show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub listings: bool,
    /// Kinds of knowledge and clients to look in, most wanted first.
    pub kinds: Vec<SourceKind>,
}

const LISTING_WORDS: &[&str] = &[
    "listing",
    "listings",
    "property",
    "properties",
    "unit",
    "units",
    "available",
    "inventory",
    "stock",
    "show",
    "find",
    "any",
];
const MARKET_WORDS: &[&str] = &[
    "sold",
    "sell",
    "sale",
    "sales",
    "sqft",
    "psf",
    "yield",
    "yields",
    "rent",
    "rents",
    "rental",
    "trend",
    "trends",
    "market",
    "quarter",
    "q1",
    "q2",
    "q3",
    "q4",
    "average",
    "avg",
    "transaction",
    "transactions",
    "appreciation",
    "growth",
    "median",
];
const DOC_WORDS: &[&str] = &[
    "policy",
    "policies",
    "commission",
    "split",
    "splits",
    "procedure",
    "process",
    "rule",
    "rules",
    "contract",
    "form",
    "guide",
    "checklist",
    "script",
    "law",
    "regulation",
    "rera",
    "fee",
    "fees",
    "deposit",
    "noc",
    "how",
    "allowed",
    "must",
    "should",
    "training",
];
const PEOPLE_WORDS: &[&str] = &[
    "who",
    "team",
    "colleague",
    "colleagues",
    "speaks",
    "speak",
    "language",
    "languages",
    "specialist",
    "specialises",
    "specializes",
    "covers",
    "expert",
    "agent",
    "agents",
];
const CLIENT_WORDS: &[&str] = &[
    "client",
    "clients",
    "buyer",
    "buyers",
    "lead",
    "leads",
    "customer",
    "customers",
    "investor",
    "investors",
];

fn mentions(question: &HashSet<String>, list: &[&str]) -> bool {
    list.iter().any(|w| question.contains(*w))
}

/// Reads what a question is about from its words and the filters the parser found.
pub fn plan(question: &str, parsed: &ParsedQuery) -> Plan {
    let said: HashSet<String> = question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let market = mentions(&said, MARKET_WORDS);
    let people = said.contains("who") || mentions(&said, PEOPLE_WORDS) && !market;
    let clients = mentions(&said, CLIENT_WORDS);
    let docs = mentions(&said, DOC_WORDS);
    let listing_words = mentions(&said, LISTING_WORDS);
    let filters = !parsed.filters.is_empty();
    // "2-beds in JVC sold for" has filters but asks about the market; "who covers Palm
    // Jumeirah" names a community but asks about people.
    let listings = listing_words || filters && !(market || people || clients || docs);

    let mut kinds = Vec::new();
    if clients {
        kinds.push(SourceKind::Client);
    }
    if people {
        kinds.push(SourceKind::Employee);
    }
    if market {
        kinds.push(SourceKind::MarketIntelligence);
    }
    if docs {
        kinds.extend([SourceKind::Document, SourceKind::AgentResource]);
    }
    // Nothing specific: let relevance decide among the company's knowledge.
    if kinds.is_empty() && !listings {
        kinds.extend([
            SourceKind::Document,
            SourceKind::AgentResource,
            SourceKind::MarketIntelligence,
            SourceKind::Employee,
        ]);
    }
    // Documents answer many "what about" questions next to listings or people.
    if !kinds.contains(&SourceKind::Document) && !listings {
        kinds.push(SourceKind::Document);
    }
    Plan { listings, kinds }
}

/// Who may see a document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocMeta {
    pub id: Uuid,
    pub kind: SourceKind,
    /// Roles that may see it; empty: everyone in the company.
    pub audience: Vec<Role>,
    /// For clients: the assigned agent. Agents see only their own clients.
    pub owner: Option<Uuid>,
    /// From the operator's shared knowledge base.
    pub shared: bool,
}

/// The asker, for what they may see.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    pub user: Uuid,
    /// The roles acted in (the role switcher's choice).
    pub acting: &'a [Role],
}

impl DocMeta {
    pub fn visible_to(&self, asker: Asker<'_>) -> bool {
        let audience =
            self.audience.is_empty() || self.audience.iter().any(|r| asker.acting.contains(r));
        let owner = match self.kind {
            SourceKind::Client => {
                asker
                    .acting
                    .iter()
                    .any(|r| matches!(r, Role::Admin | Role::Manager))
                    || self.owner == Some(asker.user)
            }
            _ => true,
        };
        audience && owner
    }
}

/// Knowledge items and clients in memory, by row: words (BM25) and vectors.
#[derive(Debug, Clone, Default)]
pub struct Docs {
    keywords: Keywords,
    vectors: Quantised,
    meta: Vec<Option<DocMeta>>,
}

impl Docs {
    pub fn new(dim: usize) -> Docs {
        Docs {
            keywords: Keywords::default(),
            vectors: Quantised::new(dim),
            meta: Vec::new(),
        }
    }

    /// Adds or replaces a document: its title, body and any other searchable text.
    pub fn set(&mut self, row: u32, meta: DocMeta, text: [&str; 3], vector: Option<&[f32]>) {
        self.keywords.set(row, [text[0], text[1], text[2], "", ""]);
        match vector {
            Some(v) if self.vectors.dim() > 0 && v.len() == self.vectors.dim() => {
                self.vectors.set(row, v)
            }
            _ => self.vectors.clear(row),
        }
        let r = row as usize;
        if self.meta.len() <= r {
            self.meta.resize(r + 1, None);
        }
        self.meta[r] = Some(meta);
    }

    pub fn remove(&mut self, row: u32) {
        self.keywords.remove(row);
        self.vectors.clear(row);
        if let Some(m) = self.meta.get_mut(row as usize) {
            *m = None;
        }
    }

    pub fn meta(&self, row: u32) -> Option<&DocMeta> {
        self.meta.get(row as usize).and_then(Option::as_ref)
    }

    pub fn dim(&self) -> usize {
        self.vectors.dim()
    }

    /// The best documents of `kind` for the question that `asker` may see: those sharing a
    /// word with it or whose vector is close, fused by reciprocal rank, at most `k`.
    pub fn rank(
        &self,
        question: &str,
        query_vector: Option<&[f32]>,
        kind: SourceKind,
        asker: Asker<'_>,
        k: usize,
    ) -> Vec<u32> {
        let allowed: Vec<u32> = self
            .meta
            .iter()
            .enumerate()
            .filter_map(|(row, m)| {
                let m = m.as_ref()?;
                (m.kind == kind && m.visible_to(asker)).then_some(row as u32)
            })
            .collect();
        if allowed.is_empty() || k == 0 {
            return vec![];
        }
        let terms = doc_terms(question);
        let keyword = self.keywords.top(&terms, Some(&allowed), k * 3);
        let semantic: Vec<u32> = match query_vector {
            Some(q) if q.len() == self.vectors.dim() && self.vectors.count() > 0 => self
                .vectors
                .top_k(q, Some(&allowed), k * 3)
                .into_iter()
                .filter(|&(_, cosine)| cosine >= MIN_COSINE)
                .map(|(row, _)| row)
                .collect(),
            _ => vec![],
        };
        fuse(&keyword, &semantic)
            .into_iter()
            .take(k)
            .map(|(row, _)| row)
            .collect()
    }
}

/// A client's searchable text: everything the import kept about them (budget, interests,
/// stage, notes …).
pub fn client_text(c: &roost_api::knowledge::Client) -> String {
    match &c.data {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k} {s}"),
                other => format!("{k} {other}"),
            })
            .collect::<Vec<_>>()
            .join("; "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Words that say nothing about which document answers (question words, the asker).
const QUESTION_STOPWORDS: &[&str] = &[
    "what", "which", "who", "whom", "how", "when", "where", "why", "our", "we", "us", "you",
    "your", "do", "does", "did", "can", "could", "there", "their", "this", "that", "these",
    "those", "about", "last", "it", "be", "was", "were", "have", "has", "team", "tell",
];

/// The question's words for document ranking: all of them (the community and bedroom words
/// the parser reads as listing filters also say which market figures are meant), minus
/// stopwords.
fn doc_terms(question: &str) -> Vec<String> {
    let mut terms = query_terms(question);
    terms.retain(|t| !QUESTION_STOPWORDS.contains(&t.as_str()));
    terms
}

#[cfg(test)]
mod tests {
    use super::*;
    use roost_api::search::{Bounds, Filters};

    fn parsed(filters: Filters) -> ParsedQuery {
        ParsedQuery {
            filters,
            residual: String::new(),
        }
    }

    #[test]
    fn plans_follow_what_is_asked() {
        let marina = Filters {
            communities: vec!["Dubai Marina".into()],
            bedrooms: Bounds {
                min: Some(3),
                max: Some(3),
            },
            ..Filters::default()
        };
        let p = plan(
            "which of our 3-bed listings in Marina are under 2.5M and allow pets?",
            &parsed(marina.clone()),
        );
        assert!(p.listings);
        let p = plan(
            "what did 2-beds in JVC sell for per sqft last quarter?",
            &parsed(marina.clone()),
        );
        assert!(!p.listings);
        assert_eq!(p.kinds[0], SourceKind::MarketIntelligence);
        let p = plan(
            "who on the team speaks Russian and covers Palm Jumeirah?",
            &parsed(marina.clone()),
        );
        assert!(!p.listings);
        assert_eq!(p.kinds[0], SourceKind::Employee);
        let p = plan(
            "what's our policy on off-plan commission splits?",
            &parsed(Filters::default()),
        );
        assert!(!p.listings);
        assert_eq!(p.kinds[0], SourceKind::Document);
        let p = plan("which of my clients want a villa?", &parsed(marina));
        assert_eq!(p.kinds[0], SourceKind::Client);
        assert!(!p.listings);
        let p = plan(
            "villas in Arabian Ranches",
            &parsed(Filters {
                communities: vec!["Arabian Ranches".into()],
                ..Filters::default()
            }),
        );
        assert!(p.listings);
    }

    fn meta(kind: SourceKind, audience: Vec<Role>, owner: Option<Uuid>) -> DocMeta {
        DocMeta {
            id: Uuid::new_v4(),
            kind,
            audience,
            owner,
            shared: false,
        }
    }

    #[test]
    fn ranking_respects_kind_audience_and_ownership() {
        let me = Uuid::new_v4();
        let other = Uuid::new_v4();
        let mut docs = Docs::new(0);
        docs.set(
            0,
            meta(SourceKind::Document, vec![], None),
            [
                "Commission policy",
                "Off-plan commission splits are 50/50",
                "",
            ],
            None,
        );
        docs.set(
            1,
            meta(SourceKind::Document, vec![Role::Manager], None),
            ["Manager report", "Commission figures per agent", ""],
            None,
        );
        docs.set(
            2,
            meta(SourceKind::Client, vec![], Some(me)),
            ["Alice", "wants a villa", ""],
            None,
        );
        docs.set(
            3,
            meta(SourceKind::Client, vec![], Some(other)),
            ["Bob", "wants a villa", ""],
            None,
        );
        let agent = Asker {
            user: me,
            acting: &[Role::Agent],
        };
        let manager = Asker {
            user: me,
            acting: &[Role::Manager],
        };
        let q = "commission policy";
        assert_eq!(docs.rank(q, None, SourceKind::Document, agent, 4), vec![0]);
        let mut seen = docs.rank(q, None, SourceKind::Document, manager, 4);
        seen.sort();
        assert_eq!(seen, vec![0, 1]);
        assert_eq!(
            docs.rank(
                "clients wanting a villa",
                None,
                SourceKind::Client,
                agent,
                4
            ),
            vec![2]
        );
        assert_eq!(
            docs.rank(
                "clients wanting a villa",
                None,
                SourceKind::Client,
                manager,
                4
            )
            .len(),
            2
        );
        docs.remove(0);
        assert!(
            docs.rank(q, None, SourceKind::Document, agent, 4)
                .is_empty()
        );
    }

    #[test]
    fn close_vectors_count_without_shared_words() {
        let mut docs = Docs::new(2);
        let asker = Asker {
            user: Uuid::nil(),
            acting: &[Role::Agent],
        };
        docs.set(
            0,
            meta(SourceKind::Document, vec![], None),
            ["A", "alpha", ""],
            Some(&[1.0, 0.0]),
        );
        docs.set(
            1,
            meta(SourceKind::Document, vec![], None),
            ["B", "beta", ""],
            Some(&[0.0, 1.0]),
        );
        let near = docs.rank(
            "zzz",
            Some(&[0.995, 0.0998]),
            SourceKind::Document,
            asker,
            4,
        );
        assert_eq!(
            near,
            vec![0],
            "only the close vector passes the cosine floor"
        );
    }
}
