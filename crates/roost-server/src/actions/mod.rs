//! Actions performed on the server: a WhatsApp showcase through the Cloud API, a lead to
//! HubSpot (and always to Roost's own client records).
//!
//! `routes::actions` checks the request and claims its idempotency key; [`perform`] reaches
//! the service and says how it ended. Connector settings are per tenant, sealed with the
//! [`SecretBox`](crate::secret_box::SecretBox) as one JSON document each (`whatsapp`,
//! `hubspot`) and never returned.
//!
//! WhatsApp showcases are one message each, so one action is one effect: free-form text
//! (the agent's message and a line per listing with its photo link) while the client's
//! 24-hour window is open, else the tenant's approved template with the client's name and the
//! number of listings as its two body parameters. The window is opened by the client's last
//! inbound message, which the webhook will record; until then it is unknown, so showcases go
//! as templates. Follow-up image messages are left out on purpose: each would be another
//! effect without an idempotency key.
//!
//! The Cloud API has no idempotency key either: when the server dies after WhatsApp accepted
//! the message and before the outcome is stored, the claim goes stale (5 minutes) and a retry
//! sends the showcase once more. HubSpot upserts are keyed by Roost ids and never duplicate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use roost_api::actions::{ActionRequest, Channel, HubSpotSettings, LeadInput, WhatsAppSettings};
use roost_api::knowledge::Client;
use roost_api::listings::Listing;
use roost_connectors::hubspot::{Budget, HUBSPOT_BASE_URL};
use roost_connectors::whatsapp::{
    Choice, GRAPH_BASE_URL, Pacer, RateLimit, TEXT_LIMIT, choose, normalize_number,
};
use roost_connectors::{ConnectorError, HubSpot, Lead, OutgoingMessage, WhatsApp, WhatsAppError};
use roost_db::{ActionOutcome, TenantId};

use crate::state::AppState;

mod email;

pub use email::smtp_settings as email_settings;

/// Names of the sealed settings in `integration_secrets`.
pub const WHATSAPP_SECRET: &str = "whatsapp";
pub const HUBSPOT_SECRET: &str = "hubspot";
pub const EMAIL_SECRET: &str = "email";
pub const CRM_WEBHOOK_SECRET: &str = "crm_webhook";
/// Graph API version used when the settings name none.
pub const DEFAULT_API_VERSION: &str = "v21.0";
/// Wait suggested for temporary failures that name none.
pub const DEFAULT_RETRY_S: u64 = 30;
/// A claim still `sending` after this long belongs to a server that died mid-effect.
pub const STALE_CLAIM_MS: i64 = 5 * 60 * 1000;

/// What actions share across requests: the outgoing HTTP client and each business number's
/// pacing.
pub struct Actions {
    http: reqwest::Client,
    pacers: Mutex<HashMap<(TenantId, String), Pacer>>,
}

impl Actions {
    pub fn new() -> anyhow::Result<Actions> {
        Ok(Actions {
            http: roost_connectors::http_client()?,
            pacers: Mutex::default(),
        })
    }

