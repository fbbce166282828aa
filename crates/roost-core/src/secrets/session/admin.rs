//! Company settings for an admin's session: what is connected, and connecting WhatsApp,
//! email, HubSpot or a CRM webhook. Secrets go to the server only; it never returns them.

use reqwest::Method;
use roost_api::actions::{
    CrmWebhookSettings, EmailSettings, HubSpotSettings, IntegrationsStatus, WhatsAppSettings,
};

use super::{Session, SessionResult};

impl Session {
    /// What the company has connected (`GET /integrations`; admins).
    pub async fn integrations(&self) -> SessionResult<IntegrationsStatus> {
        self.get("/integrations").await
    }

    /// Connects (or replaces) the company's WhatsApp Business number.
    pub async fn connect_whatsapp(&self, settings: &WhatsAppSettings) -> SessionResult<()> {
        let body = serde_json::to_value(settings).unwrap_or_default();
        self.authed(Method::PUT, "/integrations/whatsapp", Some(body))
            .await
    }

    /// Connects (or replaces) the company's outgoing mail server.
    pub async fn connect_email(&self, settings: &EmailSettings) -> SessionResult<()> {
        let body = serde_json::to_value(settings).unwrap_or_default();
        self.authed(Method::PUT, "/integrations/email", Some(body))
            .await
    }

    /// Connects (or replaces) the company's HubSpot portal.
    pub async fn connect_hubspot(&self, settings: &HubSpotSettings) -> SessionResult<()> {
        let body = serde_json::to_value(settings).unwrap_or_default();
        self.authed(Method::PUT, "/integrations/hubspot", Some(body))
            .await
    }

    /// Connects (or replaces) the company's signed CRM webhook.
    pub async fn connect_crm_webhook(&self, settings: &CrmWebhookSettings) -> SessionResult<()> {
        let body = serde_json::to_value(settings).unwrap_or_default();
        self.authed(Method::PUT, "/integrations/crm-webhook", Some(body))
            .await
    }
}
