//! The app on one device, without Tauri: who is signed in, their cache, sync and search. The
//! Tauri commands call these methods and nothing else, so this is what the host tests drive.
//!
//! Two connections to the cache: `reader` serves search and detail; a sync writes through its
//! own connection and, when it changed something, becomes the reader (its in-memory search
//! index is built on the next search). Searches never wait for the network.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use roost_api::Millis;
use roost_api::app::{AppState, SearchQuery, SearchView, SettingsView, SignInForm, SignedIn};
use roost_api::app::{SyncPhase, SyncStatus};
use roost_api::auth::{LoginRequest, MeResponse};
use roost_api::listings::Listing;
use roost_api::users::Role;
use roost_core::photos::{PhotoError, PhotoStore};
use roost_core::secrets::{Account, SecretStore, Session, SessionError, SignOut};
use roost_core::{Cache, CoreError, QueryEmbedder, SearchRequest};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

mod actions;
mod admin;
mod chat;
pub mod model;
use crate::prefs::{Prefs, SavedAccount};

/// The search model: loaded on first need, released after a while without a search
/// ([`model::ModelSlot`]).
pub type EmbedderSlot = model::ModelSlot<roost_embed::Embedder>;

pub struct Device {
    root: PathBuf,
    store: Arc<dyn SecretStore>,
    prefs: Mutex<Prefs>,
    signed: Mutex<Option<Signed>>,
    /// Held for the whole of a sync: one at a time.
    sync_gate: tokio::sync::Mutex<()>,
    status: Mutex<SyncStatus>,
    actions: actions::Drainer,
    embed_config: Option<roost_embed::EmbedConfig>,
    embedder: EmbedderSlot,
    /// A background load of the search model is under way ([`Device::load_search_model`]).
    model_loading: std::sync::atomic::AtomicBool,
    /// The search model's vector space, known after its first load (for settings).
    model_id: OnceLock<String>,
    photo_base: String,
    device_name: String,
}

struct Signed {
    account: Account,
    /// `None` until the server confirmed the stored refresh token (offline starts have none).
    session: Option<Arc<Session>>,
    reader: Arc<Mutex<Cache>>,
    /// Photo files beside the cache, fetched on first view and kept for offline.
    photos: Arc<PhotoStore>,
}

impl Device {
    /// `root` is the app-data folder: caches, prefs and photos live under it.
    pub fn open(
        root: &Path,
        store: Arc<dyn SecretStore>,
        embed_config: Option<roost_embed::EmbedConfig>,
        photo_base: &str,
        default_server: &str,
    ) -> AppResult<Device> {
        std::fs::create_dir_all(root).map_err(|e| AppError::io(root, e))?;
        let mut prefs = Prefs::load(root)?;
        if prefs.server_url.is_empty() {
            prefs.server_url = default_server.to_string();
        }
        let device = Device {
            root: root.to_path_buf(),
            store,
            prefs: Mutex::new(prefs),
            signed: Mutex::new(None),
            sync_gate: tokio::sync::Mutex::new(()),
            status: Mutex::new(SyncStatus::idle()),
            actions: Default::default(),
            embed_config,
            embedder: EmbedderSlot::from_env(),
            model_loading: Default::default(),
            model_id: OnceLock::new(),
            photo_base: photo_base.to_string(),
            device_name: device_name(),
        };
        device.open_saved_account()?;
        Ok(device)
    }

    /// The last signed-in account's cache, opened without network so the app shows its data
    /// at once; the session is restored by the first sync.
    fn open_saved_account(&self) -> AppResult<()> {
        let saved = self.prefs.lock().unwrap().account.clone();
        let Some(saved) = saved else { return Ok(()) };
        let account = saved.account();
        let cache = account.open_cache(&self.root, &*self.store)?;
        let listings = cache.listing_count()?;
        let last = self.prefs.lock().unwrap().last_synced;
        {
            let mut status = self.status.lock().unwrap();
            status.listings = listings;
            status.last_synced = last;
        }
        let server = self.server_url();
        let photos = Arc::new(PhotoStore::new(&cache, &server, "").map_err(photo_error)?);
        *self.signed.lock().unwrap() = Some(Signed {
            account,
            session: None,
            reader: Arc::new(Mutex::new(cache)),
            photos,
        });
        Ok(())
    }

