//! Each tenant's retrieval data in memory — listings in a `roost_search::Index`, knowledge
//! items and clients in `Docs` — kept current from the tenant's change feed, the same feed
//! devices sync from. A question costs one query for the feed head when nothing changed.
//!
//! The index holds everything of the tenant; what a caller may see is decided per question
//! (audience, client ownership), never by which cache a question hits.

use std::collections::HashMap;
use std::sync::Arc;

use roost_api::knowledge::{Client, KnowledgeItem};
use roost_api::listings::Listing;
use roost_api::users::Role;
use roost_db::{Db, StoredChange, TenantId};
use roost_search::retrieve::{DocMeta, Docs, client_text};
use roost_search::{Index, ParseContext, RowFields, RowText};
use tokio::sync::Mutex;
use uuid::Uuid;

/// Changes read per feed page while catching up.
const PAGE: u32 = 2_000;

/// What a knowledge/client row holds.
#[derive(Debug, Clone)]
pub enum DocRecord {
    Knowledge(KnowledgeItem),
    Client(Client),
}

/// One tenant's data for retrieval, as of `cursor` in its feed.
#[derive(Debug, Default)]
pub struct TenantData {
    pub cursor: i64,
    pub model: Option<String>,
    pub listings: Index,
    pub listing_rows: HashMap<Uuid, u32>,
    pub listing_by_row: Vec<Option<Listing>>,
    pub docs: Docs,
    doc_rows: HashMap<Uuid, u32>,
    pub doc_by_row: Vec<Option<DocRecord>>,
    pub parse_context: ParseContext,
    currency: Option<String>,
    shared: bool,
}

fn decode_f32(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn row_of(map: &mut HashMap<Uuid, u32>, id: Uuid) -> u32 {
    let next = map.len() as u32;
    *map.entry(id).or_insert(next)
}

fn put<T>(v: &mut Vec<Option<T>>, row: u32, value: Option<T>) {
    let r = row as usize;
    if v.len() <= r {
        v.resize_with(r + 1, || None);
    }
    v[r] = value;
}

impl TenantData {
    fn new(dim: usize, model: Option<String>, shared: bool) -> TenantData {
        TenantData {
            listings: Index::new(dim),
            docs: Docs::new(dim),
            model,
            shared,
            ..TenantData::default()
        }
    }

    fn apply(&mut self, change: StoredChange) {
        match change {
            StoredChange::Listing {
                listing, embedding, ..
            } => {
                let row = row_of(&mut self.listing_rows, listing.id);
                let vector = embedding.as_deref().map(decode_f32);
                let text = RowText {
                    title: listing.title.as_deref(),
                    description: listing.description.as_deref(),
                };
                self.listings
                    .set(row, &RowFields::of(&listing), text, vector.as_deref());
                put(&mut self.listing_by_row, row, Some(listing));
            }
            StoredChange::ListingDeleted { id, .. } => {
                if let Some(&row) = self.listing_rows.get(&id) {
                    self.listings.remove(row);
                    put(&mut self.listing_by_row, row, None);
                }
            }
            StoredChange::Config { config, .. } => {
                self.currency = config.config.company_info.currency.clone();
            }
            StoredChange::Knowledge {
                item, embedding, ..
            } => {
                let row = row_of(&mut self.doc_rows, item.id);
                let vector = embedding.as_deref().map(decode_f32);
                let meta = DocMeta {
                    id: item.id,
                    kind: item.kind.into(),
                    audience: item.audience.clone(),
                    owner: None,
                    shared: self.shared,
                };
                let source = item.source.clone().unwrap_or_default();
                self.docs.set(
                    row,
                    meta,
                    [&item.title, &item.body, &source],
                    vector.as_deref(),
                );
                put(&mut self.doc_by_row, row, Some(DocRecord::Knowledge(item)));
            }
            StoredChange::Client { client, .. } => {
                let row = row_of(&mut self.doc_rows, client.id);
                let meta = DocMeta {
                    id: client.id,
                    kind: roost_api::chat::SourceKind::Client,
                    audience: vec![],
                    owner: client.agent_user_id,
                    shared: false,
                };
                let data = client_text(&client);
                self.docs.set(row, meta, [&client.name, &data, ""], None);
                put(&mut self.doc_by_row, row, Some(DocRecord::Client(client)));
            }
            // Actions are not retrieval material.
            StoredChange::Action { .. } => {}
            StoredChange::KnowledgeDeleted { id, .. } | StoredChange::ClientDeleted { id, .. } => {
                if let Some(&row) = self.doc_rows.get(&id) {
                    self.docs.remove(row);
                    put(&mut self.doc_by_row, row, None);
                }
            }
        }
    }

    /// The names the query parser matches, most frequent first (as on the device).
    fn refresh_parse_context(&mut self) {
        let mut counts: [HashMap<String, (String, usize)>; 3] = Default::default();
        let mut currencies: HashMap<&str, usize> = HashMap::new();
        for l in self.listing_by_row.iter().flatten() {
            for (i, v) in [&l.community, &l.property_type, &l.status]
                .into_iter()
                .enumerate()
            {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    let e = counts[i]
                        .entry(v.to_ascii_lowercase())
                        .or_insert_with(|| (v.to_string(), 0));
                    e.1 += 1;
                    if v < e.0.as_str() {
                        e.0 = v.to_string();
                    }
                }
            }
            if let Some(p) = &l.price {
                *currencies.entry(p.currency.as_str()).or_default() += 1;
            }
        }
        let ranked = |m: &HashMap<String, (String, usize)>| {
            let mut v: Vec<&(String, usize)> = m.values().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.into_iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
        };
        let currency = self.currency.clone().unwrap_or_else(|| {
            currencies
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map(|(c, _)| c.to_string())
                .unwrap_or_else(|| "AED".into())
        });
        self.parse_context = ParseContext {
            communities: ranked(&counts[0]),
            property_types: ranked(&counts[1]),
            statuses: ranked(&counts[2]),
            currency,
        };
    }

    pub fn listing(&self, row: u32) -> Option<&Listing> {
        self.listing_by_row.get(row as usize)?.as_ref()
    }

    pub fn doc(&self, row: u32) -> Option<&DocRecord> {
        self.doc_by_row.get(row as usize)?.as_ref()
    }
}

