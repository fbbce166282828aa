//! [`SecretStore`] over the OS keyring (`keyring` 3): macOS/iOS Keychain, Windows Credential
//! Manager, and on Linux the kernel keyutils as a cache in front of the Secret Service (GNOME
//! Keyring, KWallet), which is what survives a reboot.

use keyring::credential::{CredentialBuilder, CredentialPersistence};
use keyring::{Entry, Error as KeyringError};
use zeroize::Zeroizing;

use super::{SecretError, SecretId, SecretOp, SecretStore};

/// The service name secrets are filed under unless the app picks another (the Tauri
/// identifier, so the OS shows whose entries they are).
pub const DEFAULT_SERVICE: &str = "app.roost.desktop";

pub struct KeyringStore {
    service: String,
    builder: Box<CredentialBuilder>,
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore")
            .field("service", &self.service)
            .field("backend", &BACKEND)
            .finish()
    }
}

#[cfg(target_os = "linux")]
const BACKEND: &str = "OS keyring (keyutils + Secret Service)";
#[cfg(any(target_os = "macos", target_os = "ios"))]
const BACKEND: &str = "OS keyring (Keychain)";
#[cfg(target_os = "windows")]
const BACKEND: &str = "OS keyring (Credential Manager)";
#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows"
)))]
const BACKEND: &str = "OS keyring (none on this platform)";

impl KeyringStore {
    /// The platform keyring under `service`, after checking it really keeps secrets: it
    /// refuses a store that forgets them (keyring's mock on platforms it does not support,
    /// kernel keyutils alone) and writes, reads back and deletes a probe entry, because an
    /// unusable keyutils answers `NoEntry` to everything rather than an error.
    pub fn open(service: &str) -> Result<KeyringStore, SecretError> {
        // Built from the platform default explicitly, not through `Entry::new`, so a global
        // builder set elsewhere in the process (e.g. keyring's mock) cannot swap it out.
        let builder = keyring::default::default_credential_builder();
        let persistence = match builder.persistence() {
            CredentialPersistence::UntilDelete => None,
            CredentialPersistence::UntilReboot => Some("until reboot"),
            CredentialPersistence::ProcessOnly => Some("process memory only"),
            CredentialPersistence::EntryOnly => Some("a mock that stores nothing"),
            _ => Some("unknown persistence"),
        };
        if let Some(persistence) = persistence {
            return Err(SecretError::NotPersistent {
                store: BACKEND.into(),
                persistence: persistence.into(),
            });
        }
        let store = KeyringStore {
            service: service.to_string(),
            builder,
        };
        store.probe()?;
        Ok(store)
    }

    fn probe(&self) -> Result<(), SecretError> {
        let unusable = |step: &str, e: &dyn std::fmt::Display| SecretError::Unavailable {
            store: BACKEND.into(),
            message: format!(
                "{step} a probe entry failed ({e}); on Linux the app needs a session keyring \
                 and an unlocked Secret Service (GNOME Keyring or KWallet)"
            ),
        };
        let account = format!("probe/{}", std::process::id());
        let entry = self.entry(&account).map_err(|e| unusable("creating", &e))?;
        let value = b"roost keyring probe";
        entry
            .set_secret(value)
            .map_err(|e| unusable("writing", &e))?;
        let read = entry.get_secret().map_err(|e| unusable("reading", &e));
        // Clean up even when the read failed.
        let deleted = entry
            .delete_credential()
            .map_err(|e| unusable("deleting", &e));
        if read?.as_slice() != value {
            return Err(unusable("reading back", &"a different value came back"));
        }
        deleted
    }

    fn entry(&self, account: &str) -> Result<Entry, KeyringError> {
        let credential = self.builder.build(None, &self.service, account)?;
        Ok(Entry::new_with_credential(credential))
    }

    fn access_error(&self, op: SecretOp, id: &SecretId, e: KeyringError) -> SecretError {
        SecretError::Access {
            store: BACKEND.into(),
            op,
            id: id.clone(),
            message: e.to_string(),
        }
    }
}

impl SecretStore for KeyringStore {
    fn describe(&self) -> String {
        BACKEND.into()
    }

    fn get(&self, id: &SecretId) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        let got = self
            .entry(&id.to_string())
            .and_then(|entry| entry.get_secret());
        match got {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(self.access_error(SecretOp::Get, id, e)),
        }
    }

    fn set(&self, id: &SecretId, value: &[u8]) -> Result<(), SecretError> {
        self.entry(&id.to_string())
            .and_then(|entry| entry.set_secret(value))
            .map_err(|e| self.access_error(SecretOp::Set, id, e))
    }

    fn delete(&self, id: &SecretId) -> Result<(), SecretError> {
        let deleted = self
            .entry(&id.to_string())
            .and_then(|entry| entry.delete_credential());
        match deleted {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(self.access_error(SecretOp::Delete, id, e)),
        }
    }
}