    pub fn state(&self) -> AppResult<AppState> {
        let prefs = self.prefs.lock().unwrap().clone();
        let signed_in = match (&*self.signed.lock().unwrap(), &prefs.account) {
            (Some(signed), Some(saved)) => {
                let config = signed.reader.lock().unwrap().config()?;
                Some(SignedIn {
                    user_id: saved.me.user.id,
                    name: saved.me.user.name.clone(),
                    email: saved.me.user.email.clone(),
                    company_slug: saved.me.tenant.slug.clone(),
                    company_name: saved.me.tenant.company_name.clone(),
                    roles: saved.me.roles.clone(),
                    role: saved.role,
                    config,
                })
            }
            _ => None,
        };
        Ok(AppState {
            server_url: prefs.server_url,
            company: prefs.company,
            email: prefs.email,
            signed_in,
            sync: self.status(),
            photo_base: self.photo_base.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    pub fn status(&self) -> SyncStatus {
        self.status.lock().unwrap().clone()
    }

    pub async fn sign_in(&self, form: SignInForm) -> AppResult<AppState> {
        let server = normalise_server_url(&form.server_url)?;
        let company = form.company.trim().to_lowercase();
        if company.is_empty() {
            return Err(AppError::Input("Enter your company's Roost name.".into()));
        }
        if form.email.trim().is_empty() || form.password.is_empty() {
            return Err(AppError::Input("Enter your email and password.".into()));
        }
        let request = LoginRequest {
            tenant: company.clone(),
            email: form.email.trim().to_string(),
            password: form.password,
            device_name: self.device_name.clone(),
        };
        let session = Session::sign_in(&server, &self.root, Arc::clone(&self.store), &request)
            .await
            .map_err(|e| sign_in_error(e, &server, &company))?;
        let me = session.me().await?;
        let account = session.account().clone();
        let cache = session.open_cache()?;
        let listings = cache.listing_count()?;
        let role = default_role(&me.roles);
        {
            let mut prefs = self.prefs.lock().unwrap();
            let same_user = prefs
                .account
                .as_ref()
                .is_some_and(|a| a.tenant == account.tenant && a.user == account.user);
            prefs.server_url = server;
            prefs.company = company;
            prefs.email = request.email.clone();
            prefs.account = Some(SavedAccount::new(&account, me, role));
            if !same_user {
                prefs.last_synced = None;
            }
            prefs.save(&self.root)?;
        }
        {
            let mut status = self.status.lock().unwrap();
            *status = SyncStatus::idle();
            status.listings = listings;
            status.last_synced = self.prefs.lock().unwrap().last_synced;
        }
        let photos = Arc::new(
            PhotoStore::new(&cache, session.base_url(), &session.access_token())
                .map_err(photo_error)?,
        );
        *self.signed.lock().unwrap() = Some(Signed {
            account,
            session: Some(Arc::new(session)),
            reader: Arc::new(Mutex::new(cache)),
            photos,
        });
        self.state()
    }

    /// Signs out here and, when reachable, on the server; `wipe` also deletes the cache.
    pub async fn sign_out(&self, wipe: bool) -> AppResult<AppState> {
        let _gate = self.sync_gate.lock().await;
        let signed = self.signed.lock().unwrap().take();
        let mode = if wipe {
            SignOut::WipeCache
        } else {
            SignOut::KeepCache
        };
        if let Some(signed) = signed {
            drop(signed.reader);
            if wipe {
                // Before the cache folder goes: it is removed only when empty.
                signed.photos.clear().map_err(photo_error)?;
                let _ = std::fs::remove_dir(signed.photos.dir());
                let _ = std::fs::remove_dir_all(signed.photos.dir().with_file_name("branding"));
            }
            match signed.session.and_then(|s| Arc::try_unwrap(s).ok()) {
                Some(session) => {
                    // The server's answer only matters when it was reachable; either way the
                    // tokens are gone from this device.
                    let _ = session.sign_out(mode).await?;
                }
                None => signed.account.forget(&self.root, &*self.store, mode)?,
            }
        }
        {
            let mut prefs = self.prefs.lock().unwrap();
            prefs.account = None;
            prefs.last_synced = None;
            prefs.save(&self.root)?;
        }
        *self.status.lock().unwrap() = SyncStatus::idle();
        self.state()
    }

    pub fn set_role(&self, role: Role) -> AppResult<AppState> {
        {
            let mut prefs = self.prefs.lock().unwrap();
            let Some(account) = prefs.account.as_mut() else {
                return Err(AppError::SignedOut);
            };
            if !account.me.roles.contains(&role) {
                return Err(AppError::Input(format!(
                    "You do not have the {} role.",
                    role.as_str()
                )));
            }
            account.role = role;
            prefs.save(&self.root)?;
        }
        self.state()
    }

    /// Pulls changes from the server into the cache. `report` sees every status change.
    /// Returns without syncing when a sync is already running. Offline is a status, not an
    /// error: the app keeps working from the cache.
    pub async fn sync(&self, report: &(dyn Fn(&SyncStatus) + Sync)) -> AppResult<SyncStatus> {
        let Ok(_gate) = self.sync_gate.try_lock() else {
            return Ok(self.status());
        };
        let (account, session) = {
            let signed = self.signed.lock().unwrap();
            let Some(signed) = signed.as_ref() else {
                return Err(AppError::SignedOut);
            };
            (signed.account.clone(), signed.session.clone())
        };
        self.update_status(report, |s| {
            s.phase = SyncPhase::Connecting;
            s.pages = 0;
            s.changes = 0;
            s.bytes = 0;
            s.remaining = None;
            s.message = None;
        });
        let result = self.sync_inner(&account, session, report).await;
        match result {
            Ok(status) => Ok(status),
            Err(e) => {
                let offline = e.is_offline();
                let signed_out = matches!(e, AppError::SignedOut);
                let message = e.to_string();
                self.update_status(report, |s| {
                    s.phase = SyncPhase::Failed;
                    s.online = !offline;
                    s.message = Some(message.clone());
                });
                if signed_out {
                    // The server refused this device's token: sign-in is needed, the cache
                    // stays for when it happens.
                    *self.signed.lock().unwrap() = None;
                    let mut prefs = self.prefs.lock().unwrap();
                    prefs.account = None;
                    prefs.save(&self.root)?;
                }
                if offline { Ok(self.status()) } else { Err(e) }
            }
        }
    }

    /// The signed-in session, restored from the stored refresh token when this start had
    /// none yet (it needs the server).
    async fn live_session(
        &self,
        account: &Account,
        session: Option<Arc<Session>>,
    ) -> AppResult<Arc<Session>> {
        if let Some(s) = session {
            return Ok(s);
        }
        let server = self.prefs.lock().unwrap().server_url.clone();
        let restored =
            Session::restore(&server, &self.root, Arc::clone(&self.store), account).await?;
        let Some(session) = restored else {
            return Err(AppError::SignedOut);
        };
        let session = Arc::new(session);
        if let Some(signed) = self.signed.lock().unwrap().as_mut() {
            signed.session = Some(Arc::clone(&session));
        }
        Ok(session)
    }

    async fn sync_inner(
        &self,
        account: &Account,
        session: Option<Arc<Session>>,
        report: &(dyn Fn(&SyncStatus) + Sync),
    ) -> AppResult<SyncStatus> {
        let session = self.live_session(account, session).await?;
        // Roles may have changed on the server since sign-in.
        let me = session.me().await?;
        self.remember_me(me)?;

        let mut writer = session.open_cache()?;
        let mut client = session.sync_client()?;
        if let Some(size) = std::env::var("ROOST_SYNC_PAGE_SIZE")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            client = client.with_page_size(size);
        }
        self.update_status(report, |s| {
            s.online = true;
            s.phase = SyncPhase::Downloading;
        });
        let sync = client
            .sync(&mut writer, |p| {
                self.update_status(report, |s| {
                    s.pages = p.pages;
                    s.changes = p.changes;
                    s.bytes = p.bytes;
                    s.remaining = p.remaining;
                    if p.phase == roost_core::SyncPhase::Resyncing {
                        s.phase = SyncPhase::Resyncing;
                    }
                });
                std::ops::ControlFlow::Continue(())
            })
            .await;
        session.check_store()?;
        let done = sync?;
        let listings = writer.listing_count()?;
        let photos = self.photo_store()?;
        photos.set_access_token(&session.access_token());
        if done.changes > 0 || done.resynced {
            // Photos of listings that left the device go with them.
            if let Err(e) = photos.prune(&writer) {
                tracing::warn!("photo prune: {e}");
            }
            if let Some(signed) = self.signed.lock().unwrap().as_mut() {
                signed.reader = Arc::new(Mutex::new(writer));
            }
        }
        let now = now_millis();
        {
            let mut prefs = self.prefs.lock().unwrap();
            prefs.last_synced = Some(now);
            prefs.save(&self.root)?;
        }
        Ok(self.update_status(report, |s| {
            s.phase = SyncPhase::Done;
            s.online = true;
            s.last_synced = Some(now);
            s.listings = listings;
            s.message = None;
        }))
    }

    fn remember_me(&self, me: MeResponse) -> AppResult<()> {
        let mut prefs = self.prefs.lock().unwrap();
        if let Some(account) = prefs.account.as_mut() {
            if !me.roles.contains(&account.role) {
                account.role = default_role(&me.roles);
            }
            account.me = me;
            prefs.save(&self.root)?;
        }
        Ok(())
    }

    fn update_status(
        &self,
        report: &(dyn Fn(&SyncStatus) + Sync),
        change: impl FnOnce(&mut SyncStatus),
    ) -> SyncStatus {
        let snapshot = {
            let mut status = self.status.lock().unwrap();
            change(&mut status);
            status.clone()
        };
        report(&snapshot);
        snapshot
    }

    /// Marks the server unreachable without trying a sync (a failed probe).
    pub fn set_online(&self, online: bool, report: &(dyn Fn(&SyncStatus) + Sync)) {
        if self.status.lock().unwrap().online != online {
            self.update_status(report, |s| s.online = online);
        }
    }

    pub fn server_url(&self) -> String {
        self.prefs.lock().unwrap().server_url.clone()
    }

    pub fn is_signed_in(&self) -> bool {
        self.signed.lock().unwrap().is_some()
    }

    fn reader(&self) -> AppResult<Arc<Mutex<Cache>>> {
        self.signed
            .lock()
            .unwrap()
            .as_ref()
            .map(|s| Arc::clone(&s.reader))
            .ok_or(AppError::SignedOut)
    }

    /// Loads the search model if it is not loaded (a fraction of a second) and marks it used;
    /// `None` without one (search then works by keywords and filters).
    pub fn embedder(&self) -> Option<Arc<roost_embed::Embedder>> {
        let config = self.embed_config.as_ref()?;
        let embedder = self
            .embedder
            .get_or_load(|| {
                roost_embed::Embedder::load(config).map_err(|e| {
                    tracing::warn!("search model: {e}");
                    e.to_string()
                })
            })
            .ok()?;
        let _ = self.model_id.set(embedder.model_id().to_string());
        Some(embedder)
    }

    /// Loads the search model on a thread of its own, unless a background load is under way
    /// already (however many searches ask); `ready` runs once it is loaded.
    pub fn load_search_model(self: &Arc<Self>, ready: impl FnOnce() + Send + 'static) {
        use std::sync::atomic::Ordering;
        if self.model_loading.swap(true, Ordering::AcqRel) {
            return;
        }
        let device = Arc::clone(self);
        std::thread::spawn(move || {
            let loaded = device.embedder().is_some();
            device.model_loading.store(false, Ordering::Release);
            if loaded {
                ready();
            }
        });
    }

    /// Releases the search model when no search used it for a while (see [`model`]); true when
    /// it did. The shell calls it every [`Device::model_check_period`].
    pub fn release_idle_model(&self) -> bool {
        self.embedder.release_if_idle()
    }

    /// How often [`Device::release_idle_model`] is worth calling.
    pub fn model_check_period(&self) -> std::time::Duration {
        (self.embedder.idle() / 4).clamp(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(30),
        )
    }

    /// Loads the signed-in cache's search index if it is not loaded (what the first search
    /// would otherwise wait for).
    pub fn warm_search_index(&self) {
        let Ok(reader) = self.reader() else { return };
        if let Err(e) = reader.lock().unwrap().vector_index() {
            tracing::warn!("loading the search index: {e}");
        }
    }

    pub fn search(&self, query: &SearchQuery) -> AppResult<SearchView> {
        let started = Instant::now();
        // Only words need the model: a filter-only search neither loads nor keeps it. A search
        // never waits for it to load (~0.3–0.6 s): it ranks by words and filters meanwhile and
        // says so, and the caller loads the model and has the UI ask again.
        let (embedder, model_loading) = if query.text.trim().is_empty() {
            (None, false)
        } else {
            match self.embedder.loaded() {
                Some(e) => (Some(e), false),
                None => (None, self.embed_config.is_some() && !self.embedder.failed()),
            }
        };
        let reader = self.reader()?;
        let mut cache = reader.lock().unwrap();
        let request = SearchRequest {
            text: query.text.clone(),
            filters: query.filters.clone(),
            limit: query.limit.clamp(1, 100),
        };
        let embedder = embedder.as_deref().map(|e| e as &dyn QueryEmbedder);
        let mut results = cache.search_page(&request, query.offset, embedder)?;
        if model_loading && results.ranking.semantic_unavailable.is_none() {
            results.ranking.semantic_unavailable = Some("the search model is loading".into());
        }
        let facets = cache.facets(&results.filters)?;
        Ok(SearchView {
            results,
            facets,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
            model_loading,
        })
    }

    /// The listings with these ids that are on the device, in the order asked.
    pub fn listings(&self, ids: &[Uuid]) -> AppResult<Vec<Listing>> {
        let reader = self.reader()?;
        let cache = reader.lock().unwrap();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids.iter().take(200) {
            if let Some(l) = cache.listing(*id)? {
                out.push(l);
            }
        }
        Ok(out)
    }

    pub fn listing(&self, id: Uuid) -> AppResult<Listing> {
        let reader = self.reader()?;
        let cache = reader.lock().unwrap();
        cache
            .listing(id)?
            .ok_or_else(|| AppError::NotFound("This listing is no longer on this device.".into()))
    }

    pub async fn settings(&self) -> AppResult<SettingsView> {
        let (session, photos, cache_path, listings) = {
            let signed = self.signed.lock().unwrap();
            let signed = signed.as_ref().ok_or(AppError::SignedOut)?;
            let cache = signed.reader.lock().unwrap();
            (
                signed.session.clone(),
                Arc::clone(&signed.photos),
                cache.path().to_path_buf(),
                cache.listing_count()?,
            )
        };
        let (devices, devices_message) = match session {
            Some(s) => match s.devices().await {
                Ok(d) => (d, None),
                Err(e) => (vec![], Some(AppError::from(e).to_string())),
            },
            None => (
                vec![],
                Some("Connect to the server to see your devices.".into()),
            ),
        };
        Ok(SettingsView {
            server_url: self.server_url(),
            cache_bytes: cache_files_size(&cache_path),
            photo_bytes: photos.bytes_used().unwrap_or(0),
            listings,
            cache_path: cache_path.display().to_string(),
            search_model: self
                .model_id
                .get()
                .cloned()
                .or_else(|| self.embedder().map(|e| e.model_id().to_string())),
            devices,
            devices_message,
        })
    }

    /// Empties the cache (and photos); the next sync downloads everything again.
    pub fn clear_cache(&self) -> AppResult<()> {
        let photos = {
            let signed = self.signed.lock().unwrap();
            let signed = signed.as_ref().ok_or(AppError::SignedOut)?;
            signed.reader.lock().unwrap().reset()?;
            Arc::clone(&signed.photos)
        };
        photos.clear().map_err(photo_error)?;
        let mut status = self.status.lock().unwrap();
        status.listings = 0;
        status.last_synced = None;
        let mut prefs = self.prefs.lock().unwrap();
        prefs.last_synced = None;
        prefs.save(&self.root)
    }

    fn photo_store(&self) -> AppResult<Arc<PhotoStore>> {
        self.signed
            .lock()
            .unwrap()
            .as_ref()
            .map(|s| Arc::clone(&s.photos))
            .ok_or(AppError::SignedOut)
    }

    /// Photo `n` of a listing: from the device, else fetched once and kept for offline.
    pub async fn photo(&self, listing: Uuid, n: usize) -> AppResult<(Vec<u8>, &'static str)> {
        let (reference, photos) = {
            let signed = self.signed.lock().unwrap();
            let signed = signed.as_ref().ok_or(AppError::SignedOut)?;
            let reference = signed.reader.lock().unwrap().listing_photo(listing, n)?;
            if let Some(session) = &signed.session {
                signed.photos.set_access_token(&session.access_token());
            }
            (reference, Arc::clone(&signed.photos))
        };
        let reference = reference
            .ok_or_else(|| AppError::NotFound(format!("listing {listing} has no photo {n}")))?;
        read_photo(&photos, &reference).await
    }

    /// Downloads the first photo of every listing not on the device yet, so result cards
    /// show pictures at a viewing with no signal. The other photos wait for a first look.
    pub async fn prefetch_covers(&self) -> AppResult<u64> {
        let (covers, photos) = {
            let signed = self.signed.lock().unwrap();
            let signed = signed.as_ref().ok_or(AppError::SignedOut)?;
            let cache = signed.reader.lock().unwrap();
            let mut covers = vec![];
            for id in cache.listing_ids()? {
                if let Some(r) = cache.listing_photo(id, 0)? {
                    covers.push(r);
                }
            }
            if let Some(session) = &signed.session {
                signed.photos.set_access_token(&session.access_token());
            }
            (covers, Arc::clone(&signed.photos))
        };
        let report = photos
            .prefetch(&covers, 0, |_| std::ops::ControlFlow::Continue(()))
            .await;
        Ok(report.fetched)
    }

    /// The tenant's logo, kept beside the cache so branding shows offline.
    pub async fn logo(&self) -> AppResult<(Vec<u8>, &'static str)> {
        let (logo, photos) = {
            let signed = self.signed.lock().unwrap();
            let signed = signed.as_ref().ok_or(AppError::SignedOut)?;
            let config = signed.reader.lock().unwrap().config()?;
            (
                config.and_then(|c| c.config.company_info.logo_url),
                Arc::clone(&signed.photos),
            )
        };
        let logo = logo.ok_or_else(|| AppError::NotFound("the company has no logo".into()))?;
        // Its own folder: the photo folder is pruned down to what listings reference.
        let branding = photos.dir().with_file_name("branding");
        let store = PhotoStore::in_dir(branding, &self.server_url(), "").map_err(photo_error)?;
        read_photo(&store, &logo).await
    }
}

async fn read_photo(photos: &PhotoStore, reference: &str) -> AppResult<(Vec<u8>, &'static str)> {
    let (bytes, kind) = photos.read(reference).await.map_err(photo_error)?;
    Ok((bytes, kind.mime()))
}

fn photo_error(e: PhotoError) -> AppError {
    match e {
        PhotoError::NotFound { .. } | PhotoError::BadReference { .. } => {
            AppError::NotFound(e.to_string())
        }
        PhotoError::Offline { url, .. } => AppError::Offline { server: url },
        PhotoError::Cache(c) => c.into(),
        other => AppError::Other(other.to_string()),
    }
}

/// Agents are the most common users; a user with several roles starts in the broadest.
fn default_role(roles: &[Role]) -> Role {
    for r in [Role::Admin, Role::Manager, Role::Agent] {
        if roles.contains(&r) {
            return r;
        }
    }
    Role::Agent
}

/// `roost.example.com` → `https://roost.example.com`; loopback may use plain http.
pub fn normalise_server_url(input: &str) -> AppResult<String> {
    let input = input.trim();
    if input.is_empty() {
        return Err(AppError::Input("Enter the server address.".into()));
    }
    let not_an_address = || {
        AppError::Input(format!(
            "“{input}” is not a server address (e.g. https://roost.example.com)."
        ))
    };
    let with_scheme = if input.contains("://") {
        input.to_string()
    } else {
        format!("https://{input}")
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|_| not_an_address())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(not_an_address());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn sign_in_error(e: SessionError, server: &str, company: &str) -> AppError {
    match e {
        SessionError::Core(CoreError::Server { status: 404, .. }) => AppError::Input(format!(
            "There is no company called “{company}” on {server}. Check the company name."
        )),
        SessionError::Core(CoreError::Server { status: 401, .. }) => {
            AppError::Input("Wrong email or password.".into())
        }
        SessionError::Core(CoreError::Server { status: 403, .. }) => {
            AppError::Input("This account is deactivated. Ask your admin.".into())
        }
        SessionError::Core(CoreError::Server { status: 429, .. }) => {
            AppError::Input("Too many sign-in attempts. Wait a minute and try again.".into())
        }
        other => AppError::from(other),
    }
}

fn device_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    match host {
        Some(h) => format!("Roost desktop on {h}"),
        None => "Roost desktop".to_string(),
    }
}

pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// The database file with its WAL and shared-memory files.
fn cache_files_size(db: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(PathBuf::from(p)).ok()
        })
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_get_a_scheme_and_lose_the_trailing_slash() {
        assert_eq!(
            normalise_server_url(" roost.example.com/ ").unwrap(),
            "https://roost.example.com"
        );
        assert_eq!(
            normalise_server_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in ["", "ftp://x.example", "http://", "not a url at all"] {
            assert!(normalise_server_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_broadest_role_is_the_default() {
        assert_eq!(default_role(&[Role::Agent, Role::Manager]), Role::Manager);
        assert_eq!(default_role(&[Role::Agent]), Role::Agent);
        assert_eq!(default_role(&[]), Role::Agent);
    }
}