    fn pacers(&self) -> std::sync::MutexGuard<'_, HashMap<(TenantId, String), Pacer>> {
        // A panic while holding it leaves nothing half-written worth refusing for.
        self.pacers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What an action needs to be performed, loaded after its checks.
pub struct Prepared {
    pub client: Client,
    pub last_inbound: Option<i64>,
    pub listings: Vec<Listing>,
    /// The acting user: an email showcase comes from them (replies go to them).
    pub agent: roost_api::users::User,
}

/// A tenant's sealed settings, opened.
pub enum Opened<T> {
    Settings(T),
    Absent,
    /// Sealed under another key, or no longer the shape this build reads.
    Unreadable,
}

/// Loads and opens a tenant's sealed settings `name`.
pub async fn open_settings<T: serde::de::DeserializeOwned>(
    state: &AppState,
    tenant: TenantId,
    name: &str,
) -> roost_db::Result<Opened<T>> {
    let Some((nonce, sealed)) = state.db.integration_secret(tenant, name).await? else {
        return Ok(Opened::Absent);
    };
    let opened = state
        .secret_box
        .open(tenant, name, &nonce, &sealed)
        .ok()
        .and_then(|plain| serde_json::from_str(&plain).ok());
    Ok(opened.map_or(Opened::Unreadable, Opened::Settings))
}

/// [`open_settings`] for an action; `Err` is a sentence for an admin.
pub async fn settings<T: serde::de::DeserializeOwned>(
    state: &AppState,
    tenant: TenantId,
    name: &str,
    service: &str,
) -> Result<Option<T>, String> {
    match open_settings(state, tenant, name).await {
        Ok(Opened::Settings(t)) => Ok(Some(t)),
        Ok(Opened::Absent) => Ok(None),
        Ok(Opened::Unreadable) => Err(format!(
            "The stored {service} settings cannot be read: an admin must enter them again."
        )),
        Err(e) => {
            tracing::error!(error = %e, "reading integration settings");
            Err(format!(
                "The {service} settings could not be read: the action will be retried."
            ))
        }
    }
}

/// The client's WhatsApp number in digits: the first of [`Client::phone_candidates`] that is
/// a number.
pub fn whatsapp_number(client: &Client) -> Option<String> {
    client
        .phone_candidates()
        .iter()
        .find_map(|n| normalize_number(n))
}

fn now_ms() -> i64 {
    roost_db::now_millis()
}

pub(crate) fn retry(reason: impl Into<String>, after: Option<Duration>) -> ActionOutcome {
    let after_s = after.map_or(DEFAULT_RETRY_S, |d| {
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    });
    ActionOutcome::Retry {
        reason: reason.into(),
        after_s,
    }
}

pub(crate) fn failed(reason: impl Into<String>) -> ActionOutcome {
    ActionOutcome::Failed {
        reason: reason.into(),
    }
}

/// Retry later (maybe after the service's wait), or failed with the sentence.
pub(crate) fn outcome_of(e: ConnectorError) -> ActionOutcome {
    match e {
        ConnectorError::Retryable { after, reason } => retry(reason, after),
        ConnectorError::Permanent { reason } | ConnectorError::NeedsAdmin { reason } => {
            failed(reason)
        }
    }
}

/// Performs a claimed action. Never fails as a request: every way it ends is an outcome.
pub async fn perform(
    state: &AppState,
    tenant: TenantId,
    action_id: uuid::Uuid,
    request: &ActionRequest,
    prepared: &Prepared,
) -> ActionOutcome {
    match request {
        ActionRequest::SendShowcase {
            channel: Channel::Whatsapp,
            message,
            ..
        } => showcase(state, tenant, message, prepared).await,
        ActionRequest::SendShowcase {
            channel: Channel::Email,
            message,
            ..
        } => email::showcase(state, tenant, action_id, message, prepared).await,
        ActionRequest::CreateLead { lead } => {
            // Both CRMs when both are connected; each is idempotent, so a retry after one of
            // them failed repeats nothing.
            let hubspot = push_lead(state, tenant, lead, prepared).await;
            if !matches!(hubspot, ActionOutcome::Delivered { .. }) {
                return hubspot;
            }
            match crm_webhook(state, tenant, action_id, lead, prepared).await {
                ActionOutcome::Delivered { .. } => hubspot,
                other => other,
            }
        }
    }
}

async fn showcase(
    state: &AppState,
    tenant: TenantId,
    message: &str,
    prepared: &Prepared,
) -> ActionOutcome {
    let cfg: WhatsAppSettings = match settings(state, tenant, WHATSAPP_SECRET, "WhatsApp").await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return failed(
                "WhatsApp is not connected for this company: an admin must set it up in the integrations settings.",
            );
        }
        Err(reason) => return failed(reason),
    };
    let Some(to) = whatsapp_number(&prepared.client) else {
        return failed("The client has no valid WhatsApp number: add one with its country code.");
    };
    let wa = match WhatsApp::new(
        state.actions.http.clone(),
        cfg.base_url.as_deref().unwrap_or(GRAPH_BASE_URL),
        cfg.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION),
        &cfg.phone_number_id,
        cfg.access_token.clone(),
    ) {
        Ok(wa) => wa,
        Err(e) => {
            return failed(format!(
                "The WhatsApp settings are incomplete ({e}): an admin must correct them."
            ));
        }
    };
    let now = now_ms();
    let template = cfg
        .template_name
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let msg = match choose(prepared.last_inbound, now, template.is_some()) {
        Choice::FreeForm => {
            let photo = |p: &str| public_photo(state, tenant, p);
            OutgoingMessage::text(
                &to,
                showcase_text(message, &prepared.listings, &photo),
                true,
            )
        }
        Choice::Template => {
            let msg = OutgoingMessage::template(
                &to,
                template.unwrap_or_default(),
                cfg.template_language.as_deref().unwrap_or("en"),
                vec![
                    prepared.client.name.clone(),
                    prepared.listings.len().to_string(),
                ],
            );
            if !cfg.template_photo_header {
                msg
            } else {
                let photo = prepared
                    .listings
                    .iter()
                    .flat_map(|l| &l.photos)
                    .find_map(|p| public_photo(state, tenant, p));
                match photo {
                    Some(link) => msg.with_header_image(link),
                    None => {
                        return failed(
                            "The WhatsApp template shows a photo, and none of these listings has one a client can open: add a photo to a listing, or an admin must give the server its public address (`public_url`) so uploaded photos can be linked.",
                        );
                    }
                }
            }
        }
        Choice::TemplateNeeded => {
            return failed(
                "The client has not written on WhatsApp in 24 h and no approved template is set up: an admin must add one in the WhatsApp settings.",
            );
        }
    };
    // Pace per business number: wait for the client's gap and the number's throughput.
    let pacer_key = (tenant, cfg.phone_number_id.clone());
    {
        let mut pacers = state.actions.pacers();
        let pacer = pacers.entry(pacer_key.clone()).or_default();
        let next = pacer.next_allowed(&to, now);
        if next > now {
            let wait = Duration::from_millis((next - now) as u64);
            return retry(
                "WhatsApp paces messages to the same client: the showcase will be sent shortly.",
                Some(wait),
            );
        }
    }
    match wa.send(&msg).await {
        Ok(sent) => {
            // Recorded once accepted: a refused message used no slot. Two showcases racing
            // to one client may both go; WhatsApp's own limit (131056) then holds the second.
            state
                .actions
                .pacers()
                .entry(pacer_key)
                .or_default()
                .record(&to, now);
            ActionOutcome::Delivered {
                external_id: Some(sent.wamid),
            }
        }
        Err(e) => {
            if let WhatsAppError::RetryLater { after, limit, .. } = &e {
                let until = now_ms().saturating_add(after.as_millis() as i64);
                let mut pacers = state.actions.pacers();
                let pacer = pacers.entry(pacer_key).or_default();
                match limit {
                    RateLimit::PairRate => pacer.hold(Some(&to), until),
                    RateLimit::Throughput | RateLimit::ApiCalls => pacer.hold(None, until),
                }
            }
            outcome_of(ConnectorError::from(e))
        }
    }
}

