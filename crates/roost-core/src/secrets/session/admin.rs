//! Company settings for an admin's session: what is connected, and connecting WhatsApp and
//! email. Secrets go to the server only; it never returns them.

use reqwest::Method;
use roost_api::actions::{EmailSettings, IntegrationsStatus, WhatsAppSettings};

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
}
