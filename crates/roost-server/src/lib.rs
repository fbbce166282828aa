//! The Roost central API.
//!
//! `app(state)` builds the router (for in-process tests); `serve(listener, state, shutdown)`
//! runs it on a socket. Handlers live in `routes/*`, one module per resource.

pub mod actions;
pub mod chat;
pub mod demo;
pub mod embedding;
pub mod error;
pub mod extract;
pub mod imports;
pub mod knowledge_import;
pub mod ratelimit;
pub mod routes;
pub mod secret_box;
pub mod settings;
pub mod state;
pub mod tokens;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use roost_api::ErrorCode;
use roost_db::Db;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::ratelimit::LoginLimiter;
use crate::settings::{Secret, Settings};
use crate::state::{AppState, Inner};
use crate::tokens::TokenKeys;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roost API",
        description = "Central multi-tenant API of Roost, the white-label assistant for real-estate agents. \
                       Every error is `{ \"error\": { \"code\", \"message\", \"field\"? } }`.",
    ),
    components(schemas(
        roost_api::ErrorBody,
        roost_api::ErrorCode,
        roost_api::import_formats::MarketIntelligenceFile,
        roost_api::import_formats::AgentResourcesFile,
    )),
    modifiers(&SecuritySchemes)
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |desc: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(desc))
                    .build(),
            )
        };
        components.add_security_scheme("bearer", bearer("access token from /api/v1/auth/login"));
        components.add_security_scheme(
            "operator_token",
            bearer("operator token, when registration is restricted to the operator"),
        );
    }
}

/// The documented routes and their OpenAPI document, built from the same list.
fn api_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use routes::*;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(tenants::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(me::me))
        .routes(routes!(me::devices))
        .routes(routes!(me::revoke_device))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update))
        .routes(routes!(config::get, config::put))
        .routes(routes!(audit::list))
        .routes(routes!(listings::list))
        .routes(routes!(listings::get))
        .routes(routes!(media::upload))
        .routes(routes!(media::get))
        .routes(routes!(media::public_get))
        .routes(routes!(imports::report))
        .routes(routes!(imports::problems))
        .routes(routes!(sync::changes))
        .routes(routes!(knowledge::list))
        .routes(routes!(knowledge::clients))
        .routes(routes!(chat::ask))
        .routes(routes!(chat::list))
        .routes(routes!(chat::get, chat::delete))
        .routes(routes!(chat::feedback))
        .routes(routes!(chat::put_llm_key))
        .routes(routes!(routes::actions::create, routes::actions::list))
        .routes(routes!(routes::actions::get))
        .routes(routes!(routes::actions::get_integrations))
        .routes(routes!(routes::actions::put_whatsapp))
        .routes(routes!(routes::actions::put_hubspot))
        .routes(routes!(routes::actions::put_email))
        .routes(routes!(routes::actions::put_crm_webhook))
        .routes(routes!(
            routes::webhooks::whatsapp_verify,
            routes::webhooks::whatsapp_events
        ))
        .split_for_parts()
}

/// The OpenAPI document of every route, as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_routes().1;
    doc.merge(UploadDoc::openapi());
    doc
}

#[derive(OpenApi)]
#[openapi(paths(routes::imports::upload, routes::imports::shared_upload))]
struct UploadDoc;

