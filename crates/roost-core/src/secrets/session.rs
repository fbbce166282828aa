//! A signed-in device user: sign-in keeps the refresh token in the [`SecretStore`], start-up
//! restores the session from it, sign-out deletes it (and on request the cache and its key).
//!
//! The store, not this struct, holds the current refresh token: it rotates on every use and a
//! spent one presented again makes the server revoke the device, so every refresh reads it
//! from the store and writes the new one back before anything else.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use roost_api::auth::{Device, LoginRequest, MeResponse, RefreshRequest, TokenResponse};
use roost_api::{API_PREFIX, API_VERSION, API_VERSION_HEADER, ErrorBody};
use serde::de::DeserializeOwned;

mod actions;
mod admin;
mod chat;

pub use chat::Asked;

use super::{CacheKey, SecretError, SecretId, SecretName, SecretStore};
use crate::cache::{self, Cache};
use crate::client::{SyncClient, Tokens};
use crate::error::CoreError;

/// Whose session and cache: the tenant's and user's ids as the server issues them. The app
/// remembers it (it is not secret) to restore the session and open the cache offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub tenant: String,
    pub user: String,
}

/// What sign-out removes besides the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOut {
    /// Keep the cache and its key: signing in again as the same user reuses the data.
    KeepCache,
    /// Delete the cache key, then the cache files: the data is gone even where a deleted
    /// file's blocks survive on disk.
    WipeCache,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("could not remove the device cache {}: {source}", path.display())]
    RemoveCache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

type SessionResult<T> = Result<T, SessionError>;

impl Account {
    fn secret(&self, name: SecretName) -> SecretId {
        SecretId::new(&self.tenant, &self.user, name)
    }

    /// Opens this account's encrypted cache under `root` with its key from `store`, creating
    /// the key on first use. Needs no network, so the app can show data before any sign-in
    /// check. A cache that can no longer be decrypted (its key was created just now, or it is
    /// a plain SQLite file from before encryption) is deleted first: it is only a copy of the
    /// server's data and the next sync fills it again.
    pub fn open_cache(&self, root: &Path, store: &dyn SecretStore) -> SessionResult<Cache> {
        let path = cache::cache_dir(root, &self.tenant, &self.user)?.join(cache::CACHE_FILE);
        let (key, created) = CacheKey::load_or_create(store, &self.tenant, &self.user)?;
        if created || cache::is_plain_sqlite(&path) {
            cache::remove_cache_files(&path)
                .map_err(|source| SessionError::RemoveCache { path, source })?;
        }
        Ok(Cache::open_encrypted(root, &self.tenant, &self.user, &key)?)
    }

    /// Sign-out on this device without the server: deletes the refresh token and, with
    /// [`SignOut::WipeCache`], the cache key and files. Idempotent. The cache must be closed.
    pub fn forget(&self, root: &Path, store: &dyn SecretStore, mode: SignOut) -> SessionResult<()> {
        store.delete(&self.secret(SecretName::RefreshToken))?;
        if mode == SignOut::WipeCache {
            store.delete(&self.secret(SecretName::CacheKey))?;
            let dir = cache::cache_dir(root, &self.tenant, &self.user)?;
            cache::remove_cache_files(&dir.join(cache::CACHE_FILE)).map_err(|source| {
                SessionError::RemoveCache {
                    path: dir.clone(),
                    source,
                }
            })?;
            // The folder itself only if empty: never delete what we did not write.
            let _ = std::fs::remove_dir(&dir);
        }
        Ok(())
    }
}

/// A signed-in user on this device.
pub struct Session {
    http: reqwest::Client,
    base: String,
    root: PathBuf,
    account: Account,
    store: Arc<dyn SecretStore>,
    /// The access token, shared with sync clients that refresh it.
    access: Arc<Mutex<String>>,
    /// A refresh token a sync client received but could not store: reported by
    /// [`Session::check_store`] because the next start-up would present a spent token.
    lost_refresh: Arc<Mutex<Option<SecretError>>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("base", &self.base)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Signs in (`POST /auth/login`), asks the server who this is (`GET /me`) and stores the
    /// refresh token. `root` is the folder the caches live in.
    pub async fn sign_in(
        base_url: &str,
        root: &Path,
        store: Arc<dyn SecretStore>,
        request: &LoginRequest,
    ) -> SessionResult<Session> {
        let tokens = SyncClient::login(base_url, request).await?;
        let mut session = Session::new(
            base_url,
            root,
            store,
            Account {
                tenant: String::new(),
                user: String::new(),
            },
        )?;
        *session.access.lock().unwrap() = tokens.access_token.clone();
        let me: MeResponse = session.call(Method::GET, "/me", None).await?;
        session.account = Account {
            tenant: me.tenant.id.to_string(),
            user: me.user.id.to_string(),
        };
        session.keep_refresh_token(&tokens)?;
        Ok(session)
    }

