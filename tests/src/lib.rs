//! Test harness: a real Roost server on 127.0.0.1:0 over a real database (a fresh SQLite
//! file, or a fresh PostgreSQL database when `ROOST_TEST_POSTGRES_URL` is set), and a small
//! HTTP client for it; [`faults`], a proxy that cuts, drops or stalls what passes between a
//! device and the server; [`synthetic`], vectors without running the model; [`desktop`], the
//! built desktop app in its real webview.

pub mod desktop;
pub mod faults;
pub mod llm_standin;
pub mod smtp;
pub mod sse;
pub mod synthetic;
pub mod whatsapp_standin;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use roost_server::settings::Settings;
use serde_json::{Value, json};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server; dropping it stops the server and deletes its temporary files.
pub struct TestServer {
    pub base: String,
    /// The server's shared state, for tests that call the library directly (e.g. the demo seed).
    pub state: roost_server::state::AppState,
    pub backend: Backend,
    pub database_url: String,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    /// The task serving requests; it ends once the server has stopped and closed its pool.
    serving: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A fresh PostgreSQL database on the server named by `ROOST_TEST_POSTGRES_URL`. `None` when
/// that is unset, which fails loudly if `ROOST_TEST_REQUIRE_POSTGRES=1` (as `cargo xtask test`
/// sets) so a missing database can never turn into silently skipped tests.
pub async fn fresh_postgres_url() -> Option<String> {
    let Ok(admin_url) = std::env::var("ROOST_TEST_POSTGRES_URL") else {
        if std::env::var("ROOST_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("ROOST_TEST_REQUIRE_POSTGRES=1 but ROOST_TEST_POSTGRES_URL is not set");
        }
        eprintln!("ROOST_TEST_POSTGRES_URL not set: skipping the PostgreSQL run of this test");
        return None;
    };
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("roost_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(&admin_url)
        .await
        .expect("connect to ROOST_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let mut url = url::Url::parse(&admin_url).expect("valid postgres URL");
    url.set_path(&name);
    Some(url.to_string())
}

impl TestServer {
    pub async fn start(backend: Backend) -> Option<TestServer> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server; `tweak` adjusts its settings (rate limits, body size, registration).
    /// Embeddings are off: most tests are not about them and the model costs CPU.
    pub async fn start_with(
        backend: Backend,
        tweak: impl FnOnce(&mut Settings),
    ) -> Option<TestServer> {
        Self::start_full(backend, tweak, None).await
    }

    /// Starts a server that embeds listings with `embedder` (see [`shared_embedder`]).
    pub async fn start_embedding(
        backend: Backend,
        embedder: Option<std::sync::Arc<roost_embed::Embedder>>,
    ) -> Option<TestServer> {
        Self::start_full(backend, |_| {}, embedder).await
    }

    /// Stops this server and starts another on the same database (e.g. to add a model).
    pub async fn restart(
        mut self,
        embedder: Option<std::sync::Arc<roost_embed::Embedder>>,
    ) -> TestServer {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // The old server drains its requests and closes its pool before the new one opens
        // the database.
        if let Some(serving) = self.serving.take() {
            tokio::time::timeout(Duration::from_secs(30), serving)
                .await
                .expect("the server stops within 30 s")
                .expect("the server task ends cleanly");
        }
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        Self::start_in(
            self.backend,
            dir,
            self.database_url.clone(),
            |_| {},
            embedder,
        )
        .await
    }

    async fn start_full(
        backend: Backend,
        tweak: impl FnOnce(&mut Settings),
        embedder: Option<std::sync::Arc<roost_embed::Embedder>>,
    ) -> Option<TestServer> {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("roost.db").display()),
            Backend::Postgres => fresh_postgres_url().await?,
        };
        Some(Self::start_in(backend, dir, database_url, tweak, embedder).await)
    }

    async fn start_in(
        backend: Backend,
        dir: tempfile::TempDir,
        database_url: String,
        tweak: impl FnOnce(&mut Settings),
        embedder: Option<std::sync::Arc<roost_embed::Embedder>>,
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut settings = Settings {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(database_url.clone()),
            // Tests sign in often; the limiter has its own tests.
            login_per_account_per_minute: 1000,
            login_per_ip_per_minute: 10_000,
            // Links in messages to clients point here.
            public_url: Some(format!("http://{addr}")),
            ..Settings::default()
        };
        tweak(&mut settings);
        let state = roost_server::build_state_with(settings, embedder)
            .await
            .expect("server state");
        let (tx, rx) = oneshot::channel::<()>();
        let kept = state.clone();
        let serving = tokio::spawn(async move {
            roost_server::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestServer {
            base: format!("http://{addr}"),
            state: kept,
            backend,
            database_url,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            shutdown: Some(tx),
            serving: Some(serving),
            _dir: dir,
        }
    }

    /// A request builder for `path` with an optional bearer token.
    pub fn req(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let mut rb = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut rb = self.req(method, path, token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        Resp::from(rb.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Registers a company; its admin's password is `"{slug}-admin-pass"`.
    pub async fn register(&self, company: &str, slug: &str, tier: &str) -> Tenant {
        let admin_email = format!("admin@{slug}.test");
        let r = self
            .post(
                "/api/v1/tenants",
                None,
                json!({
                    "company_name": company,
                    "industry": "real estate",
                    "region": "Dubai",
                    "employee_count": 12,
                    "contact_person": { "name": "Ada Admin", "email": admin_email, "phone": "+971 50 000 0000" },
                    "tier": tier,
                    "admin_password": format!("{slug}-admin-pass"),
                    "slug": slug,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "register {slug}: {}", r.body);
        let admin = self
            .login(slug, &admin_email, &format!("{slug}-admin-pass"))
            .await;
        Tenant {
            id: r.body["tenant_id"].as_str().unwrap().to_string(),
            slug: slug.to_string(),
            admin,
        }
    }

    /// Signs in and returns the session; panics unless it succeeds.
    pub async fn login(&self, slug: &str, email: &str, password: &str) -> Session {
        let r = self.try_login(slug, email, password).await;
        assert_eq!(r.status, StatusCode::OK, "login {email}@{slug}: {}", r.body);
        Session::from_tokens(&r.body, email)
    }

    pub async fn try_login(&self, slug: &str, email: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({ "tenant": slug, "email": email, "password": password, "device_name": "test laptop" }),
        )
        .await
    }

    /// Creates a user with `roles` (as `admin`) and signs them in. Password `"{email}-pass"`.
    pub async fn add_user(
        &self,
        tenant: &Tenant,
        email: &str,
        roles: &[&str],
    ) -> (String, Session) {
        let r = self
            .post(
                "/api/v1/users",
                Some(&tenant.admin.access),
                json!({ "email": email, "name": format!("User {email}"), "roles": roles, "password": format!("{email}-pass") }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "create {email}: {}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        (
            id,
            self.login(&tenant.slug, email, &format!("{email}-pass"))
                .await,
        )
    }
}

pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub admin: Session,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    pub access: String,
    pub refresh: String,
    pub device_id: String,
}

impl Session {
    pub fn from_tokens(body: &Value, email: &str) -> Session {
        Session {
            email: email.to_string(),
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_string(),
            device_id: body["device_id"].as_str().expect("device_id").to_string(),
        }
    }
}

/// A response read whole: status, headers, and the body as JSON (`Null` when empty,
/// a JSON string when not JSON).
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub async fn from(r: reqwest::Response) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }

    pub fn field(&self) -> Option<&str> {
        self.body["error"]["field"].as_str()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Defines each listed `async fn NAME(server: TestServer)` as a test on SQLite and a test on
/// PostgreSQL: `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let s = $crate::TestServer::start($crate::Backend::Sqlite).await.expect("sqlite");
                    super::$name(s).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(s) = $crate::TestServer::start($crate::Backend::Postgres).await {
                        super::$name(s).await;
                    }
                }
            )*
        }
    };
}

/// Like [`on_both_backends!`] for tests that start their own server: each listed
/// `async fn NAME(backend: Backend)` runs once per backend.
#[macro_export]
macro_rules! on_both_backends_raw {
    ($($name:ident),* $(,)?) => {
        mod sqlite_raw {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::Backend::Sqlite).await; }
            )*
        }
        mod postgres_raw {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::Backend::Postgres).await; }
            )*
        }
    };
}

