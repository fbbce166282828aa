use roost_api::config::TenantConfig;
use roost_api::tenants::{ContactPerson, TenantSummary, Tier};
use roost_api::users::Role;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::audit::{AuditEntry, append};
use crate::{
    Actor, Ctx, Db, DbError, Result, TenantId, conflict_on_unique, now_millis, parse_uuid,
};

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub company_name: String,
    pub tier: Tier,
}

impl Tenant {
    pub fn summary(&self) -> TenantSummary {
        TenantSummary {
            id: self.id.uuid(),
            slug: self.slug.clone(),
            company_name: self.company_name.clone(),
            tier: self.tier,
        }
    }
}

/// A registration, already validated, with the first admin's password already hashed.
pub struct NewTenant<'a> {
    pub slug: &'a str,
    pub company_name: &'a str,
    pub industry: &'a str,
    pub region: &'a str,
    pub employee_count: u32,
    pub contact: &'a ContactPerson,
    pub tier: Tier,
    pub admin_password_hash: &'a str,
}

fn tenant_from_row(row: &AnyRow) -> Result<Tenant> {
    let id: String = row.try_get("id")?;
    let tier: String = row.try_get("tier")?;
    Ok(Tenant {
        id: TenantId::from_verified(parse_uuid(&id)?),
        slug: row.try_get("slug")?,
        company_name: row.try_get("company_name")?,
        tier: Tier::parse(&tier).ok_or_else(|| DbError::Corrupt(format!("tier '{tier}'")))?,
    })
}

impl Db {
    /// Creates the tenant, its first admin (the contact person) and its initial config, all in
    /// one transaction. Returns the tenant and the admin's user id.
    pub async fn create_tenant(
        &self,
        new: NewTenant<'_>,
        ip: Option<String>,
    ) -> Result<(Tenant, Uuid)> {
        let tenant_id = TenantId::from_verified(Uuid::now_v7());
        let admin_id = Uuid::now_v7();
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, company_name, industry, region, employee_count,
                contact_name, contact_email, contact_phone, tier, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant_id.s())
        .bind(new.slug)
        .bind(new.company_name)
        .bind(new.industry)
        .bind(new.region)
        .bind(i64::from(new.employee_count))
        .bind(&new.contact.name)
        .bind(new.contact.email.to_lowercase())
        .bind(new.contact.phone.clone())
        .bind(new.tier.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, || format!("the slug '{}' is taken", new.slug)))?;

        crate::users::insert_user(
            &mut tx,
            tenant_id,
            admin_id,
            &new.contact.email,
            &new.contact.name,
            new.admin_password_hash,
            &[Role::Admin],
            now,
        )
        .await?;

        let config = TenantConfig::initial(new.company_name, new.tier);
        let seq = crate::listings::reserve_seq(&mut tx, tenant_id, 1).await?;
        sqlx::query(
            "INSERT INTO tenant_configs (tenant_id, version, body, updated_at, updated_by, seq)
             VALUES ($1, 1, $2, $3, NULL, $4)",
        )
        .bind(tenant_id.s())
        .bind(serde_json::to_string(&config).expect("config serialises"))
        .bind(now)
        .bind(seq)
        .execute(&mut *tx)
        .await?;

        let ctx = Ctx {
            tenant: tenant_id,
            actor: Actor {
                user_id: None,
                device_id: None,
                ip,
            },
        };
        append(
            &mut tx,
            &ctx,
            AuditEntry {
                action: "tenant.register",
                target_type: "tenant",
                target_id: Some(tenant_id.s()),
                details: json!({
                    "slug": new.slug,
                    "company_name": new.company_name,
                    "tier": new.tier.as_str(),
                    "admin_user_id": admin_id,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        let tenant = Tenant {
            id: tenant_id,
            slug: new.slug.to_string(),
            company_name: new.company_name.to_string(),
            tier: new.tier,
        };
        Ok((tenant, admin_id))
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        sqlx::query("SELECT id, slug, company_name, tier FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(tenant_from_row)
            .transpose()
    }

    pub async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        let row = sqlx::query("SELECT id, slug, company_name, tier FROM tenants WHERE id = $1")
            .bind(id.s())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        tenant_from_row(&row)
    }

    pub async fn slug_taken(&self, slug: &str) -> Result<bool> {
        Ok(self.tenant_by_slug(slug).await?.is_some())
    }
}
