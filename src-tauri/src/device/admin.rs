//! Company settings for admins: branding, what is connected, and connecting a service
//! (WhatsApp, email, a CRM). Online only; the secrets typed here go to the server and are not
//! kept on the device.

use roost_api::actions::{ConnectorSettings, IntegrationsStatus};
use roost_api::app::BrandingForm;
use roost_core::CoreError;
use roost_core::secrets::{Session, SessionError};

use super::Device;
use crate::error::{AppError, AppResult};

impl Device {
    /// Saves the company's branding (name, colors, currency; the rest of the configuration as
    /// the server has it) if nobody saved since the version the form started from; the next
    /// sync brings it to every device, this one included.
    /// Answers the configuration's new version (the form's base for its next save).
    pub async fn save_branding(&self, form: BrandingForm) -> AppResult<i64> {
        let session = self.chat_session().await?;
        let current = session.config().await?;
        let mut config = current.config;
        let info = &mut config.company_info;
        info.name = form.name.trim().to_string();
        info.primary_color = form.primary_color.trim().to_string();
        info.secondary_color = form.secondary_color.trim().to_string();
        info.currency = Some(form.currency.trim().to_uppercase()).filter(|c| !c.is_empty());
        let base = form.base_version.unwrap_or(current.version);
        match session.put_config(base, &config).await {
            Ok(saved) => Ok(saved.version),
            Err(SessionError::Core(CoreError::Server { status: 412, .. })) => Err(AppError::Input(
                "Another admin changed the company's settings since this device synced. \
                     Yours were not saved: this device is fetching theirs; open Settings again \
                     to see them and make your change on top."
                    .into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn integrations(&self) -> AppResult<IntegrationsStatus> {
        Ok(self.chat_session().await?.integrations().await?)
    }

    /// Saves one service's settings, then answers with what is connected now.
    pub async fn connect(&self, settings: ConnectorSettings) -> AppResult<IntegrationsStatus> {
        let session = self.chat_session().await?;
        session.connect(&settings).await?;
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