impl TestServer {
    /// Uploads `bytes` as `file_name` to `POST /api/v1/imports/properties?{query}`.
    pub async fn import(&self, token: &str, file_name: &str, bytes: Vec<u8>, query: &str) -> Resp {
        self.import_with_mapping(token, file_name, bytes, query, None)
            .await
    }

    pub async fn import_with_mapping(
        &self,
        token: &str,
        file_name: &str,
        bytes: Vec<u8>,
        query: &str,
        mapping: Option<&str>,
    ) -> Resp {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
        let mut form = reqwest::multipart::Form::new().part("file", part);
        if let Some(m) = mapping {
            form = form.text("mapping", m.to_string());
        }
        // `kind=clients&…` picks the kind (`shared_kind=…` the shared knowledge base); without
        // either the file holds properties.
        let (base, spec) = match (
            query.strip_prefix("shared_kind="),
            query.strip_prefix("kind="),
        ) {
            (Some(rest), _) => ("/api/v1/shared/imports", rest.to_string()),
            (None, Some(rest)) => ("/api/v1/imports", rest.to_string()),
            (None, None) => ("/api/v1/imports", format!("properties&{query}")),
        };
        let (kind, rest) = spec.split_once('&').unwrap_or((&spec, ""));
        let path = format!("{base}/{kind}?{rest}");
        Resp::from(
            self.req(Method::POST, &path, Some(token))
                .multipart(form)
                .send()
                .await
                .expect("upload sent"),
        )
        .await
    }