/// The retrieval data of every tenant that asked something since the server started.
#[derive(Default)]
pub struct ChatIndexes {
    tenants: std::sync::Mutex<HashMap<TenantId, Arc<Mutex<Arc<TenantData>>>>>,
}

impl ChatIndexes {
    /// The tenant's data, brought up to its feed head. Readers share a snapshot; catching up
    /// builds the next one while questions keep using the last.
    pub async fn current(
        &self,
        db: &Db,
        tenant: TenantId,
        model: Option<(&str, usize)>,
    ) -> Result<Arc<TenantData>, roost_db::DbError> {
        let slot = {
            let mut tenants = self.tenants.lock().expect("chat index lock");
            tenants.entry(tenant).or_default().clone()
        };
        // One catch-up per tenant at a time; others wait for it rather than repeat it.
        let mut guard = slot.lock().await;
        let head = db.change_head(tenant).await?;
        let model_id = model.map(|m| m.0.to_string());
        if guard.cursor == head && guard.model == model_id && (head > 0 || guard.cursor > 0) {
            return Ok(guard.clone());
        }
        let rebuild = guard.model != model_id || guard.cursor > head || guard.cursor == 0;
        let mut next = if rebuild {
            TenantData::new(
                model.map_or(0, |m| m.1),
                model_id.clone(),
                tenant == roost_db::SHARED_TENANT,
            )
        } else {
            // Cloning ~10k listings costs a few ms and keeps readers lock-free.
            clone_data(&guard)
        };
        // A catch-up that starts from 0 may page on past the purge horizon; an old cursor
        // may not (its tombstones could be gone).
        let mut from_zero = next.cursor == 0;
        loop {
            let batch = db
                .changes(
                    tenant,
                    Uuid::nil(),
                    &Role::ALL,
                    next.cursor,
                    PAGE,
                    model_id.as_deref(),
                    from_zero,
                )
                .await?;
            let batch = match batch {
                Ok(b) => b,
                Err(_) => {
                    // History before our cursor was purged: start over from the beginning.
                    next = TenantData::new(
                        model.map_or(0, |m| m.1),
                        model_id.clone(),
                        tenant == roost_db::SHARED_TENANT,
                    );
                    from_zero = true;
                    continue;
                }
            };
            for change in batch.changes {
                next.cursor = next.cursor.max(change.seq());
                next.apply(change);
            }
            if !batch.has_more {
                break;
            }
        }
        next.cursor = next.cursor.max(head);
        next.listings.finish();
        next.refresh_parse_context();
        let next = Arc::new(next);
        *guard = next.clone();
        Ok(next)
    }
}

fn clone_data(d: &TenantData) -> TenantData {
    TenantData {
        cursor: d.cursor,
        model: d.model.clone(),
        listings: d.listings.clone(),
        listing_rows: d.listing_rows.clone(),
        listing_by_row: d.listing_by_row.clone(),
        docs: d.docs.clone(),
        doc_rows: d.doc_rows.clone(),
        doc_by_row: d.doc_by_row.clone(),
        parse_context: d.parse_context.clone(),
        currency: d.currency.clone(),
        shared: d.shared,
    }
}