    /// The session of `account` from its stored refresh token, spent at once for a fresh pair
    /// (`POST /auth/refresh`). `Ok(None)`: nobody is signed in. When the server refuses the
    /// token the stored one is deleted and the error is [`CoreError::SignedOut`]; when it
    /// cannot be reached the token stays for the next try (open the cache offline meanwhile).
    pub async fn restore(
        base_url: &str,
        root: &Path,
        store: Arc<dyn SecretStore>,
        account: &Account,
    ) -> SessionResult<Option<Session>> {
        let id = account.secret(SecretName::RefreshToken);
        if store.get(&id)?.is_none() {
            return Ok(None);
        }
        let session = Session::new(base_url, root, store, account.clone())?;
        session.refresh().await?;
        Ok(Some(session))
    }

    fn new(
        base_url: &str,
        root: &Path,
        store: Arc<dyn SecretStore>,
        account: Account,
    ) -> SessionResult<Session> {
        let base = base_url.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|source| CoreError::Http {
                url: base.clone(),
                source,
            })?;
        Ok(Session {
            http,
            base,
            root: root.to_path_buf(),
            account,
            store,
            access: Arc::new(Mutex::new(String::new())),
            lost_refresh: Arc::new(Mutex::new(None)),
        })
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    /// This user's encrypted cache (see [`Account::open_cache`]).
    pub fn open_cache(&self) -> SessionResult<Cache> {
        self.account.open_cache(&self.root, &*self.store)
    }

    /// A sync client for this session. It refreshes tokens on its own; each new refresh
    /// token goes to the store the moment it arrives.
    pub fn sync_client(&self) -> SessionResult<SyncClient> {
        let refresh = self.stored_refresh_token()?;
        let access = self.access.lock().unwrap().clone();
        let store = Arc::clone(&self.store);
        let id = self.account.secret(SecretName::RefreshToken);
        let shared_access = Arc::clone(&self.access);
        let lost = Arc::clone(&self.lost_refresh);
        let client = SyncClient::new(&self.base, Tokens { access, refresh })?;
        Ok(client.on_token_refresh(move |t: &TokenResponse| {
            *shared_access.lock().unwrap() = t.access_token.clone();
            if let Err(e) = store.set(&id, t.refresh_token.as_bytes()) {
                *lost.lock().unwrap() = Some(e);
            }
        }))
    }

    /// Fails if a sync client could not store a new refresh token; the user will have to
    /// sign in again after the next restart.
    pub fn check_store(&self) -> SessionResult<()> {
        match self.lost_refresh.lock().unwrap().take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Signs out: revokes the device on the server when it can be reached, then deletes the
    /// tokens here (and with [`SignOut::WipeCache`] the cache and its key) whatever the
    /// server said. Returns the server's error, if any, for the app to mention; the local
    /// part failing is the error. Drop the cache before wiping it.
    pub async fn sign_out(self, mode: SignOut) -> SessionResult<Option<SessionError>> {
        let server = self.logout_on_server().await.err();
        self.account.forget(&self.root, &*self.store, mode)?;
        Ok(server)
    }

    async fn logout_on_server(&self) -> SessionResult<()> {
        match self
            .call::<serde::de::IgnoredAny>(Method::POST, "/auth/logout", None)
            .await
        {
            Err(CoreError::Server { status: 401, .. }) => {
                // The access token expired: one refresh, then again.
                self.refresh().await?;
                self.call::<serde::de::IgnoredAny>(Method::POST, "/auth/logout", None)
                    .await?;
                Ok(())
            }
            other => Ok(other.map(drop)?),
        }
    }

    /// Who is signed in, with the roles the server gives them now (`GET /me`).
    pub async fn me(&self) -> SessionResult<MeResponse> {
        self.get("/me").await
    }

    /// The user's signed-in devices (`GET /me/devices`).
    pub async fn devices(&self) -> SessionResult<Vec<Device>> {
        self.get("/me/devices").await
    }

    /// The current access token, for requests the app makes itself (photos).
    pub fn access_token(&self) -> String {
        self.access.lock().unwrap().clone()
    }

    /// The server's origin this session talks to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A GET with the access token, refreshed once if it expired.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> SessionResult<T> {
        match self.call(Method::GET, path, None).await {
            Err(CoreError::Server { status: 401, .. }) => {
                self.refresh().await?;
                Ok(self.call(Method::GET, path, None).await?)
            }
            other => Ok(other?),
        }
    }

