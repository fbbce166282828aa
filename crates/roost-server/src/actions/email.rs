//! Showcases by email: the tenant's SMTP relay, the company's branding, replies to the agent.
//!
//! The Message-ID is made from the action's id, so a retry after a lost answer from the
//! relay sends the same message (receivers and mail clients collapse it) rather than a new one.

use roost_api::actions::{EmailSecurity, EmailSettings};
use roost_connectors::ConnectorError;
use roost_connectors::email::{
    Branding, Contact, ListingCard, MESSAGE_ID_DOMAIN, Mailer, Showcase, SmtpSecurity, SmtpSettings,
};
use roost_db::{ActionOutcome, TenantId};

use super::{EMAIL_SECRET, Prepared, failed, listing_lines, outcome_of, retry, settings};
use crate::state::AppState;

/// The connector's settings from the stored ones; the sender name defaults to the company.
pub fn smtp_settings(cfg: &EmailSettings, company: &str) -> SmtpSettings {
    let security = match cfg.security {
        EmailSecurity::Tls => SmtpSecurity::Tls,
        EmailSecurity::Starttls => SmtpSecurity::StartTls,
        EmailSecurity::Plain => SmtpSecurity::Plain,
    };
    let name = cfg
        .from_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(company);
    let mut s = SmtpSettings::new(cfg.host.trim(), security, cfg.from_address.trim(), name);
    if let Some(port) = cfg.port {
        s.port = port;
    }
    if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
        s = s.with_credentials(user.trim(), pass.as_str());
    }
    s
}

pub async fn showcase(
    state: &AppState,
    tenant: TenantId,
    action_id: uuid::Uuid,
    message: &str,
    prepared: &Prepared,
) -> ActionOutcome {
    let cfg: EmailSettings = match settings(state, tenant, EMAIL_SECRET, "email").await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return failed(
                "Email is not connected for this company: an admin must set up the outgoing mail server in the integrations settings.",
            );
        }
        Err(reason) => return failed(reason),
    };
    let Some(to) = prepared.client.email_address() else {
        return failed("The client has no email address: add one and send again.");
    };
    let company = match state.db.config(tenant).await {
        Ok(c) => c.config.company_info,
        Err(e) => {
            tracing::error!(error = %e, "reading the company config for an email");
            return retry(
                "The company settings could not be read: the email will be retried.",
                None,
            );
        }
    };
    let mailer = match Mailer::new(smtp_settings(&cfg, &company.name)) {
        Ok(m) => m,
        Err(e) => {
            return failed(format!(
                "The email settings are incomplete ({e}): an admin must correct them."
            ));
        }
    };
    let listings = prepared
        .listings
        .iter()
        .map(|l| {
            let lines = listing_lines(l, &|p| super::public_photo(state, tenant, p));
            ListingCard {
                title: lines.title,
                price: lines.price.unwrap_or_default(),
                facts: lines.facts.join(" · "),
                photo_url: lines.photo,
                link: None,
            }
        })
        .collect();
    let showcase = Showcase {
        branding: Branding {
            company: company.name.clone(),
            color: company.primary_color.clone(),
            logo_url: company.logo_url.clone(),
        },
        agent: Contact {
            name: prepared.agent.name.clone(),
            email: prepared.agent.email.clone(),
        },
        client: Contact {
            name: prepared.client.name.clone(),
            email: to,
        },
        message: message.trim().to_string(),
        listings,
        message_id: Some(format!("<action-{action_id}@{MESSAGE_ID_DOMAIN}>")),
    };
    let email = match showcase.email() {
        Ok(e) => e,
        Err(e) => return outcome_of(ConnectorError::from(e)),
    };
    match mailer.send(&email).await {
        Ok(sent) => ActionOutcome::Delivered {
            external_id: Some(sent.message_id),
        },
        Err(e) => outcome_of(ConnectorError::from(e)),
    }
}
