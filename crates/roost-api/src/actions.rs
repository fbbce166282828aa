//! Actions an agent takes from the app — send listings to a client (WhatsApp or email), create
//! a lead — queued on the device and performed exactly once by the server:
//! `POST /api/v1/actions` with an `Idempotency-Key` made on the device when the agent acted.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;
use crate::listings::Price;

/// Header carrying the key that makes a request perform its effect once.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Listings one showcase may carry.
pub const MAX_SHOWCASE_LISTINGS: usize = 10;

/// A phone number as people type it: 7 to 15 digits with the usual separators and an
/// optional leading `+`. One rule for the form, the device and the server.
pub fn looks_like_phone(phone: &str) -> bool {
    let p = phone.trim();
    let body = p.strip_prefix('+').unwrap_or(p);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    body.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.'))
        && (7..=15).contains(&digits)
}

/// An email address that a mail server could take: `local@domain.tld`, no spaces, at most
/// 254 characters. (Deliverability is the mail server's to say.)
pub fn looks_like_email(email: &str) -> bool {
    let e = email.trim();
    e.len() <= 254
        && !e.contains(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
}

/// What the agent asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionRequest {
    /// Listings with photos, price and key facts, and the agent's message, to a client.
    SendShowcase {
        channel: Channel,
        client: ClientRef,
        /// 1 to [`MAX_SHOWCASE_LISTINGS`] listings of the tenant.
        listings: Vec<Uuid>,
        /// The agent's message, as edited.
        message: String,
    },
    /// A lead for the tenant's CRM and Roost's own client records.
    CreateLead { lead: LeadInput },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Whatsapp,
    Email,
}

/// The client an action is for: one the agent may see, or someone new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientRef {
    Existing {
        id: Uuid,
    },
    New {
        name: String,
        #[serde(default)]
        phone: Option<String>,
        #[serde(default)]
        email: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub budget: Option<Price>,
    #[serde(default)]
    pub interests: Option<String>,
    #[serde(default)]
    pub listings: Vec<Uuid>,
}

/// Where an action stands. On the device an action is first `queued` (not yet accepted by the
/// server); the server's states follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Stored on the device, waiting for the network.
    Queued,
    /// Being sent to the server (device) or to the service (server).
    Sending,
    /// The service took it (WhatsApp accepted the message, the CRM stored the lead, the mail
    /// relay accepted the mail).
    Delivered,
    /// The client's phone has it (WhatsApp status webhooks).
    Read,
    /// It will not happen without the agent or an admin: `reason` says what to do.
    Failed,
}

/// The server's record of an action; a repeated request with the same key gets this again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionRecord {
    pub id: Uuid,
    pub idempotency_key: String,
    pub request: ActionRequest,
    pub status: ActionStatus,
    /// For failures: one sentence the agent (or an admin) can act on.
    pub reason: Option<String>,
    /// Retry after this many seconds (rate limits) when the failure is temporary.
    pub retry_after_s: Option<u64>,
    /// The service's id (WhatsApp message id, CRM contact id, mail message id).
    pub external_id: Option<String>,
    /// The Roost client the action concerned (created for new clients and leads).
    pub client_id: Option<Uuid>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A page of the caller's actions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionList {
    pub actions: Vec<ActionRecord>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<String>,
}

/// WhatsApp Business Cloud API settings of a company (admins; write-only: the token and
/// the app secret are stored encrypted and never returned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WhatsAppSettings {
    /// The business phone number's id in the Cloud API.
    pub phone_number_id: String,
    /// A system-user access token with `whatsapp_business_messaging`.
    pub access_token: String,
    /// Graph API version such as `v21.0` (default).
    #[serde(default)]
    pub api_version: Option<String>,
    /// The Graph API's address (default `https://graph.facebook.com`; for stand-ins).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The Meta app's secret, which signs webhook deliveries.
    pub app_secret: String,
    /// The approved template sent when the client has not written in 24 hours. Its body
    /// takes two parameters: `{{1}}` the client's name, `{{2}}` the number of listings.
    #[serde(default)]
    pub template_name: Option<String>,
    /// The template's language code, e.g. `en_US` (default `en`).
    #[serde(default)]
    pub template_language: Option<String>,
    /// The template was approved with an image header: the first listing photo a client can
    /// open fills it (a showcase without such a photo then fails, saying so).
    #[serde(default)]
    pub template_photo_header: bool,
    /// The token Meta's webhook subscription sends back to
    /// `/api/v1/webhooks/whatsapp/{company}` (chosen by the admin when subscribing). Omitted,
    /// the stored one is kept.
    #[serde(default)]
    pub webhook_verify_token: Option<String>,
}