/// A listing photo as a client can open it: an absolute http(s) URL as it is, a Roost media
/// path as a signed public link (when the server knows its public address), else nothing.
pub fn public_photo(state: &AppState, tenant: TenantId, reference: &str) -> Option<String> {
    if reference.starts_with("https://") || reference.starts_with("http://") {
        return Some(reference.to_string());
    }
    let id = roost_api::media::parse_media_path(reference)?;
    crate::routes::media::public_link(state, tenant, id)
}

/// How a listing reads in a showcase: its title, price and key facts, and a photo link
/// when it has an absolute one.
pub struct ListingLines {
    pub title: String,
    pub price: Option<String>,
    /// The price, beds, size and community, joined with " · ".
    pub facts: Vec<String>,
    pub photo: Option<String>,
}

/// `public_photo` turns a photo reference into an address a client can open (an absolute URL
/// as it is; a Roost media path as a signed public link, when the server has a public URL).
pub fn listing_lines(l: &Listing, public_photo: &dyn Fn(&str) -> Option<String>) -> ListingLines {
    let mut facts = Vec::new();
    let price = l
        .price
        .as_ref()
        .map(|p| roost_api::money::format_amount(p.amount_minor, &p.currency));
    if let Some(b) = l.bedrooms {
        facts.push(if b == 0 {
            "studio".to_string()
        } else {
            format!("{b} bed")
        });
    }
    if let Some(a) = &l.size {
        let unit = match a.unit {
            roost_api::listings::AreaUnit::Sqft => "sqft",
            roost_api::listings::AreaUnit::Sqm => "sqm",
        };
        facts.push(format!(
            "{} {unit}",
            roost_api::money::group_thousands(a.value.round().max(0.0) as u64)
        ));
    }
    if let Some(c) = l.community.as_deref().filter(|c| !c.trim().is_empty()) {
        facts.push(c.trim().to_string());
    }
    let title = l
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(&l.external_id)
        .trim()
        .to_string();
    let photo = l.photos.iter().find_map(|p| public_photo(p));
    ListingLines {
        title,
        price,
        facts,
        photo,
    }
}

