//! Server configuration in layers: built-in defaults, then an optional TOML file, then
//! `ROOST_*` environment variables (e.g. `ROOST_DATABASE_URL`, `ROOST_BIND`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A secret string that never shows up in `Debug` output or logs.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Who may register a company through `POST /api/v1/tenants`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// Anyone (self-service sign-up).
    Open,
    /// Only callers presenting `operator_token` as a bearer token.
    Operator,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub bind: SocketAddr,
    /// Holds the SQLite database (by default) and the generated signing key.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; defaults to `sqlite://<data_dir>/roost.db`.
    pub database_url: Option<String>,
    /// HS256 key for access tokens; generated into `<data_dir>/jwt-secret` when absent.
    pub jwt_secret: Option<Secret>,
    pub registration: Registration,
    pub operator_token: Option<Secret>,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    /// Sign-in attempts allowed per minute for one account (tenant + email).
    pub login_per_account_per_minute: u32,
    /// Sign-in attempts allowed per minute from one client address.
    pub login_per_ip_per_minute: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest import upload accepted, in bytes.
    pub max_import_bytes: usize,
    /// Trust the first `X-Forwarded-For` address (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Directory of the embedding model (ONNX + tokenizer files). Unset: embeddings are off
    /// and listings wait for them.
    pub embed_model_dir: Option<PathBuf>,
    /// The ONNX Runtime shared library; unset: `ORT_DYLIB_PATH`, then the system's.
    pub ort_dylib_path: Option<PathBuf>,
    /// Threads for embedding; 0 uses every core.
    pub embed_threads: usize,
    /// Key (32 bytes, base64) that encrypts integration secrets such as LLM API keys;
    /// generated into `<data_dir>/secrets-key` when absent. Replicas must share it.
    pub secrets_key: Option<Secret>,
    /// The server's address as the outside world reaches it (`https://roost.example.com`),
    /// for links in messages to clients (listing photos in showcases). Unset: showcases
    /// carry only photos that already have a public address.
    pub public_url: Option<String>,
    /// LLM provider timeouts: to connect, to the first byte of the answer, between chunks.
    pub llm_connect_timeout_secs: u64,
    pub llm_first_byte_timeout_secs: u64,
    pub llm_idle_timeout_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".parse().expect("valid address"),
            data_dir: PathBuf::from("roost-data"),
            database_url: None,
            jwt_secret: None,
            registration: Registration::Open,
            operator_token: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 60,
            login_per_account_per_minute: 10,
            login_per_ip_per_minute: 60,
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 50 * 1024 * 1024,
            trust_forwarded_for: false,
            embed_model_dir: None,
            ort_dylib_path: None,
            embed_threads: 0,
            secrets_key: None,
            public_url: None,
            llm_connect_timeout_secs: 5,
            llm_first_byte_timeout_secs: 30,
            llm_idle_timeout_secs: 30,
        }
    }
}

impl Settings {
    /// Defaults, then `file` (when given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            fig = fig.merge(Toml::file_exact(file));
        }
        let settings: Settings = fig
            .merge(Env::prefixed("ROOST_").ignore(&[
                "config",
                "test_postgres_url",
                "test_require_postgres",
            ]))
            .extract()
            .map_err(Box::new)?;
        Ok(settings)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("roost.db").display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let s = Settings {
            jwt_secret: Some(Secret("hunter2-hunter2".into())),
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn file_then_env_layers() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "roost.toml",
                "bind = \"127.0.0.1:9999\"\nregistration = \"operator\"\naccess_token_ttl_secs = 60\n",
            )?;
            jail.set_env("ROOST_ACCESS_TOKEN_TTL_SECS", "120");
            let s = Settings::load(Some(Path::new("roost.toml"))).expect("loads");
            assert_eq!(s.bind.port(), 9999);
            assert_eq!(s.registration, Registration::Operator);
            assert_eq!(s.access_token_ttl_secs, 120, "env beats file");
            assert_eq!(s.database_url(), "sqlite://roost-data/roost.db");
            Ok(())
        });
    }
}
