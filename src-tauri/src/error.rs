//! Errors the UI shows: sentences for an agent, not codes. Serialised as that sentence.

use std::path::Path;

use roost_core::CoreError;
use roost_core::secrets::{SecretError, SessionError};

pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Something the user typed; the message says what to change.
    #[error("{0}")]
    Input(String),
    #[error("You are signed out. Sign in to continue.")]
    SignedOut,
    #[error("{0}")]
    NotFound(String),
    #[error("Can't reach the server at {server}. Showing what is on this device.")]
    Offline { server: String },
    #[error("The server had a problem ({status}): {message}")]
    Server { status: u16, message: String },
    #[error("The keyring of this computer refused: {0}")]
    Keyring(String),
    #[error("{0}")]
    Other(String),
}

impl AppError {
    pub fn io(path: &Path, e: std::io::Error) -> AppError {
        AppError::Other(format!("Could not use {}: {e}", path.display()))
    }

    pub fn is_offline(&self) -> bool {
        matches!(self, AppError::Offline { .. })
    }
}

impl From<CoreError> for AppError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Http { url, .. } => AppError::Offline {
                server: origin(&url),
            },
            CoreError::SignedOut(_) => AppError::SignedOut,
            // A refused value: the server's sentence says which field and why.
            CoreError::Server {
                status: 422,
                message,
                ..
            } => AppError::Input(
                message
                    .strip_prefix("ValidationFailed: ")
                    .unwrap_or(&message)
                    .to_string(),
            ),
            CoreError::Server {
                status, message, ..
            } => AppError::Server { status, message },
            other => AppError::Other(other.to_string()),
        }
    }
}

impl From<SecretError> for AppError {
    fn from(e: SecretError) -> Self {
        AppError::Keyring(e.to_string())
    }
}

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Core(c) => c.into(),
            SessionError::Secret(s) => s.into(),
            other => AppError::Other(other.to_string()),
        }
    }
}

impl serde::Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// `http://host:port/api/v1/…` → `http://host:port`.
fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_names_the_server_without_the_path() {
        assert_eq!(
            origin("http://127.0.0.1:8080/api/v1/sync/changes?since=0"),
            "http://127.0.0.1:8080"
        );
    }
}