/// The agent's message, then a line per listing: title, price, beds, size, community and a
/// photo link when the listing has an absolute one. Cut to WhatsApp's text limit.
pub fn showcase_text(
    message: &str,
    listings: &[Listing],
    public_photo: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut out = message.trim().to_string();
    for (i, l) in listings.iter().enumerate() {
        let lines = listing_lines(l, public_photo);
        if !out.is_empty() || i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&format!("{}. {}", i + 1, lines.title));
        let facts: Vec<String> = lines.price.into_iter().chain(lines.facts).collect();
        if !facts.is_empty() {
            out.push_str(&format!("\n{}", facts.join(" · ")));
        }
        if let Some(photo) = lines.photo {
            out.push_str(&format!("\n{photo}"));
        }
    }
    if out.chars().count() > TEXT_LIMIT {
        out = out.chars().take(TEXT_LIMIT - 1).collect::<String>() + "…";
    }
    out
}

/// The lead to the tenant's signed-webhook CRM, when one is connected.
async fn crm_webhook(
    state: &AppState,
    tenant: TenantId,
    action_id: uuid::Uuid,
    lead: &LeadInput,
    prepared: &Prepared,
) -> ActionOutcome {
    let cfg: roost_api::actions::CrmWebhookSettings =
        match settings(state, tenant, CRM_WEBHOOK_SECRET, "CRM webhook").await {
            Ok(Some(c)) => c,
            Ok(None) => return ActionOutcome::Delivered { external_id: None },
            Err(reason) => return failed(reason),
        };
    let hook = match roost_connectors::SignedWebhook::new(
        state.actions.http.clone(),
        &cfg.url,
        cfg.secret.clone(),
    ) {
        Ok(h) => h,
        Err(e) => {
            return failed(format!(
                "The CRM webhook settings are incomplete ({e}): an admin must correct them."
            ));
        }
    };
    let event = serde_json::json!({
        "type": "lead.created",
        "action_id": action_id,
        "lead": {
            "id": prepared.client.id,
            "name": lead.name.trim(),
            "phone": lead.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()),
            "email": lead.email.as_deref().map(str::trim).filter(|e| !e.is_empty()),
            "budget": lead.budget,
            "interests": lead.interests,
            "listings": prepared.listings.iter().map(|l| serde_json::json!({
                "id": l.id, "external_id": l.external_id, "title": l.title,
            })).collect::<Vec<_>>(),
        },
        "agent": { "id": prepared.agent.id, "name": prepared.agent.name, "email": prepared.agent.email },
    });
    match hook
        .deliver("lead.created", &action_id.to_string(), &event)
        .await
    {
        Ok(_) => ActionOutcome::Delivered { external_id: None },
        Err(e) => outcome_of(ConnectorError::from(e)),
    }
}

