use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roost_api::imports::{
    EmbeddingProgress, ImportKind, ImportMode, ImportReport, ImportStatus, Validation,
};
use roost_api::users::Role;
use roost_api::{ErrorBody, ErrorCode};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::extract::{Authed, ClientIp, Path, Query};
use crate::imports::{ImportError, ImportRequest, problems_csv, run};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Parse and check only; store nothing and return a preview.
    #[serde(default)]
    pub dry_run: bool,
    /// `strict` (default): any bad row refuses the file. `lenient`: store the valid rows.
    #[serde(default)]
    pub validation: Validation,
    /// `upsert` (default), or `replace`: also remove listings absent from the file.
    #[serde(default)]
    pub mode: ImportMode,
}

/// Upload a file to import (admins and managers), as `multipart/form-data` with a `file`
/// part and an optional `mapping` part (TOML: `[columns] "Asking (AED)" = "price"`).
/// JSON kinds follow the `MarketIntelligenceFile` and `AgentResourcesFile` schemas.
/// Formats are detected by content: CSV/TSV in any common delimiter and encoding, XLSX, XLS.
#[utoipa::path(
    post, path = "/api/v1/imports/{kind}", tag = "imports",
    params(("kind" = ImportKind, Path, description = "what the file holds"), ImportQuery),
    request_body(content_type = "multipart/form-data", description = "`file` (required) and `mapping` (optional) parts"),
    responses(
        (status = 200, description = "stored, or previewed when dry_run", body = ImportReport),
        (status = 403, body = ErrorBody),
        (status = 422, description = "file unusable, rows invalid in strict mode, or tier limit; the report (when one was made) is at the Location header", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    auth: Authed,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    multipart: Multipart,
) -> AppResult<Response> {
    auth.require(&[Role::Admin, Role::Manager])?;
    let kind = parse_kind(&kind)?;
    let upload = read_upload(&state, multipart).await?;
    let result = run(&state, &auth.ctx(), upload.request(kind, &q)).await;
    respond(result, "/api/v1/imports")
}

/// Import into the operator's shared knowledge base, which every company's retrieval may draw
/// on (laws, general practice). Needs the operator token; takes market intelligence, agent
/// resources and documents.
#[utoipa::path(
    post, path = "/api/v1/shared/imports/{kind}", tag = "imports",
    params(("kind" = ImportKind, Path, description = "market_intelligence, agent_resources or documents"), ImportQuery),
    request_body(content_type = "multipart/form-data", description = "`file` (required) and `mapping` (optional) parts"),
    responses(
        (status = 200, body = ImportReport),
        (status = 401, description = "operator token missing or wrong", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("operator_token" = []))
)]
pub async fn shared_upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    multipart: Multipart,
) -> AppResult<Response> {
    crate::routes::tenants::check_operator(&state, &headers)?;
    let kind = parse_kind(&kind)?;
    if !matches!(
        kind,
        ImportKind::MarketIntelligence | ImportKind::AgentResources | ImportKind::Documents
    ) {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            "the shared knowledge base takes market_intelligence, agent_resources and documents",
        )
        .with_field("kind"));
    }
    let upload = read_upload(&state, multipart).await?;
    let ctx = roost_db::Ctx {
        tenant: roost_db::SHARED_TENANT,
        actor: roost_db::Actor {
            user_id: None,
            device_id: None,
            ip,
        },
    };
    let result = run(&state, &ctx, upload.request(kind, &q)).await;
    respond(result, "/api/v1/shared/imports")
}

fn parse_kind(kind: &str) -> AppResult<ImportKind> {
    ImportKind::parse(kind).ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!(
                "cannot import '{kind}'; kinds: {}",
                ImportKind::ALL.map(ImportKind::as_str).join(", ")
            ),
        )
    })
}

/// The parts of an import upload.
struct Upload {
    file_name: String,
    bytes: Vec<u8>,
    mapping: Option<String>,
}

