//! What the app remembers between starts that is not secret: the server, the last account
//! (to open its cache offline), its profile and role, when it last synced. Tokens and the
//! cache key live in the keyring, never here.

use std::path::{Path, PathBuf};

use roost_api::Millis;
use roost_api::auth::MeResponse;
use roost_api::users::Role;
use roost_core::secrets::Account;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

const FILE: &str = "prefs.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub server_url: String,
    pub company: String,
    pub email: String,
    pub account: Option<SavedAccount>,
    pub last_synced: Option<Millis>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedAccount {
    pub tenant: String,
    pub user: String,
    pub me: MeResponse,
    pub role: Role,
}

impl SavedAccount {
    pub fn new(account: &Account, me: MeResponse, role: Role) -> SavedAccount {
        SavedAccount {
            tenant: account.tenant.clone(),
            user: account.user.clone(),
            me,
            role,
        }
    }

    pub fn account(&self) -> Account {
        Account {
            tenant: self.tenant.clone(),
            user: self.user.clone(),
        }
    }
}

impl Prefs {
    /// Missing or unreadable prefs are a first start, not an error: nothing in them is lost
    /// that a sign-in does not restore.
    pub fn load(root: &Path) -> AppResult<Prefs> {
        let path = root.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Prefs::default()),
            Err(e) => Err(AppError::io(&path, e)),
        }
    }

    /// Written to a temporary file and renamed, so a crash leaves the old or the new file.
    pub fn save(&self, root: &Path) -> AppResult<()> {
        let path = root.join(FILE);
        let tmp: PathBuf = root.join(format!("{FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| AppError::Other(e.to_string()))?;
        std::fs::write(&tmp, bytes).map_err(|e| AppError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| AppError::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_prefs_load_again_and_garbage_is_a_first_start() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Prefs::load(dir.path()).unwrap().account.is_none());
        let prefs = Prefs {
            server_url: "http://127.0.0.1:8080".into(),
            company: "demo".into(),
            last_synced: Some(5),
            ..Prefs::default()
        };
        prefs.save(dir.path()).unwrap();
        let again = Prefs::load(dir.path()).unwrap();
        assert_eq!(again.server_url, "http://127.0.0.1:8080");
        assert_eq!(again.last_synced, Some(5));
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert_eq!(Prefs::load(dir.path()).unwrap().server_url, "");
    }
}
