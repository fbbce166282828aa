//! The demo tenant `cargo xtask demo` starts with: a company and one user per role.

use roost_api::tenants::{ContactPerson, Tier};
use roost_api::users::Role;
use roost_db::{Actor, Ctx, DbError, NewTenant};

use crate::state::AppState;
use crate::tokens::hash_password_async;

pub const SLUG: &str = "demo";

/// (email, name, roles, password). Demo-only credentials, printed at start-up.
pub const USERS: &[(&str, &str, &[Role], &str)] = &[
    (
        "admin@demo.roost.test",
        "Amira Admin",
        &[Role::Admin, Role::Manager, Role::Agent],
        "demo-admin-pass",
    ),
    (
        "manager@demo.roost.test",
        "Marco Manager",
        &[Role::Manager, Role::Agent],
        "demo-manager-pass",
    ),
    (
        "agent@demo.roost.test",
        "Aisha Agent",
        &[Role::Agent],
        "demo-agent-pass",
    ),
];

/// Creates the demo tenant and its users unless it exists. Returns whether it created it.
pub async fn seed(state: &AppState) -> anyhow::Result<bool> {
    if state.db.tenant_by_slug(SLUG).await?.is_some() {
        return Ok(false);
    }
    let (admin_email, admin_name, _, admin_pw) = USERS[0];
    let contact = ContactPerson {
        name: admin_name.into(),
        email: admin_email.into(),
        phone: Some("+971 4 000 0000".into()),
    };
    let hash = hash_password_async(admin_pw.into()).await;
    let (tenant, admin_id) = state
        .db
        .create_tenant(
            NewTenant {
                slug: SLUG,
                company_name: "Roost Demo Realty",
                industry: "real estate",
                region: "Dubai, UAE",
                employee_count: 25,
                contact: &contact,
                tier: Tier::Professional,
                admin_password_hash: &hash,
            },
            None,
        )
        .await?;
    let ctx = Ctx {
        tenant: tenant.id,
        actor: Actor {
            user_id: Some(admin_id),
            device_id: None,
            ip: None,
        },
    };
    state
        .db
        .update_user(
            &ctx,
            admin_id,
            roost_db::UserPatch {
                roles: Some(USERS[0].2.to_vec()),
                ..Default::default()
            },
        )
        .await?;
    let mut config = state.db.config(tenant.id).await?;
    config.config.company_info.currency = Some("AED".into());
    config.config.knowledge_base.regions = vec!["Dubai".into()];
    state
        .db
        .put_config(&ctx, config.version, &config.config)
        .await?;
    for (email, name, roles, pw) in &USERS[1..] {
        let hash = hash_password_async((*pw).into()).await;
        match state.db.create_user(&ctx, email, name, &hash, roles).await {
            Ok(_) | Err(DbError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}
