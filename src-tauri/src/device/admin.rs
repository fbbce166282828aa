//! Company settings for admins: what is connected, and connecting WhatsApp, email and a CRM. Online
//! only; the secrets typed here go to the server and are not kept on the device.

use roost_api::actions::{
    CrmWebhookSettings, EmailSettings, HubSpotSettings, IntegrationsStatus, WhatsAppSettings,
};

use super::Device;
use crate::error::AppResult;

impl Device {
    pub async fn integrations(&self) -> AppResult<IntegrationsStatus> {
        Ok(self.chat_session().await?.integrations().await?)
    }

    /// Saves the settings, then answers with what is connected now.
    pub async fn connect_whatsapp(
        &self,
        settings: WhatsAppSettings,
    ) -> AppResult<IntegrationsStatus> {
        let session = self.chat_session().await?;
        session.connect_whatsapp(&settings).await?;
        Ok(session.integrations().await?)
    }

    /// Saves the settings, then answers with what is connected now.
    pub async fn connect_email(&self, settings: EmailSettings) -> AppResult<IntegrationsStatus> {
        let session = self.chat_session().await?;
        session.connect_email(&settings).await?;
        Ok(session.integrations().await?)
    }

    /// Saves the settings, then answers with what is connected now.
    pub async fn connect_hubspot(
        &self,
        settings: HubSpotSettings,
    ) -> AppResult<IntegrationsStatus> {
        let session = self.chat_session().await?;
        session.connect_hubspot(&settings).await?;
        Ok(session.integrations().await?)
    }

    /// Saves the settings, then answers with what is connected now.
    pub async fn connect_crm_webhook(
        &self,
        settings: CrmWebhookSettings,
    ) -> AppResult<IntegrationsStatus> {
        let session = self.chat_session().await?;
        session.connect_crm_webhook(&settings).await?;
        Ok(session.integrations().await?)
    }
}