/// HubSpot settings of a company (admins; write-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HubSpotSettings {
    /// A private app token with the CRM contacts and deals scopes.
    pub private_app_token: String,
    /// HubSpot's API address (default `https://api.hubapi.com`; for stand-ins).
    #[serde(default)]
    pub base_url: Option<String>,
}

/// Outgoing mail settings of a company (admins; write-only: the password is stored encrypted
/// and never returned). Showcase emails come from `from_address` with replies to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The mail server (SMTP relay), e.g. `smtp.sendgrid.net`.
    pub host: String,
    /// Default: 465 for `tls`, 587 for `starttls`, 25 for `plain`.
    #[serde(default)]
    pub port: Option<u16>,
    pub security: EmailSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender address, e.g. `listings@acme.example` (the relay must allow it).
    pub from_address: String,
    /// The sender name; default the company's name.
    #[serde(default)]
    pub from_name: Option<String>,
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EmailSecurity {
    /// TLS from the first byte (port 465).
    Tls,
    /// STARTTLS before anything else (port 587); refused if the server does not offer it.
    Starttls,
    /// No TLS: only for a relay on the server's own machine.
    Plain,
}

/// One service's settings as the app sends them to connect it; each goes to its own
/// `PUT /api/v1/integrations/…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorSettings {
    Whatsapp(WhatsAppSettings),
    Email(EmailSettings),
    Hubspot(HubSpotSettings),
    CrmWebhook(CrmWebhookSettings),
}

impl ConnectorSettings {
    /// The path that stores them, below the API prefix.
    pub fn path(&self) -> &'static str {
        match self {
            ConnectorSettings::Whatsapp(_) => "/integrations/whatsapp",
            ConnectorSettings::Email(_) => "/integrations/email",
            ConnectorSettings::Hubspot(_) => "/integrations/hubspot",
            ConnectorSettings::CrmWebhook(_) => "/integrations/crm-webhook",
        }
    }

    /// The request body: the settings themselves.
    pub fn body(&self) -> serde_json::Value {
        match self {
            ConnectorSettings::Whatsapp(s) => serde_json::to_value(s),
            ConnectorSettings::Email(s) => serde_json::to_value(s),
            ConnectorSettings::Hubspot(s) => serde_json::to_value(s),
            ConnectorSettings::CrmWebhook(s) => serde_json::to_value(s),
        }
        .unwrap_or_default()
    }
}

/// What a company has connected (`GET /api/v1/integrations`, admins). No secret (token,
/// password, app secret, signing secret) is ever part of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntegrationsStatus {
    #[serde(default)]
    pub whatsapp: Option<WhatsAppStatus>,
    #[serde(default)]
    pub email: Option<EmailStatus>,
    /// A HubSpot portal is connected.
    #[serde(default)]
    pub hubspot: bool,
    #[serde(default)]
    pub crm_webhook: Option<CrmWebhookStatus>,
    /// Connectors whose stored settings cannot be read any more (the server's secrets key
    /// changed, or they were stored in a shape this version does not read): an admin must
    /// enter them again. `whatsapp`, `email`, `hubspot`, `crm_webhook`.
    #[serde(default)]
    pub unreadable: Vec<String>,
}

/// The WhatsApp settings an admin may see again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatsAppStatus {
    pub phone_number_id: String,
    #[serde(default)]
    pub template_name: Option<String>,
    #[serde(default)]
    pub template_language: Option<String>,
    #[serde(default)]
    pub template_photo_header: bool,
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    /// A webhook verify token is stored (the token itself is not returned).
    #[serde(default)]
    pub webhook_verify_token_set: bool,
}

/// The mail settings an admin may see again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailStatus {
    pub host: String,
    #[serde(default)]
    pub port: Option<u16>,
    pub security: EmailSecurity,
    pub from_address: String,
    #[serde(default)]
    pub from_name: Option<String>,
    /// The relay takes a sign-in (the username is shown, never the password).
    #[serde(default)]
    pub username: Option<String>,
}

/// The CRM webhook's address (its signing secret is never returned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmWebhookStatus {
    pub url: String,
}

/// A CRM other than HubSpot, reached by a signed webhook (admins; write-only): each lead is
/// POSTed as JSON with `X-Roost-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
/// `X-Roost-Event: lead.created` and an `Idempotency-Key` that is the same on every retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CrmWebhookSettings {
    /// The receiver's `https://` address.
    pub url: String,
    /// The shared signing secret (at least 16 characters).
    pub secret: String,
}
