//! Company settings for admins: what is connected, and connecting WhatsApp, email and a CRM. Online
//! only; the secrets typed here go to the server and are not kept on the device.

use roost_api::actions::{
    CrmWebhookSettings, EmailSettings, HubSpotSettings, IntegrationsStatus, WhatsAppSettings,
};

use roost_core::secrets::Session;

use super::Device;
use crate::error::{AppError, AppResult};

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
        reload(&session).await
    }

    /// Saves the settings, then answers with what is connected now.
    pub async fn connect_email(&self, settings: EmailSettings) -> AppResult<IntegrationsStatus> {
        let session = self.chat_session().await?;
        session.connect_email(&settings).await?;
        reload(&session).await
    }

    /// Saves the settings, then answers with what is connected now.
    pub async fn connect_hubspot(
        &self,
        settings: HubSpotSettings,
    ) -> AppResult<IntegrationsStatus> {
        let session = self.chat_session().await?;
        session.connect_hubspot(&settings).await?;
        reload(&session).await
    }

    /// Saves the settings, then answers with what is connected now.
    pub async fn connect_crm_webhook(
        &self,
        settings: CrmWebhookSettings,
    ) -> AppResult<IntegrationsStatus> {
        let session = self.chat_session().await?;
        session.connect_crm_webhook(&settings).await?;
        reload(&session).await
    }
}

/// What is connected after a save; a failure here must not read as a failed save.
async fn reload(session: &Session) -> AppResult<IntegrationsStatus> {
    session.integrations().await.map_err(|e| {
        AppError::Other(format!(
            "Saved. The list could not be refreshed: {}",
            AppError::from(e)
        ))
    })
}