async fn push_lead(
    state: &AppState,
    tenant: TenantId,
    lead: &LeadInput,
    prepared: &Prepared,
) -> ActionOutcome {
    let cfg: HubSpotSettings = match settings(state, tenant, HUBSPOT_SECRET, "HubSpot").await {
        Ok(Some(c)) => c,
        // No CRM: Roost's own client record is the CRM.
        Ok(None) => return ActionOutcome::Delivered { external_id: None },
        Err(reason) => return failed(reason),
    };
    let hs = match HubSpot::new(
        state.actions.http.clone(),
        cfg.base_url.as_deref().unwrap_or(HUBSPOT_BASE_URL),
        cfg.private_app_token.clone(),
    ) {
        Ok(h) => h,
        Err(e) => {
            return failed(format!(
                "The HubSpot settings are incomplete ({e}): an admin must correct them."
            ));
        }
    };
    let crm_lead = Lead {
        roost_lead_id: prepared.client.id.to_string(),
        name: lead.name.trim().to_string(),
        email: lead.email.clone().filter(|e| !e.trim().is_empty()),
        phone: lead.phone.clone().filter(|p| !p.trim().is_empty()),
        budget: lead.budget.as_ref().map(|b| Budget {
            amount_minor: b.amount_minor,
            currency: b.currency.clone(),
        }),
        interests: lead.interests.clone(),
        listings: prepared
            .listings
            .iter()
            .map(|l| match &l.title {
                Some(t) => format!("{} {}", l.external_id, t),
                None => l.external_id.clone(),
            })
            .collect(),
    };
    match hs.push_lead(&crm_lead).await {
        Ok(pushed) => ActionOutcome::Delivered {
            external_id: Some(pushed.contact.id),
        },
        Err(e) => outcome_of(ConnectorError::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roost_api::listings::{Area, AreaUnit, Price};
    use uuid::Uuid;

    fn listing(title: &str, photos: &[&str]) -> Listing {
        Listing {
            id: Uuid::new_v4(),
            external_id: "L-1".into(),
            title: Some(title.into()),
            description: None,
            price: Some(Price {
                amount_minor: 250_000_000,
                currency: "AED".into(),
            }),
            bedrooms: Some(3),
            bathrooms: None,
            size: Some(Area {
                value: 1850.0,
                unit: AreaUnit::Sqft,
                sqft: 1850.0,
            }),
            property_type: None,
            community: Some("Arabian Ranches".into()),
            city: None,
            status: None,
            latitude: None,
            longitude: None,
            furnished: None,
            photos: photos.iter().map(|p| p.to_string()).collect(),
            listed_at: None,
            attributes: Default::default(),
            updated_at: 0,
        }
    }

    #[test]
    fn showcase_text_has_the_message_and_each_listings_facts() {
        let absolute = |p: &str| p.starts_with("https://").then(|| p.to_string());
        let text = showcase_text(
            "Two homes for you",
            &[
                listing(
                    "Villa with garden",
                    &["/api/v1/media/x", "https://cdn.example/1.jpg"],
                ),
                listing("Townhouse", &["/api/v1/media/y"]),
            ],
            &absolute,
        );
        assert_eq!(
            text,
            "Two homes for you\n\n1. Villa with garden\nAED 2,500,000 · 3 bed · 1,850 sqft · Arabian Ranches\nhttps://cdn.example/1.jpg\n\n2. Townhouse\nAED 2,500,000 · 3 bed · 1,850 sqft · Arabian Ranches"
        );
        let long = showcase_text(&"x".repeat(4096), &[listing("Villa", &[])], &absolute);
        assert_eq!(long.chars().count(), TEXT_LIMIT);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn the_whatsapp_number_prefers_the_whatsapp_column() {
        let mut c = Client {
            id: Uuid::new_v4(),
            external_id: "C-1".into(),
            name: "Dana".into(),
            email: None,
            phone: None,
            agent_user_id: None,
            agent_email: None,
            data: serde_json::json!({ "phone": { "number": "+971501112222", "original": "050" } }),
            updated_at: 0,
        };
        assert_eq!(whatsapp_number(&c).as_deref(), Some("971501112222"));
        c.data["whatsapp"] = serde_json::json!({ "number": "+971503334444" });
        assert_eq!(whatsapp_number(&c).as_deref(), Some("971503334444"));
        c.data = serde_json::json!({});
        assert_eq!(whatsapp_number(&c), None);
        c.phone = Some("+44 7700 900123".into());
        assert_eq!(whatsapp_number(&c).as_deref(), Some("447700900123"));
    }
}
