//! Listings: stored by imports, read by the API and (later) the sync feed.

use roost_api::imports::{ImportReport, ImportStatus, StoreCounts};
use roost_api::listings::{Area, AreaUnit, Listing, ListingPage, Price};
use serde_json::json;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use crate::audit::{AuditEntry, append};
use crate::native::Columns;
use crate::upsert::{existing, plan, tombstone};
use crate::{Ctx, Db, DbError, Result, TenantId, now_millis, parse_uuid};

/// A listing to store, keyed by its `external_id`, with the hash of its content so an
/// unchanged row is left alone (no new sequence number, no re-embedding).
pub struct ListingWrite {
    pub listing: Listing,
    pub content_hash: String,
}

/// An import to apply in one transaction.
pub struct ImportWrite<'a> {
    pub rows: Vec<ListingWrite>,
    /// Remove (tombstone) live listings whose external id is not in `rows`.
    pub replace: bool,
    /// Most live listings the tenant may hold afterwards; `None` is unlimited.
    pub limit: Option<u64>,
    /// Stored with the import; its `stored` counts are filled in here.
    pub report: &'a mut ImportReport,
}

/// The tier limit would be exceeded: nothing was written.
#[derive(Debug)]
pub struct OverLimit {
    pub limit: u64,
    pub would_have: u64,
}

pub(crate) const LISTING_COLS: &str = "id, external_id, title, description, price_minor, currency, bedrooms, \
    bathrooms, size_value, size_unit, size_sqft, property_type, community, city, status, latitude, \
    longitude, furnished, photos, listed_at, attributes, updated_at";

pub(crate) fn listing_from_row<R: Columns>(row: &R) -> Result<Listing> {
    let corrupt =
        |what: &str, e: serde_json::Error| DbError::Corrupt(format!("listing {what}: {e}"));
    let price = match (
        row.col::<Option<i64>>("price_minor")?,
        row.col::<Option<String>>("currency")?,
    ) {
        (Some(amount_minor), Some(currency)) => Some(Price {
            amount_minor,
            currency,
        }),
        _ => None,
    };
    let size = match (
        row.col::<Option<f64>>("size_value")?,
        row.col::<Option<String>>("size_unit")?,
    ) {
        (Some(v), Some(u)) => {
            let unit = if u == "sqm" {
                AreaUnit::Sqm
            } else {
                AreaUnit::Sqft
            };
            Some(Area::new(v, unit))
        }
        _ => None,
    };
    let photos: String = row.col("photos")?;
    let attributes: String = row.col("attributes")?;
    Ok(Listing {
        id: parse_uuid(&row.col::<String>("id")?)?,
        external_id: row.col("external_id")?,
        title: row.col("title")?,
        description: row.col("description")?,
        price,
        bedrooms: row
            .col::<Option<i64>>("bedrooms")?
            .map(|b| b.clamp(0, i64::from(u16::MAX)) as u16),
        bathrooms: row.col::<Option<f64>>("bathrooms")?.map(|b| b as f32),
        size,
        property_type: row.col("property_type")?,
        community: row.col("community")?,
        city: row.col("city")?,
        status: row.col("status")?,
        latitude: row.col("latitude")?,
        longitude: row.col("longitude")?,
        furnished: row.col::<Option<i64>>("furnished")?.map(|f| f != 0),
        photos: serde_json::from_str(&photos).map_err(|e| corrupt("photos", e))?,
        listed_at: row.col("listed_at")?,
        attributes: serde_json::from_str(&attributes).map_err(|e| corrupt("attributes", e))?,
        updated_at: row.col("updated_at")?,
    })
}

/// Reserves `n` consecutive change numbers for the tenant; returns the first.
pub(crate) async fn reserve_seq(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    n: u64,
) -> Result<i64> {
    let last: i64 = sqlx::query(
        "UPDATE tenants SET change_seq = change_seq + $2 WHERE id = $1 RETURNING change_seq",
    )
    .bind(tenant.s())
    .bind(n as i64)
    .fetch_one(&mut **tx)
    .await?
    .try_get("change_seq")?;
    Ok(last - n as i64 + 1)
}