    /// Every live listing of the caller's tenant, following pages.
    pub async fn all_listings(&self, token: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                Some(a) => format!(
                    "/api/v1/listings?limit=500&after={}",
                    url::form_urlencoded::byte_serialize(a.as_bytes()).collect::<String>()
                ),
                None => "/api/v1/listings?limit=500".to_string(),
            };
            let r = self.get(&path, token).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            out.extend(r.body["listings"].as_array().unwrap().iter().cloned());
            match r.body["next_after"].as_str() {
                Some(a) => after = Some(a.to_string()),
                None => return out,
            }
        }
    }
}

/// A listings CSV with `n` valid rows `L-0001…`, in the shape agents' exports have.
pub fn listings_csv(n: usize) -> String {
    let communities = [
        "Dubai Marina",
        "Arabian Ranches",
        "JVC",
        "Downtown Dubai",
        "Palm Jumeirah",
    ];
    let types = ["Apartment", "Villa", "Townhouse"];
    let mut s = String::from(
        "Ref,Title,Property Type,Community,Beds,Baths,Size (sqft),Asking Price,Status,View\n",
    );
    for i in 1..=n {
        s.push_str(&format!(
            "L-{i:04},\"{beds} bed {ty} in {c}\",{ty},{c},{beds},{baths},{size},\"AED {price}\",For Sale,{view}\n",
            beds = i % 5 + 1,
            ty = types[i % 3],
            c = communities[i % 5],
            baths = i % 4 + 1,
            size = 700 + (i * 37) % 4000,
            price = 500_000 + (i * 12_345) % 9_000_000,
            view = if i % 2 == 0 { "Sea" } else { "Garden" },
        ));
    }
    s
}

/// The real embedding model, loaded once per process from `ROOST_EMBED_MODEL_DIR` (and
/// `ORT_DYLIB_PATH`), as `cargo xtask test` sets up. `None` when unset, which fails loudly
/// under `ROOST_TEST_REQUIRE_MODEL=1`.
pub fn shared_embedder() -> Option<std::sync::Arc<roost_embed::Embedder>> {
    static MODEL: std::sync::OnceLock<Option<std::sync::Arc<roost_embed::Embedder>>> =
        std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| match roost_embed::EmbedConfig::from_env() {
            Some(cfg) => Some(std::sync::Arc::new(
                roost_embed::Embedder::load(&cfg).expect("load the embedding model"),
            )),
            None => {
                if std::env::var("ROOST_TEST_REQUIRE_MODEL").as_deref() == Ok("1") {
                    panic!("ROOST_TEST_REQUIRE_MODEL=1 but ROOST_EMBED_MODEL_DIR is not set");
                }
                eprintln!("ROOST_EMBED_MODEL_DIR not set: skipping embedding checks");
                None
            }
        })
        .clone()
}

/// A device signed in to `base` (the server, or a proxy in front of it) as a user that
/// [`TestServer::add_user`] made (password `"{email}-pass"`), with its secrets in memory and
/// its cache under `root`, synced to the end of the feed.
pub async fn synced_device(
    base: &str,
    root: &std::path::Path,
    company: &str,
    email: &str,
) -> (roost_core::Session, roost_core::Cache) {
    let session = roost_core::Session::sign_in(
        base,
        root,
        std::sync::Arc::new(roost_core::secrets::memory::MemoryStore::default()),
        &roost_api::auth::LoginRequest {
            tenant: company.into(),
            email: email.into(),
            password: format!("{email}-pass"),
            device_name: "test device".into(),
        },
    )
    .await
    .expect("the device signs in");
    let mut cache = session.open_cache().expect("the device cache");
    session
        .sync_client()
        .expect("a sync client")
        .sync(&mut cache, |_| std::ops::ControlFlow::Continue(()))
        .await
        .expect("the first sync");
    (session, cache)
}
