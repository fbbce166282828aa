//! Imports: parse a file with `roost-import`, build the report, store the rows in one
//! transaction. Shared by the HTTP route and the `roost-server import` command.

use std::collections::BTreeMap;

use roost_api::imports::{
    ColumnMapping, ImportKind, ImportMode, ImportReport, ImportStatus, RowProblem, Validation,
};
use roost_api::listings::{Area, AreaUnit, Listing, Price};
use roost_db::{Ctx, ImportWrite, ListingWrite};
use roost_import::{ImportOptions, PropertyRecord, SizeUnit};
use uuid::Uuid;

use crate::state::AppState;
use crate::tokens::sha256_hex;

/// Rows shown in a report's preview.
pub(crate) const PREVIEW_ROWS: usize = 20;
/// Problems listed in a report; the count covers all of them.
pub(crate) const MAX_PROBLEMS: usize = 1000;

pub struct ImportRequest {
    pub kind: ImportKind,
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// A TOML column mapping.
    pub mapping: Option<String>,
    pub dry_run: bool,
    pub validation: Validation,
    pub mode: ImportMode,
}

/// Why an import stored nothing.
#[derive(Debug)]
pub enum ImportError {
    /// The file as a whole is unusable (empty, binary, missing columns, too large …).
    File(String),
    /// Strict mode found row problems, or the tier limit would be passed. The report was kept.
    Rejected(Box<ImportReport>),
    Internal(String),
}

impl From<roost_db::DbError> for ImportError {
    fn from(e: roost_db::DbError) -> Self {
        ImportError::Internal(e.to_string())
    }
}

pub async fn run(
    state: &AppState,
    ctx: &Ctx,
    req: ImportRequest,
) -> Result<ImportReport, ImportError> {
    let tenant = state.db.tenant(ctx.tenant).await?;
    // The shared knowledge base has no config (and so no default currency).
    let currency = match state.db.config(ctx.tenant).await {
        Ok(c) => c.config.company_info.currency,
        Err(roost_db::DbError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let mut opts = ImportOptions {
        max_bytes: state.settings.max_import_bytes,
        default_currency: currency.as_deref().and_then(roost_import::Currency::parse),
        ..ImportOptions::default()
    };
    if let Some(text) = req.mapping.as_deref() {
        opts.mapping = Some(
            roost_import::ColumnMapping::from_toml(text)
                .map_err(|e| ImportError::File(format!("mapping file: {e}")))?,
        );
    }
    if req.kind != ImportKind::Properties {
        return crate::knowledge_import::run(state, ctx, req, opts).await;
    }
    let file_name = req.file_name.to_string();
    let bytes = req.bytes;
    // Parsing is CPU work: keep it off the async workers.
    let parsed = tokio::task::spawn_blocking(move || {
        roost_import::parse_properties(&bytes, &file_name, &opts)
    })
    .await
    .map_err(|e| ImportError::Internal(format!("parser task: {e}")))?
    .map_err(|e| ImportError::File(e.to_string()))?;

    // Only the preview is converted up front: a dry run of a large file holds the parsed
    // records once, not a second full copy.
    let preview: Vec<Listing> = parsed
        .records
        .iter()
        .take(PREVIEW_ROWS)
        .map(to_listing)
        .collect();
    let problems_total = parsed.errors.len() as u64;
    let rows_rejected = parsed
        .errors
        .iter()
        .map(|e| e.row)
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;
    let report = ImportReport {
        id: Uuid::now_v7(),
        kind: req.kind,
        file_name: req.file_name.to_string(),
        status: ImportStatus::Previewed,
        dry_run: req.dry_run,
        validation: req.validation,
        mode: req.mode,
        format: describe_format(&parsed.format),
        mapping: parsed
            .columns
            .iter()
            .map(|c| ColumnMapping {
                column: c.column.clone(),
                field: serde_json::to_value(c.target)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "attribute".into()),
            })
            .collect(),
        rows_total: parsed.rows_read as u64,
        rows_valid: parsed.records.len() as u64,
        rows_rejected,
        problems: row_problems(&parsed.errors)
            .into_iter()
            .take(MAX_PROBLEMS)
            .collect(),
        problems_total,
        preview,
        stored: None,
        rejected_because: None,
        records_preview: vec![],
        embedding: None,
        created_at: roost_db::now_millis(),
    };

    let mut report = match before_write(state, ctx, report).await? {
        Before::Write(report) => report,
        Before::Finished(done) => return done,
    };
    let rows = parsed
        .records
        .into_iter()
        .map(|record| {
            let listing = to_listing(&record);
            ListingWrite {
                content_hash: content_hash(&listing),
                listing,
            }
        })
        .collect();
    // Stored with the rows, so the kept report already says committed.
    report.status = ImportStatus::Committed;
    let applied = state
        .db
        .apply_import(
            ctx,
            ImportWrite {
                rows,
                replace: req.mode == ImportMode::Replace,
                limit: tenant.tier.property_limit(),
                report: &mut report,
            },
        )
        .await?;
    match applied {
        Ok(_) => {
            state.embed_signal.wake();
            Ok(report)
        }
        Err(over) => {
            report.status = ImportStatus::Rejected;
            report.stored = None;
            report.rejected_because = Some(format!(
                "the {} tier allows {} properties; this import would make {}. Nothing was stored",
                tenant.tier.as_str(),
                over.limit,
                over.would_have
            ));
            state.db.record_import(ctx, &report).await?;
            Err(ImportError::Rejected(Box::new(report)))
        }
    }
}

pub(crate) fn describe_format(f: &roost_import::SourceFormat) -> String {
    match f {
        roost_import::SourceFormat::Csv {
            delimiter,
            encoding,
        } => {
            let d = match delimiter {
                '\t' => "tab".to_string(),
                c => format!("'{c}'"),
            };
            let enc = serde_json::to_value(encoding)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| format!("{encoding:?}"));
            format!("csv (delimiter {d}, {enc})")
        }
        roost_import::SourceFormat::Xlsx { sheet } => format!("xlsx (sheet \"{sheet}\")"),
        roost_import::SourceFormat::Xls { sheet } => format!("xls (sheet \"{sheet}\")"),
    }
}

