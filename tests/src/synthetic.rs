//! Vectors without the model's cost: random unit vectors stored as if the embedding worker had
//! made them. Embedding 10k listings for real takes minutes here; sync tests and benches need
//! only vectors of the right model and shape.

use sqlx::{Connection, Row};

/// Stores a random unit vector of `dim` floats (seeded, so reruns store the same) for every
/// live listing of `tenant` that has none of `model` for its current content. Returns how
/// many it stored. Store them before a device syncs: the feed does not announce them as
/// changes (the real worker bumps the listing's sequence number). Start the server with the model afterwards (e.g.
/// [`TestServer::restart`](crate::TestServer::restart)) so the feed announces it; its worker
/// then finds nothing left to embed.
pub async fn store_unit_vectors(
    database_url: &str,
    tenant: &str,
    model: &str,
    dim: usize,
    seed: u64,
) -> usize {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url)
        .await
        .expect("connect to the server's database");
    let rows = sqlx::query(
        "SELECT l.id, l.content_hash FROM listings l
         WHERE l.tenant_id = $1 AND l.deleted_at IS NULL AND NOT EXISTS (
             SELECT 1 FROM listing_embeddings e WHERE e.tenant_id = l.tenant_id
                 AND e.listing_id = l.id AND e.model = $2 AND e.content_hash = l.content_hash)",
    )
    .bind(tenant)
    .bind(model)
    .fetch_all(&mut conn)
    .await
    .expect("listings without vectors");
    let mut rng = SplitMix(seed);
    let mut tx = conn.begin().await.expect("begin");
    for row in &rows {
        let mut v: Vec<f32> = (0..dim).map(|_| rng.unit_interval() * 2.0 - 1.0).collect();
        let norm = v
            .iter()
            .map(|x| x * x)
            .sum::<f32>()
            .sqrt()
            .max(f32::MIN_POSITIVE);
        v.iter_mut().for_each(|x| *x /= norm);
        // One vector per listing: a stale one (older content or model) is replaced.
        sqlx::query("DELETE FROM listing_embeddings WHERE tenant_id = $1 AND listing_id = $2")
            .bind(tenant)
            .bind(row.get::<String, _>("id"))
            .execute(&mut *tx)
            .await
            .expect("drop a stale vector");
        sqlx::query(
            "INSERT INTO listing_embeddings (tenant_id, listing_id, model, dim, vector, content_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(tenant)
        .bind(row.get::<String, _>("id"))
        .bind(model)
        .bind(dim as i64)
        .bind(roost_embed::encode_f32_le(&v))
        .bind(row.get::<String, _>("content_hash"))
        .execute(&mut *tx)
        .await
        .expect("store a vector");
    }
    tx.commit().await.expect("commit");
    rows.len()
}

/// A small seeded generator (SplitMix64): the library has no `rand` outside dev builds.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit_interval(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}
