//! Uploaded images (listing photos), immutable and tenant-scoped.

use roost_api::media::ImageKind;
use sqlx::Row;
use uuid::Uuid;

use crate::audit::{AuditEntry, append};
use crate::{Ctx, Db, DbError, Result, TenantId, now_millis, parse_uuid};

/// An image to store; the caller has checked `kind` against the bytes and hashed them.
pub struct NewMedia<'a> {
    pub kind: ImageKind,
    pub bytes: &'a [u8],
    /// SHA-256 of `bytes`, lower-case hex.
    pub sha256: &'a str,
}

/// A stored image without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    pub id: Uuid,
    pub kind: ImageKind,
    pub size_bytes: u64,
    pub sha256: String,
}

fn kind_name(kind: ImageKind) -> &'static str {
    kind.extension()
}

fn info_from_row(row: &sqlx::any::AnyRow) -> Result<MediaInfo> {
    let kind: String = row.try_get("kind")?;
    Ok(MediaInfo {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        kind: ImageKind::from_extension(&kind)
            .ok_or_else(|| DbError::Corrupt(format!("media kind '{kind}'")))?,
        size_bytes: row.try_get::<i64, _>("size_bytes")? as u64,
        sha256: row.try_get("sha256")?,
    })
}

impl Db {
    /// Stores an image and audits the upload, in one transaction. The same bytes uploaded
    /// again by the tenant return the stored image (`false`: nothing new was written, and
    /// nothing is audited).
    pub async fn put_media(&self, ctx: &Ctx, media: NewMedia<'_>) -> Result<(MediaInfo, bool)> {
        let mut tx = self.write_tx().await?;
        let id = Uuid::now_v7();
        // The audit counter row comes first: it serialises the tenant's writers, so two
        // uploads of the same bytes cannot both miss the lookup below.
        append(
            &mut tx,
            ctx,
            AuditEntry {
                action: "media.upload",
                target_type: "media",
                target_id: Some(id.to_string()),
                details: serde_json::json!({
                    "content_type": media.kind.mime(),
                    "size_bytes": media.bytes.len(),
                    "sha256": media.sha256,
                }),
            },
        )
        .await?;
        let existing = sqlx::query(
            "SELECT id, kind, size_bytes, sha256 FROM media WHERE tenant_id = $1 AND sha256 = $2",
        )
        .bind(ctx.tenant.s())
        .bind(media.sha256)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let info = info_from_row(&row)?;
            // Nothing new: the audit event goes with the transaction.
            tx.rollback().await?;
            return Ok((info, false));
        }
        sqlx::query(
            "INSERT INTO media (tenant_id, id, kind, size_bytes, sha256, bytes, created_by,
                 created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(ctx.tenant.s())
        .bind(id.to_string())
        .bind(kind_name(media.kind))
        .bind(media.bytes.len() as i64)
        .bind(media.sha256)
        .bind(media.bytes.to_vec())
        .bind(ctx.actor.user_id.map(|u| u.to_string()))
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((
            MediaInfo {
                id,
                kind: media.kind,
                size_bytes: media.bytes.len() as u64,
                sha256: media.sha256.to_string(),
            },
            true,
        ))
    }

    /// What is stored under `id` in the tenant, without the bytes (for revalidation).
    pub async fn media_info(&self, tenant: TenantId, id: Uuid) -> Result<MediaInfo> {
        let row = sqlx::query(
            "SELECT id, kind, size_bytes, sha256 FROM media WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.s())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(DbError::NotFound)?;
        info_from_row(&row)
    }

    /// An image of the tenant and its bytes; another tenant's id is `NotFound`.
    pub async fn media(&self, tenant: TenantId, id: Uuid) -> Result<(MediaInfo, Vec<u8>)> {
        let row = sqlx::query(
            "SELECT id, kind, size_bytes, sha256, bytes FROM media
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.s())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(DbError::NotFound)?;
        Ok((info_from_row(&row)?, row.try_get("bytes")?))
    }
}
