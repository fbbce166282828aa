//! The embedding worker: turns listings into vectors off the request path, so an import
//! answers as soon as its rows are stored and the vectors follow.

use std::sync::Arc;
use std::time::Duration;

use roost_api::listings::Listing;
use roost_db::{Db, Embedded, NewEmbedding, TenantId};
use roost_embed::Embedder;
use tokio::sync::Notify;

/// Listings embedded per model call; ~32 keeps memory flat and the CPU busy.
const BATCH: u32 = 32;

/// The text a listing is embedded from: what an agent would say about it.
pub fn listing_text(l: &Listing) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(t) = &l.title {
        parts.push(t.clone());
    }
    let mut facts = Vec::new();
    if let Some(b) = l.bedrooms {
        facts.push(if b == 0 {
            "studio".to_string()
        } else {
            format!("{b} bedroom")
        });
    }
    if let Some(t) = &l.property_type {
        facts.push(t.to_lowercase());
    }
    let place: Vec<&str> = [l.community.as_deref(), l.city.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !place.is_empty() {
        facts.push(format!("in {}", place.join(", ")));
    }
    if !facts.is_empty() {
        parts.push(facts.join(" "));
    }
    if let Some(b) = l.bathrooms {
        parts.push(format!("{b} bathrooms"));
    }
    if let Some(s) = &l.size {
        parts.push(format!("{:.0} sqft", s.sqft));
    }
    if let Some(s) = &l.status {
        parts.push(s.clone());
    }
    if l.furnished == Some(true) {
        parts.push("furnished".into());
    }
    if let Some(d) = &l.description {
        parts.push(d.clone());
    }
    for (k, v) in &l.attributes {
        parts.push(format!("{k}: {v}"));
    }
    parts.join(". ")
}

/// Wakes the worker (after an import commits).
#[derive(Clone, Default)]
pub struct EmbedSignal(pub Arc<Notify>);

impl EmbedSignal {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Runs until the task is dropped: drains every tenant's backlog, then sleeps until woken
/// (or a minute passes, to pick up anything a crash left behind).
pub async fn run_worker(db: Db, embedder: Arc<Embedder>, signal: EmbedSignal) {
    let model = embedder.model_id().to_string();
    loop {
        match drain(&db, &embedder, &model).await {
            Ok(0) => {
                tokio::select! {
                    _ = signal.0.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                }
            }
            Ok(n) => tracing::info!(embedded = n, model = %model, "embedding round done"),
            Err(e) => {
                tracing::error!(error = %e, "embedding round failed; retrying shortly");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

/// One pass over all tenants with a backlog; returns how many vectors were stored.
pub async fn drain(db: &Db, embedder: &Arc<Embedder>, model: &str) -> anyhow::Result<u64> {
    let mut total = 0;
    for tenant in db.tenants_with_embedding_backlog(model).await? {
        total += drain_tenant(db, embedder, model, tenant).await?;
    }
    Ok(total)
}

async fn drain_tenant(
    db: &Db,
    embedder: &Arc<Embedder>,
    model: &str,
    tenant: TenantId,
) -> anyhow::Result<u64> {
    let mut total = 0;
    loop {
        let listings = db.embedding_backlog(tenant, model, BATCH).await?;
        let (what, batch): (Embedded, Vec<(uuid::Uuid, String, String)>) = if !listings.is_empty() {
            let batch = listings
                .iter()
                .map(|j| {
                    (
                        j.listing.id,
                        j.content_hash.clone(),
                        listing_text(&j.listing),
                    )
                })
                .collect();
            (Embedded::Listings, batch)
        } else {
            let items = db.knowledge_backlog(tenant, model, BATCH).await?;
            if items.is_empty() {
                return Ok(total);
            }
            let batch = items
                .into_iter()
                .map(|(item, hash)| (item.id, hash, knowledge_text(&item)))
                .collect();
            (Embedded::Knowledge, batch)
        };
        total += embed_batch(db, embedder, model, tenant, what, batch).await?;
    }
}

/// Embeds one batch of (id, content hash, text) and stores the vectors.
async fn embed_batch(
    db: &Db,
    embedder: &Arc<Embedder>,
    model: &str,
    tenant: TenantId,
    what: Embedded,
    batch: Vec<(uuid::Uuid, String, String)>,
) -> anyhow::Result<u64> {
    let texts: Vec<String> = batch.iter().map(|b| b.2.clone()).collect();
    let e = embedder.clone();
    let vectors = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        e.embed_documents(&refs)
    })
    .await??;
    let items: Vec<NewEmbedding> = batch
        .into_iter()
        .zip(vectors)
        .map(|((id, content_hash, _), v)| NewEmbedding {
            id,
            content_hash,
            vector: roost_embed::encode_f32_le(&v),
        })
        .collect();
    let stored = db
        .store_embeddings(tenant, what, model, embedder.dim(), &items)
        .await?;
    if stored == 0 {
        // Every row of the batch changed meanwhile; the next query sees the new text.
        tokio::task::yield_now().await;
    }
    Ok(stored)
}

/// The text a knowledge item is embedded from.
pub fn knowledge_text(item: &roost_api::knowledge::KnowledgeItem) -> String {
    if item.body.starts_with(&item.title) {
        item.body.clone()
    } else {
        format!("{}. {}", item.title, item.body)
    }
}