impl Upload {
    fn request(self, kind: ImportKind, q: &ImportQuery) -> ImportRequest {
        ImportRequest {
            kind,
            file_name: self.file_name,
            bytes: self.bytes,
            mapping: self.mapping,
            dry_run: q.dry_run,
            validation: q.validation,
            mode: q.mode,
        }
    }
}

async fn read_upload(state: &AppState, mut multipart: Multipart) -> AppResult<Upload> {
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut mapping: Option<String> = None;
    let bad_part = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!(
                    "the upload is over the {} byte limit",
                    state.settings.max_import_bytes
                ),
            )
        } else {
            AppError::bad_request(
                ErrorCode::MalformedBody,
                format!("multipart body: {}", e.body_text()),
            )
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(bad_part)? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field.bytes().await.map_err(bad_part)?;
                file = Some((name, bytes.to_vec()));
            }
            Some("mapping") => mapping = Some(field.text().await.map_err(bad_part)?),
            other => {
                return Err(AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::UnknownField,
                    format!(
                        "unknown part '{}': send 'file' and optionally 'mapping'",
                        other.unwrap_or("")
                    ),
                )
                .with_field(other.unwrap_or("").to_string()));
            }
        }
    }
    let (file_name, bytes) = file.ok_or_else(|| {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            "the 'file' part is missing",
        )
        .with_field("file")
    })?;
    Ok(Upload {
        file_name,
        bytes,
        mapping,
    })
}

/// The answer to an import: the report, or an error whose `Location` names the kept report.
fn respond(result: Result<ImportReport, ImportError>, reports_at: &str) -> AppResult<Response> {
    match result {
        Ok(report) => Ok(axum::Json(report).into_response()),
        Err(ImportError::File(msg)) => Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidFile,
            msg,
        )
        .with_field("file")),
        Err(ImportError::Rejected(report)) => {
            let code = if report.stored.is_none() && report.problems_total == 0 {
                ErrorCode::TierLimit
            } else {
                ErrorCode::ImportRejected
            };
            let mut res = AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                report.rejected_because.clone().unwrap_or_default(),
            )
            .into_response();
            let location = format!("{reports_at}/{}", report.id);
            res.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_str(&location).expect("ascii"),
            );
            Ok(res)
        }
        Err(ImportError::Internal(msg)) => Err(AppError::internal(msg)),
    }
}

/// A stored import report: format, mapping, counts, every problem, preview (admins, managers).
#[utoipa::path(
    get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = Uuid, Path, description = "import id")),
    responses((status = 200, body = ImportReport), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<ImportReport>> {
    auth.require(&[Role::Admin, Role::Manager])?;
    let mut report = state
        .db
        .import_report(auth.tenant, id)
        .await
        .map_err(not_found)?;
    if let (Some(e), ImportStatus::Committed) = (&state.embedder, report.status) {
        let p = state
            .db
            .embed_progress(auth.tenant, id, e.model_id())
            .await?;
        report.embedding = Some(EmbeddingProgress {
            model: e.model_id().to_string(),
            total: p.written,
            embedded: p.embedded,
        });
    }
    Ok(axum::Json(report))
}

/// The problems of an import as a CSV file to fix the source with (admins, managers).
#[utoipa::path(
    get, path = "/api/v1/imports/{id}/problems.csv", tag = "imports",
    params(("id" = Uuid, Path, description = "import id")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn problems(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    auth.require(&[Role::Admin, Role::Manager])?;
    let report = state
        .db
        .import_report(auth.tenant, id)
        .await
        .map_err(not_found)?;
    let disposition = format!("attachment; filename=\"import-{id}-problems.csv\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).expect("ascii"),
            ),
        ],
        problems_csv(&report),
    )
        .into_response())
}

fn not_found(e: roost_db::DbError) -> AppError {
    match e {
        roost_db::DbError::NotFound => AppError::not_found("import"),
        other => other.into(),
    }
}