fn to_listing(r: &PropertyRecord) -> Listing {
    let status = r.status.and_then(|s| {
        serde_json::to_value(s)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
    });
    Listing {
        // Previews have no id yet; the store assigns one (or keeps the existing one).
        id: Uuid::nil(),
        external_id: r.id.clone(),
        title: r.title.clone(),
        description: r.description.clone(),
        price: Some(Price {
            amount_minor: r.price.minor_units,
            currency: r.price.currency.code().to_string(),
        }),
        bedrooms: r.bedrooms,
        bathrooms: match (r.bathrooms, r.half_bathrooms) {
            (None, None) => None,
            (full, half) => Some(f32::from(full.unwrap_or(0)) + 0.5 * f32::from(half.unwrap_or(0))),
        },
        size: r.size.as_ref().map(|s| {
            Area::new(
                s.value,
                match s.unit {
                    SizeUnit::Sqft => AreaUnit::Sqft,
                    SizeUnit::Sqm => AreaUnit::Sqm,
                },
            )
        }),
        property_type: r.property_type.clone(),
        community: r.community.clone(),
        city: r.city.clone(),
        status,
        latitude: r.latitude,
        longitude: r.longitude,
        furnished: r.furnished,
        photos: r.photos.clone(),
        listed_at: r.listed_at.map(|d| d.to_string()),
        attributes: r
            .attributes
            .iter()
            .map(|a| (a.column.clone(), a.value.clone()))
            .collect::<BTreeMap<_, _>>(),
        updated_at: 0,
    }
}

/// Hash of what a listing says (not its ids or times): unchanged rows are not rewritten.
fn content_hash(l: &Listing) -> String {
    let mut canonical = l.clone();
    canonical.id = Uuid::nil();
    canonical.updated_at = 0;
    sha256_hex(&serde_json::to_string(&canonical).expect("serialises"))
}

/// The problems of a report as CSV (row, column, field, value, reason), for download.
pub fn problems_csv(report: &ImportReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["row", "column", "field", "value", "reason"]);
    for p in &report.problems {
        let _ = w.write_record([
            p.row.to_string().as_str(),
            p.column.as_deref().unwrap_or(""),
            p.field.as_deref().unwrap_or(""),
            p.value.as_deref().unwrap_or(""),
            &p.reason,
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// What an import does once its report is made.
pub(crate) enum Before {
    /// Store the rows.
    Write(ImportReport),
    /// Nothing to store: a dry run (its preview) or a strict refusal, already recorded.
    Finished(Result<ImportReport, ImportError>),
}

/// Records and ends an import that writes no rows (a dry run, or strict mode with problems).
pub(crate) async fn before_write(
    state: &AppState,
    ctx: &Ctx,
    mut report: ImportReport,
) -> Result<Before, ImportError> {
    if report.dry_run {
        state.db.record_import(ctx, &report).await?;
        return Ok(Before::Finished(Ok(report)));
    }
    if let Some(reason) = strict_refusal(&report) {
        report.status = ImportStatus::Rejected;
        report.rejected_because = Some(reason);
        state.db.record_import(ctx, &report).await?;
        return Ok(Before::Finished(Err(ImportError::Rejected(Box::new(
            report,
        )))));
    }
    Ok(Before::Write(report))
}

pub(crate) fn row_problems(errors: &[roost_import::RowError]) -> Vec<RowProblem> {
    errors
        .iter()
        .map(|e| RowProblem {
            row: e.row as u64,
            column: e.column.clone(),
            field: e.field.clone(),
            value: e.value.clone(),
            reason: e.reason.clone(),
        })
        .collect()
}

/// In strict mode, why a report with problems refuses its whole file.
pub fn strict_refusal(report: &ImportReport) -> Option<String> {
    if report.validation != Validation::Strict || report.problems_total == 0 {
        return None;
    }
    let first = &report.problems[0];
    let place = first
        .column
        .as_deref()
        .or(first.field.as_deref())
        .map(|c| format!(", '{c}'"))
        .unwrap_or_default();
    Some(format!(
        "{} of {} rows have problems (first: row {}{place}: {}); nothing was stored. \
         Fix them, or import with validation=lenient to store the valid rows",
        report.rows_rejected, report.rows_total, first.row, first.reason,
    ))
}