    fn stored_refresh_token(&self) -> SessionResult<Option<String>> {
        let id = self.account.secret(SecretName::RefreshToken);
        let Some(bytes) = self.store.get(&id)? else {
            return Ok(None);
        };
        String::from_utf8(bytes.to_vec()).map(Some).map_err(|_| {
            SecretError::Malformed {
                store: self.store.describe(),
                id,
                message: "not UTF-8".into(),
            }
            .into()
        })
    }

    fn keep_refresh_token(&self, tokens: &TokenResponse) -> SessionResult<()> {
        *self.access.lock().unwrap() = tokens.access_token.clone();
        let id = self.account.secret(SecretName::RefreshToken);
        Ok(self.store.set(&id, tokens.refresh_token.as_bytes())?)
    }

    async fn refresh(&self) -> SessionResult<()> {
        let Some(refresh_token) = self.stored_refresh_token()? else {
            return Err(CoreError::SignedOut("no refresh token stored".into()).into());
        };
        let body = serde_json::to_value(RefreshRequest { refresh_token }).unwrap_or_default();
        match self
            .call::<TokenResponse>(Method::POST, "/auth/refresh", Some(body))
            .await
        {
            Ok(tokens) => self.keep_refresh_token(&tokens),
            Err(CoreError::Server {
                status: 401,
                message,
                ..
            }) => {
                // Spent, expired or revoked: it will never work again.
                self.store
                    .delete(&self.account.secret(SecretName::RefreshToken))?;
                Err(CoreError::SignedOut(message).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One API call with the current access token (none for `/auth/refresh`).
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, CoreError> {
        let url = format!("{}{API_PREFIX}{path}", self.base);
        let mut rb = self
            .http
            .request(method, &url)
            .header(API_VERSION_HEADER, API_VERSION.to_string());
        match body {
            Some(b) => rb = rb.json(&b),
            None => rb = rb.bearer_auth(self.access.lock().unwrap().as_str()),
        }
        let http_err = |source| CoreError::Http {
            url: url.clone(),
            source,
        };
        let resp = rb.send().await.map_err(http_err)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(http_err)?;
        if !status.is_success() {
            let message = match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(b) => format!("{:?}: {}", b.error.code, b.error.message),
                Err(_) => String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            };
            return Err(CoreError::Server {
                url,
                status: status.as_u16(),
                message,
            });
        }
        let bytes = if status == StatusCode::NO_CONTENT {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(bytes).map_err(|e| CoreError::BadResponse {
            url,
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::memory::MemoryStore;
    use super::*;

    fn account() -> Account {
        Account {
            tenant: "t".into(),
            user: "u".into(),
        }
    }

    #[test]
    fn the_cache_opens_again_with_the_stored_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::default();
        let cache = account().open_cache(dir.path(), &store).unwrap();
        let path = cache.path().to_path_buf();
        drop(cache);
        assert!(!cache::is_plain_sqlite(&path));
        account().open_cache(dir.path(), &store).unwrap();
    }

    #[test]
    fn a_cache_whose_key_is_gone_or_that_is_plain_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::default();
        drop(Cache::open(dir.path(), "t", "u").unwrap());
        let cache = account().open_cache(dir.path(), &store).unwrap();
        assert!(!cache::is_plain_sqlite(cache.path()));
        drop(cache);
        // The keyring lost the key: the old file is unreadable, so it is started afresh.
        store
            .delete(&account().secret(SecretName::CacheKey))
            .unwrap();
        account().open_cache(dir.path(), &store).unwrap();
    }

    #[test]
    fn forgetting_removes_the_token_and_on_request_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::default();
        let token = account().secret(SecretName::RefreshToken);
        let key = account().secret(SecretName::CacheKey);
        store.set(&token, b"t.secret").unwrap();
        let path = account()
            .open_cache(dir.path(), &store)
            .unwrap()
            .path()
            .to_path_buf();

        account()
            .forget(dir.path(), &store, SignOut::KeepCache)
            .unwrap();
        assert!(store.get(&token).unwrap().is_none());
        assert!(store.get(&key).unwrap().is_some() && path.exists());

        account()
            .forget(dir.path(), &store, SignOut::WipeCache)
            .unwrap();
        assert!(store.get(&key).unwrap().is_none());
        assert!(!path.exists() && !path.parent().unwrap().exists());
        // Again, with nothing left: still fine.
        account()
            .forget(dir.path(), &store, SignOut::WipeCache)
            .unwrap();
    }
}
