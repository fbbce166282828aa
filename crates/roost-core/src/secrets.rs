//! Secrets of a signed-in device user: the key of the encrypted cache and the refresh token.
//!
//! They live behind [`SecretStore`] so each platform can keep them in its own keystore: the
//! OS keyring on desktop ([`KeyringStore`]), the Android Keystore or iOS Keychain on mobile
//! (plugged in by the app). Nothing here falls back to a weaker store on its own: a keyring
//! that cannot hold secrets is an error the app has to show, because a silently forgotten key
//! makes the cache unreadable and a silently forgotten refresh token signs the user out.

mod keyring_store;
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
mod session;

use std::fmt;

use zeroize::{Zeroize as _, Zeroizing};

pub use keyring_store::{DEFAULT_SERVICE, KeyringStore};
pub use session::{Account, Asked, Session, SessionError, SignOut};

/// What a secret is for; one of each per tenant and user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretName {
    /// The 32-byte SQLCipher key of the device cache.
    CacheKey,
    /// The device's current refresh token (it rotates on every use).
    RefreshToken,
}

impl SecretName {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretName::CacheKey => "cache-key",
            SecretName::RefreshToken => "refresh-token",
        }
    }
}

/// A secret's address: tenant and user as the cache folders name them, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretId {
    pub tenant: String,
    pub user: String,
    pub name: SecretName,
}

impl SecretId {
    pub fn new(tenant: &str, user: &str, name: SecretName) -> SecretId {
        SecretId {
            tenant: tenant.to_string(),
            user: user.to_string(),
            name,
        }
    }
}

/// `tenant/user/name`: the account name under which a keystore files the secret.
impl fmt::Display for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.tenant, self.user, self.name.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretOp {
    Get,
    Set,
    Delete,
}

impl fmt::Display for SecretOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecretOp::Get => "read",
            SecretOp::Set => "store",
            SecretOp::Delete => "delete",
        })
    }
}

/// What went wrong with a keystore. Messages name the store, the secret and the operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The store exists on this platform but cannot be used right now (no session keyring, no
    /// Secret Service on the bus, a locked keychain).
    #[error("the {store} is not usable: {message}")]
    Unavailable { store: String, message: String },
    /// The store would forget secrets (a mock, or one that lasts only until reboot).
    #[error(
        "the {store} does not keep secrets across restarts ({persistence}); refusing to use it"
    )]
    NotPersistent { store: String, persistence: String },
    #[error("could not {op} the secret {id} in the {store}: {message}")]
    Access {
        store: String,
        op: SecretOp,
        id: SecretId,
        message: String,
    },
    #[error("the secret {id} in the {store} is malformed: {message}")]
    Malformed {
        store: String,
        id: SecretId,
        message: String,
    },
}

/// Named secrets per tenant and user. `delete` of a missing secret is not an error, so
/// sign-out can be repeated after a partial failure.
pub trait SecretStore: Send + Sync {
    /// A short human name for messages, e.g. "OS keyring (Secret Service)".
    fn describe(&self) -> String;
    fn get(&self, id: &SecretId) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError>;
    fn set(&self, id: &SecretId, value: &[u8]) -> Result<(), SecretError>;
    fn delete(&self, id: &SecretId) -> Result<(), SecretError>;
}

/// Key length of SQLCipher's raw-key form: 256 bits, used as the AES key directly (no PBKDF2,
/// which exists for passphrases and would add ~0.5 s to every open).
pub const CACHE_KEY_LEN: usize = 32;

/// The raw key of one device cache. Wiped from memory on drop and never printed.
#[derive(Clone)]
pub struct CacheKey([u8; CACHE_KEY_LEN]);

impl CacheKey {
    pub fn from_bytes(bytes: [u8; CACHE_KEY_LEN]) -> CacheKey {
        CacheKey(bytes)
    }

    /// 32 bytes from the OS random source.
    pub fn generate() -> Result<CacheKey, SecretError> {
        use rand::TryRngCore;
        let mut key = [0u8; CACHE_KEY_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut key)
            .map_err(|e| SecretError::Unavailable {
                store: "OS random number generator".into(),
                message: e.to_string(),
            })?;
        Ok(CacheKey(key))
    }

    /// The key of `tenant`/`user`'s cache, generated and stored on first use. The second
    /// value is true when the key was just created: an existing cache file was then written
    /// under a key that is gone, and can only be discarded.
    pub fn load_or_create(
        store: &dyn SecretStore,
        tenant: &str,
        user: &str,
    ) -> Result<(CacheKey, bool), SecretError> {
        let id = SecretId::new(tenant, user, SecretName::CacheKey);
        if let Some(bytes) = store.get(&id)? {
            let key: [u8; CACHE_KEY_LEN] =
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| SecretError::Malformed {
                        store: store.describe(),
                        id: id.clone(),
                        message: format!("{} bytes instead of {CACHE_KEY_LEN}", bytes.len()),
                    })?;
            return Ok((CacheKey(key), false));
        }
        let key = CacheKey::generate()?;
        store.set(&id, &key.0)?;
        Ok((key, true))
    }

    /// The key of the photo files beside the cache: derived from this one under its own
    /// label, so neither key reveals the other's use.
    pub(crate) fn photo_key(&self) -> Zeroizing<[u8; 32]> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"roost photo files v1\0");
        h.update(self.0);
        Zeroizing::new(h.finalize().into())
    }

    /// The `PRAGMA key` statement for this key in SQLCipher's raw form (`x'…'`), so the bytes
    /// are the key itself rather than a passphrase to derive one from.
    pub(crate) fn pragma(&self) -> Zeroizing<String> {
        use std::fmt::Write;
        let mut sql = Zeroizing::new(String::with_capacity(20 + 2 * CACHE_KEY_LEN));
        sql.push_str("PRAGMA key = \"x'");
        for b in self.0 {
            let _ = write!(sql, "{b:02X}");
        }
        sql.push_str("'\";");
        sql
    }
}

impl Drop for CacheKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CacheKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::memory::MemoryStore;
    use super::*;

    #[test]
    fn the_cache_key_is_created_once_then_reused() {
        let store = MemoryStore::default();
        let (first, created) = CacheKey::load_or_create(&store, "t", "u").unwrap();
        assert!(created);
        let (again, created) = CacheKey::load_or_create(&store, "t", "u").unwrap();
        assert!(!created);
        assert_eq!(first.0, again.0);
        let (other, _) = CacheKey::load_or_create(&store, "t", "someone-else").unwrap();
        assert_ne!(first.0, other.0, "one key per user");
    }

    #[test]
    fn a_malformed_stored_key_is_reported_not_replaced() {
        let store = MemoryStore::default();
        let id = SecretId::new("t", "u", SecretName::CacheKey);
        store.set(&id, b"short").unwrap();
        let err = CacheKey::load_or_create(&store, "t", "u").unwrap_err();
        assert!(err.to_string().contains("t/u/cache-key"), "{err}");
        assert_eq!(store.get(&id).unwrap().unwrap().as_slice(), b"short");
    }

    #[test]
    fn the_pragma_uses_the_raw_key_form_and_the_key_never_prints() {
        let key = CacheKey::from_bytes([0xAB; CACHE_KEY_LEN]);
        let sql = key.pragma();
        assert_eq!(
            sql.as_str(),
            format!("PRAGMA key = \"x'{}'\";", "AB".repeat(32))
        );
        assert_eq!(format!("{key:?}"), "CacheKey([redacted])");
    }
}
