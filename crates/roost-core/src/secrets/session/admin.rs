//! Company settings for an admin's session: the company's configuration (branding), what is
//! connected, and connecting a service (WhatsApp, email, HubSpot, a CRM webhook). Secrets go to the server only; it never returns them.

use reqwest::Method;
use roost_api::actions::{ConnectorSettings, IntegrationsStatus};
use roost_api::config::{TenantConfig, VersionedConfig};

use super::{Session, SessionResult};

impl Session {
    /// The company's configuration as the server has it now, with its version.
    pub async fn config(&self) -> SessionResult<VersionedConfig> {
        self.get("/config").await
    }

    /// Replaces the configuration, if it is still at `version` (else the server answers 412:
    /// another admin saved meanwhile).
    pub async fn put_config(
        &self,
        version: i64,
        config: &TenantConfig,
    ) -> SessionResult<VersionedConfig> {
        let body = serde_json::to_value(config).unwrap_or_default();
        let if_match = [("if-match", format!("\"{version}\""))];
        self.authed_with(Method::PUT, "/config", Some(body), &if_match)
            .await
    }

    /// What the company has connected (`GET /integrations`; admins).
    pub async fn integrations(&self) -> SessionResult<IntegrationsStatus> {
        self.get("/integrations").await
    }

    /// Connects (or replaces) one of the company's services.
    pub async fn connect(&self, settings: &ConnectorSettings) -> SessionResult<()> {
        self.authed(Method::PUT, settings.path(), Some(settings.body()))
            .await
    }
}