#[allow(clippy::too_many_arguments)]
async fn write_listing(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    id: &str,
    w: &ListingWrite,
    seq: i64,
    now: i64,
    insert: bool,
    import_id: &str,
) -> Result<()> {
    let l = &w.listing;
    let sql = if insert {
        "INSERT INTO listings (tenant_id, id, external_id, title, description, price_minor, currency,
            bedrooms, bathrooms, size_value, size_unit, size_sqft, property_type, community, city,
            status, latitude, longitude, furnished, photos, listed_at, attributes, content_hash,
            seq, created_at, updated_at, deleted_at, import_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23, $24, $25, $25, NULL, $26)"
    } else {
        "UPDATE listings SET external_id = $3, title = $4, description = $5, price_minor = $6,
            currency = $7, bedrooms = $8, bathrooms = $9, size_value = $10, size_unit = $11,
            size_sqft = $12, property_type = $13, community = $14, city = $15, status = $16,
            latitude = $17, longitude = $18, furnished = $19, photos = $20, listed_at = $21,
            attributes = $22, content_hash = $23, seq = $24, updated_at = $25, deleted_at = NULL,
            import_id = $26
         WHERE tenant_id = $1 AND id = $2"
    };
    sqlx::query(sql)
        .bind(tenant.s())
        .bind(id)
        .bind(&l.external_id)
        .bind(l.title.clone())
        .bind(l.description.clone())
        .bind(l.price.as_ref().map(|p| p.amount_minor))
        .bind(l.price.as_ref().map(|p| p.currency.clone()))
        .bind(l.bedrooms.map(i64::from))
        .bind(l.bathrooms.map(f64::from))
        .bind(l.size.as_ref().map(|s| s.value))
        .bind(l.size.as_ref().map(|s| match s.unit {
            AreaUnit::Sqft => "sqft",
            AreaUnit::Sqm => "sqm",
        }))
        .bind(l.size.as_ref().map(|s| s.sqft))
        .bind(l.property_type.clone())
        .bind(l.community.clone())
        .bind(l.city.clone())
        .bind(l.status.clone())
        .bind(l.latitude)
        .bind(l.longitude)
        .bind(l.furnished.map(i64::from))
        .bind(serde_json::to_string(&l.photos).expect("serialises"))
        .bind(l.listed_at.clone())
        .bind(serde_json::to_string(&l.attributes).expect("serialises"))
        .bind(&w.content_hash)
        .bind(seq)
        .bind(now)
        .bind(import_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn insert_report(
    tx: &mut Transaction<'static, Any>,
    ctx: &Ctx,
    report: &ImportReport,
) -> Result<()> {
    let status = match report.status {
        ImportStatus::Previewed => "previewed",
        ImportStatus::Committed => "committed",
        ImportStatus::Rejected => "rejected",
    };
    sqlx::query(
        "INSERT INTO imports (tenant_id, id, kind, file_name, status, created_by, created_at, report)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(ctx.tenant.s())
    .bind(report.id.to_string())
    .bind(report.kind.as_str())
    .bind(&report.file_name)
    .bind(status)
    .bind(ctx.actor.user_id.map(|u| u.to_string()))
    .bind(report.created_at)
    .bind(serde_json::to_string(report).expect("serialises"))
    .execute(&mut **tx)
    .await?;
    append(
        tx,
        ctx,
        AuditEntry {
            action: "import.run",
            target_type: "import",
            target_id: Some(report.id.to_string()),
            details: json!({
                "kind": report.kind,
                "file_name": report.file_name,
                "status": report.status,
                "dry_run": report.dry_run,
                "rows_total": report.rows_total,
                "rows_rejected": report.rows_rejected,
                "stored": report.stored,
            }),
        },
    )
    .await?;
    Ok(())
}

impl Db {
    /// Stores a report of an import that wrote no listings (a dry run or a refused file).
    pub async fn record_import(&self, ctx: &Ctx, report: &ImportReport) -> Result<()> {
        let mut tx = self.write_tx().await?;
        insert_report(&mut tx, ctx, report).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies an import in one transaction: upserts by external id, tombstones in replace
    /// mode, checks the tier limit before writing, and stores the report. `Ok(Err(..))` is a
    /// refusal for the limit; nothing was written then.
    pub async fn apply_import(
        &self,
        ctx: &Ctx,
        write: ImportWrite<'_>,
    ) -> Result<std::result::Result<StoreCounts, OverLimit>> {
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        let existing = existing(&mut tx, "listings", "external_id", ctx.tenant).await?;
        let plan = plan(
            &existing,
            &write.rows,
            |r| r.listing.external_id.as_str(),
            |r| r.content_hash.as_str(),
            write.replace.then_some(&|_: &str| true),
        );
        if let Some(limit) = write.limit
            && plan.live_after() > limit
            && plan.live_after() > plan.live_now
        {
            return Ok(Err(OverLimit {
                limit,
                would_have: plan.live_after(),
            }));
        }
        if plan.changes() > 0 {
            let mut seq = reserve_seq(&mut tx, ctx.tenant, plan.changes()).await?;
            let import_id = write.report.id.to_string();
            for (id, w, insert) in &plan.writes {
                write_listing(&mut tx, ctx.tenant, id, w, seq, now, *insert, &import_id).await?;
                seq += 1;
            }
            tombstone(&mut tx, "listings", ctx.tenant, &plan.removed, seq, now).await?;
        }
        let counts = plan.counts;
        write.report.stored = Some(counts.clone());
        insert_report(&mut tx, ctx, write.report).await?;
        tx.commit().await?;
        Ok(Ok(counts))
    }

    pub async fn import_report(&self, tenant: TenantId, id: Uuid) -> Result<ImportReport> {
        let row = sqlx::query("SELECT report FROM imports WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.s())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        serde_json::from_str(&row.try_get::<String, _>("report")?)
            .map_err(|e| DbError::Corrupt(format!("import report: {e}")))
    }

    /// Live listings ordered by external id, `limit` after `after`.
    pub async fn listings_page(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ListingPage> {
        let sql = format!(
            "SELECT {LISTING_COLS} FROM listings
             WHERE tenant_id = $1 AND deleted_at IS NULL AND external_id > $2
             ORDER BY external_id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let mut listings = rows
            .iter()
            .take(limit as usize)
            .map(listing_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_after = (rows.len() > limit as usize)
            .then(|| listings.last().map(|l| l.external_id.clone()))
            .flatten();
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM listings WHERE tenant_id = $1 AND deleted_at IS NULL",
        )
        .bind(tenant.s())
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        listings.shrink_to_fit();
        Ok(ListingPage {
            listings,
            next_after,
            total: total as u64,
        })
    }

    pub async fn listing(&self, tenant: TenantId, id: Uuid) -> Result<Listing> {
        let sql = format!(
            "SELECT {LISTING_COLS} FROM listings WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.s())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        listing_from_row(&row)
    }
}
