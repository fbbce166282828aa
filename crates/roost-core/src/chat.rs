//! Chat on the device. Offline, [`Cache::answer_offline`] answers from the cache with the
//! retrieval plan and the grounded answerer the server uses (roost-search, roost-answer), so an
//! agent at a viewing with no signal still gets a cited answer. Online asking lives in
//! `secrets::session` (it needs the session's tokens).

use roost_answer::{Answer, Question, Record, Source};
use roost_api::knowledge::{Client, KnowledgeItem};
use roost_search::retrieve::{
    Asker, DOC_SOURCES, DocMeta, Docs, LISTING_SOURCES, client_text, plan,
};

use crate::cache::Cache;
use crate::error::{CoreResult, SqlContext};
use crate::search::{QueryEmbedder, SearchRequest};

/// A grounded answer made on the device, with the sources it was given.
#[derive(Debug, Clone)]
pub struct OfflineAnswer {
    pub sources: Vec<Source>,
    pub answer: Answer,
}

enum Doc {
    Knowledge(KnowledgeItem),
    Client(Client),
}

impl Cache {
    /// Answers `question` from the cache alone, seen as `asker` may see it. `embedder` adds
    /// semantic ranking when its model is the cache's.
    pub fn answer_offline(
        &mut self,
        question: &str,
        asker: Asker<'_>,
        company: &str,
        embedder: Option<&dyn QueryEmbedder>,
    ) -> CoreResult<OfflineAnswer> {
        let parsed = self.parse(question)?;
        let plan = plan(question, &parsed);
        let mut records: Vec<Record> = Vec::new();
        let mut listing_total = 0;
        if plan.listings {
            let req = SearchRequest {
                text: question.to_string(),
                filters: Default::default(),
                limit: LISTING_SOURCES,
            };
            let found = self.search(&req, embedder)?;
            listing_total = found.total;
            for hit in &found.hits {
                if let Some(l) = self.listing(hit.id)? {
                    records.push(Record::Listing(l));
                }
            }
        } else if !parsed.filters.is_empty() {
            // Not asked for listings, but the answerer must not read 0 as "none match".
            let count = SearchRequest {
                text: String::new(),
                filters: parsed.filters.clone(),
                limit: 1,
            };
            listing_total = self.search(&count, None)?.total;
        }

        let model = self.sync_state()?.model;
        let query_vector = match (embedder, &model) {
            (Some(e), Some(m)) if e.model_id() == m.id => e.embed_query(question).ok(),
            _ => None,
        };
        let (docs, by_row) = self.docs(model.as_ref().map_or(0, |m| m.dim as usize))?;
        for kind in plan.kinds {
            for row in docs.rank(question, query_vector.as_deref(), kind, asker, DOC_SOURCES) {
                match &by_row[row as usize] {
                    Doc::Knowledge(item) => records.push(Record::Knowledge {
                        item: item.clone(),
                        shared: false,
                    }),
                    Doc::Client(c) => records.push(Record::Client(c.clone())),
                }
            }
        }
        let sources: Vec<Source> = records
            .into_iter()
            .enumerate()
            .map(|(i, record)| Source {
                n: i as u32 + 1,
                record,
            })
            .collect();
        let answer = roost_answer::grounded_answer(
            &Question {
                text: question,
                filters: &parsed.filters,
                listing_total,
                company,
            },
            &sources,
        );
        Ok(OfflineAnswer { sources, answer })
    }

    /// The synced knowledge items (with their vectors) and clients, ranked in memory. A few
    /// hundred rows: built per question rather than kept up to date.
    fn docs(&self, dim: usize) -> CoreResult<(Docs, Vec<Doc>)> {
        let mut docs = Docs::new(dim);
        let mut by_row = Vec::new();
        let mut stmt = self
            .conn
            .prepare("SELECT kind, json, vector FROM records ORDER BY kind, id")
            .at(&self.path)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                ))
            })
            .at(&self.path)?;
        for row in rows {
            let (kind, json, vector) = row.at(&self.path)?;
            let n = by_row.len() as u32;
            match kind.as_str() {
                "knowledge" => {
                    let Ok(item) = serde_json::from_str::<KnowledgeItem>(&json) else {
                        continue;
                    };
                    let vector: Option<Vec<f32>> =
                        vector.filter(|b| dim > 0 && b.len() == dim * 4).map(|b| {
                            b.chunks_exact(4)
                                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                                .collect()
                        });
                    let meta = DocMeta {
                        id: item.id,
                        kind: item.kind.into(),
                        audience: item.audience.clone(),
                        owner: None,
                        shared: false,
                    };
                    let source = item.source.clone().unwrap_or_default();
                    docs.set(
                        n,
                        meta,
                        [&item.title, &item.body, &source],
                        vector.as_deref(),
                    );
                    by_row.push(Doc::Knowledge(item));
                }
                "client" => {
                    let Ok(c) = serde_json::from_str::<Client>(&json) else {
                        continue;
                    };
                    let meta = DocMeta {
                        id: c.id,
                        kind: roost_api::chat::SourceKind::Client,
                        audience: vec![],
                        owner: c.agent_user_id,
                        shared: false,
                    };
                    let text = client_text(&c);
                    docs.set(n, meta, [&c.name, &text, ""], None);
                    by_row.push(Doc::Client(c));
                }
                _ => {}
            }
        }
        Ok((docs, by_row))
    }

    /// One synced knowledge item by id (a cited document or profile).
    pub fn knowledge_item(&self, id: uuid::Uuid) -> CoreResult<Option<KnowledgeItem>> {
        self.record("knowledge", id)
    }

    /// One synced client by id.
    pub fn client(&self, id: uuid::Uuid) -> CoreResult<Option<Client>> {
        self.record("client", id)
    }
}