pub fn app(state: AppState) -> Router {
    let (router, doc) = api_routes();
    let mut doc = doc;
    doc.merge(UploadDoc::openapi());
    // `POST /imports/{kind}` shares its path slot with `GET /imports/{id}` (the router allows
    // one parameter name per segment). Uploads get their own, larger body limit.
    let upload = axum::routing::post(routes::imports::upload).layer(DefaultBodyLimit::max(
        state.settings.max_import_bytes + 64 * 1024,
    ));
    let router = router.route("/api/v1/imports/{id}", upload).route(
        "/api/v1/shared/imports/{kind}",
        axum::routing::post(routes::imports::shared_upload).layer(DefaultBodyLimit::max(
            state.settings.max_import_bytes + 64 * 1024,
        )),
    );
    let doc = Arc::new(doc);
    let max_body = state.settings.max_body_bytes;
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async {
            AppError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::RouteNotFound,
                "no such route",
            )
        })
        .method_not_allowed_fallback(|| async {
            AppError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(max_body))
        // The fastest level: a sync page is ~2.5 MB of JSON whose vectors (base64 of f32)
        // hardly compress, and zstd's default level spent more time on it than the database
        // read; level 1 keeps the page at the same wire size within a few percent.
        .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Connects the database (creating and migrating it if needed), loads the embedding model
/// when one is configured, and prepares the shared state.
pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let embedder = match &settings.embed_model_dir {
        Some(dir) => {
            let cfg = roost_embed::EmbedConfig {
                ort_dylib_path: settings
                    .ort_dylib_path
                    .clone()
                    .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(Into::into)),
                threads: settings.embed_threads,
                ..roost_embed::EmbedConfig::new(dir.clone())
            };
            let e =
                tokio::task::spawn_blocking(move || roost_embed::Embedder::load(&cfg)).await??;
            tracing::info!(
                model = e.model_id(),
                dim = e.dim(),
                "embedding model loaded"
            );
            Some(Arc::new(e))
        }
        None => {
            tracing::warn!("no embed_model_dir configured: listings are stored without embeddings");
            None
        }
    };
    build_state_with(settings, embedder).await
}

/// Like [`build_state`], with an already loaded (shared) embedding model, or none.
pub async fn build_state_with(
    settings: Settings,
    embedder: Option<Arc<roost_embed::Embedder>>,
) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&settings.data_dir)?;
    let secret = match &settings.jwt_secret {
        Some(s) if s.0.len() >= 32 => s.0.as_bytes().to_vec(),
        Some(_) => anyhow::bail!("jwt_secret must be at least 32 characters"),
        None => load_or_create_secret(&settings)?.0.into_bytes(),
    };
    let secret_box = match &settings.secrets_key {
        Some(k) => secret_box::SecretBox::from_b64(&k.0)?,
        None => load_or_create_secrets_key(&settings)?,
    };
    // The connect timeout lives on the client; the others are per request.
    let http = roost_llm::http_client(&roost_llm::Timeouts {
        connect: std::time::Duration::from_secs(settings.llm_connect_timeout_secs),
        ..roost_llm::Timeouts::default()
    })?;
    let db = Db::connect(&settings.database_url()).await?;
    let limiter = LoginLimiter::new(
        settings.login_per_account_per_minute,
        settings.login_per_ip_per_minute,
    );
    Ok(AppState(Arc::new(Inner {
        db,
        keys: TokenKeys::new(&secret),
        settings,
        limiter,
        embedder,
        embed_signal: embedding::EmbedSignal::default(),
        chat: chat::index::ChatIndexes::default(),
        secret_box,
        actions: actions::Actions::new()?,
        // The connect timeout lives on the client; the others are per request.
        http,
    })))
}

/// The signing key kept in the data dir, so restarts keep everyone signed in.
fn load_or_create_secret(settings: &Settings) -> anyhow::Result<Secret> {
    let path = settings.data_dir.join("jwt-secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_string();
        if s.len() >= 32 {
            return Ok(Secret(s));
        }
    }
    let secret = tokens::random_b64(48);
    write_private(&path, &secret)?;
    Ok(Secret(secret))
}

/// The key of integration secrets kept in the data dir (like the signing key).
fn load_or_create_secrets_key(settings: &Settings) -> anyhow::Result<secret_box::SecretBox> {
    let path = settings.data_dir.join("secrets-key");
    if let Ok(s) = std::fs::read_to_string(&path) {
        return Ok(secret_box::SecretBox::from_b64(&s)?);
    }
    let key = secret_box::SecretBox::generate_key();
    write_private(&path, &key)?;
    Ok(secret_box::SecretBox::from_b64(&key)?)
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(contents.as_bytes())
}

/// Serves until `shutdown` resolves, then drains in-flight requests and closes the database.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let db = state.db.clone();
    let worker = state.embedder.clone().map(|e| {
        tokio::spawn(embedding::run_worker(
            db.clone(),
            e,
            state.embed_signal.clone(),
        ))
    });
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let res = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(w) = worker {
        // A round in flight rolls back; the backlog query finds its listings again next start.
        w.abort();
    }
    db.close().await;
    res
}
