//! Company settings for admins: branding, what is connected, and connecting WhatsApp, email
//! and a CRM. Online
//! only; the secrets typed here go to the server and are not kept on the device.

use roost_api::actions::{
    CrmWebhookSettings, EmailSettings, HubSpotSettings, IntegrationsStatus, WhatsAppSettings,
};

use roost_api::app::BrandingForm;
use roost_core::secrets::Session;

use super::Device;
use crate::error::{AppError, AppResult};

impl Device {
    /// Saves the company's branding over the configuration as the server has it now; the
    /// next sync brings it to every device, this one included.
    pub async fn save_branding(&self, form: BrandingForm) -> AppResult<()> {
        let session = self.chat_session().await?;
        let current = session.config().await?;
        let mut config = current.config;
        let info = &mut config.company_info;
        info.name = form.name.trim().to_string();
        info.primary_color = form.primary_color.trim().to_string();
        info.secondary_color = form.secondary_color.trim().to_string();
        info.currency = Some(form.currency.trim().to_uppercase()).filter(|c| !c.is_empty());
        session.put_config(current.version, &config).await?;
        Ok(())
    }

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
