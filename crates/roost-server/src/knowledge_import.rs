//! Imports of everything that is not a listing: clients and employees (CSV/Excel), market
//! intelligence and agent resources (JSON), documents (PDF, DOCX, Markdown, text).

use roost_api::imports::{ImportKind, ImportReport, ImportStatus, RowProblem};
use roost_api::knowledge::KnowledgeKind;
use roost_api::users::Role;
use roost_db::{ClientWrite, Ctx, KnowledgeWrite};
use roost_import::ImportOptions;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::imports::{
    Before, ImportError, ImportRequest, MAX_PROBLEMS, PREVIEW_ROWS, before_write, row_problems,
};
use crate::state::AppState;
use crate::tokens::sha256_hex;

/// What a parsed file turns into before it is stored.
enum Rows {
    Clients(Vec<ClientWrite>),
    Knowledge {
        rows: Vec<KnowledgeWrite>,
        /// Keys under this prefix that the file lacks are removed.
        replace_scope: Option<String>,
    },
}

struct Parsed {
    format: String,
    rows_total: u64,
    problems: Vec<RowProblem>,
    preview: Vec<Value>,
    rows: Rows,
}

/// The first records of a file as JSON, for the report.
fn preview<R: Serialize>(records: &[R]) -> Vec<Value> {
    records
        .iter()
        .take(PREVIEW_ROWS)
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect()
}

impl Parsed {
    fn new<R: Serialize>(
        format: String,
        rows_total: usize,
        problems: Vec<RowProblem>,
        records: &[R],
        rows: Rows,
    ) -> Parsed {
        Parsed {
            format,
            rows_total: rows_total as u64,
            problems,
            preview: preview(records),
            rows,
        }
    }
}

fn hash_of(v: &impl Serialize) -> String {
    sha256_hex(&serde_json::to_string(v).expect("serialises"))
}

fn role(r: &roost_import::Role) -> Option<Role> {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().and_then(Role::parse))
}

fn item_problems(errors: &[roost_import::ItemError]) -> Vec<RowProblem> {
    errors
        .iter()
        .map(|e| RowProblem {
            row: e.index as u64 + 1,
            column: None,
            field: Some(e.path.clone()),
            value: None,
            reason: e.reason.clone(),
        })
        .collect()
}

fn knowledge(
    key: String,
    kind: KnowledgeKind,
    title: String,
    body: String,
    audience: Vec<Role>,
    data: Value,
    source: &str,
) -> KnowledgeWrite {
    let content_hash = hash_of(&(&key, kind, &title, &body, &audience, &data));
    KnowledgeWrite {
        source_key: key,
        kind,
        title,
        body,
        audience,
        data,
        source: Some(source.to_string()),
        content_hash,
    }
}

fn employee_text(e: &roost_import::EmployeeRecord) -> String {
    let mut parts = vec![match &e.title {
        Some(t) => format!("{} ({t})", e.name),
        None => e.name.clone(),
    }];
    if !e.languages.is_empty() {
        parts.push(format!("speaks {}", e.languages.join(", ")));
    }
    if !e.communities.is_empty() {
        parts.push(format!("covers {}", e.communities.join(", ")));
    }
    if !e.specialties.is_empty() {
        parts.push(format!("specialises in {}", e.specialties.join(", ")));
    }
    let mut text = parts.join("; ");
    text.push('.');
    if let Some(b) = &e.bio {
        text.push(' ');
        text.push_str(b);
    }
    text
}

fn parse(
    kind: ImportKind,
    bytes: &[u8],
    file: &str,
    opts: &ImportOptions,
) -> Result<Parsed, String> {
    let file_err = |e: roost_import::FileError| e.to_string();
    Ok(match kind {
        ImportKind::Properties => unreachable!("properties have their own path"),
        ImportKind::Clients => {
            let p = roost_import::parse_clients(bytes, file, opts).map_err(file_err)?;
            let rows: Vec<ClientWrite> = p
                .records
                .iter()
                .map(|c| {
                    let data = serde_json::to_value(c).unwrap_or(Value::Null);
                    ClientWrite {
                        external_id: c.id.clone(),
                        name: c.name.clone(),
                        email: c.email.clone(),
                        // The normalised number (`+971…`); the WhatsApp column when there is
                        // no phone column.
                        phone: c
                            .phone
                            .as_ref()
                            .or(c.whatsapp.as_ref())
                            .map(|p| p.number.clone()),
                        agent_email: c.agent_email.clone(),
                        content_hash: hash_of(&data),
                        data,
                    }
                })
                .collect();
            Parsed::new(
                crate::imports::describe_format(&p.format),
                p.rows_read,
                row_problems(&p.errors),
                &p.records,
                Rows::Clients(rows),
            )
        }
        ImportKind::Employees => {
            let p = roost_import::parse_employees(bytes, file, opts).map_err(file_err)?;
            let rows = p
                .records
                .iter()
                .map(|e| {
                    knowledge(
                        format!("employee:{}", e.email.to_lowercase()),
                        KnowledgeKind::Employee,
                        e.name.clone(),
                        employee_text(e),
                        vec![],
                        serde_json::to_value(e).unwrap_or(Value::Null),
                        file,
                    )
                })
                .collect();
            Parsed::new(
                crate::imports::describe_format(&p.format),
                p.rows_read,
                row_problems(&p.errors),
                &p.records,
                Rows::Knowledge {
                    rows,
                    replace_scope: None,
                },
            )
        }
        ImportKind::MarketIntelligence => {
            let p = roost_import::parse_market_intelligence(bytes, file, opts).map_err(file_err)?;
            let rows = p
                .records
                .iter()
                .map(|m| {
                    let data = serde_json::to_value(m).unwrap_or(Value::Null);
                    let key = format!(
                        "market:{}|{}|{}|{}",
                        m.area.to_lowercase(),
                        data["period"],
                        m.property_type.as_deref().unwrap_or("").to_lowercase(),
                        m.bedrooms.map(|b| b.to_string()).unwrap_or_default()
                    );
                    let title = format!("Market figures: {}", m.area);
                    knowledge(
                        key,
                        KnowledgeKind::MarketIntelligence,
                        title,
                        m.text.clone(),
                        vec![],
                        data,
                        file,
                    )
                })
                .collect();
            Parsed::new(
                "json (market intelligence)".into(),
                p.items_read,
                item_problems(&p.errors),
                &p.records,
                Rows::Knowledge {
                    rows,
                    replace_scope: None,
                },
            )
        }
        ImportKind::AgentResources => {
            let p = roost_import::parse_agent_resources(bytes, file, opts).map_err(file_err)?;
            let rows = p
                .records
                .iter()
                .map(|r| {
                    knowledge(
                        format!("resource:{}", r.id),
                        KnowledgeKind::AgentResource,
                        r.title.clone(),
                        r.body.clone(),
                        r.audience.iter().filter_map(role).collect(),
                        json!({ "tags": r.tags, "updated_at": r.updated_at }),
                        file,
                    )
                })
                .collect();
            Parsed::new(
                "json (agent resources)".into(),
                p.items_read,
                item_problems(&p.errors),
                &p.records,
                Rows::Knowledge {
                    rows,
                    replace_scope: None,
                },
            )
        }
        ImportKind::Documents => {
            let doc_opts = roost_import::DocumentOptions {
                max_bytes: opts.max_bytes,
                ..roost_import::DocumentOptions::default()
            };
            let d = roost_import::parse_document(bytes, file, &doc_opts).map_err(file_err)?;
            let prefix = format!("document:{file}#");
            let rows = d
                .chunks
                .iter()
                .map(|c| {
                    let title = match &c.heading {
                        Some(h) => format!("{} — {h}", d.title),
                        None => d.title.clone(),
                    };
                    knowledge(
                        format!("{prefix}{}", c.index),
                        KnowledgeKind::Document,
                        title,
                        c.text.clone(),
                        vec![],
                        json!({ "heading": c.heading, "chunk": c.index, "char_start": c.char_start, "char_end": c.char_end }),
                        file,
                    )
                })
                .collect();
            Parsed {
                format: format!("{:?}", d.format).to_lowercase(),
                rows_total: d.chunks.len() as u64,
                problems: vec![],
                preview: d
                    .chunks
                    .iter()
                    .take(5)
                    .map(|c| json!({ "heading": c.heading, "text": c.text }))
                    .collect(),
                // A re-uploaded document replaces all of its earlier chunks.
                rows: Rows::Knowledge {
                    rows,
                    replace_scope: Some(prefix),
                },
            }
        }
    })
}

pub async fn run(
    state: &AppState,
    ctx: &Ctx,
    req: ImportRequest,
    opts: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let kind = req.kind;
    let file_name = req.file_name.to_string();
    let bytes = req.bytes;
    let parsed = tokio::task::spawn_blocking(move || parse(kind, &bytes, &file_name, &opts))
        .await
        .map_err(|e| ImportError::Internal(format!("parser task: {e}")))?
        .map_err(ImportError::File)?;
    let rows_rejected = parsed
        .problems
        .iter()
        .map(|p| p.row)
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;
    let valid = match &parsed.rows {
        Rows::Clients(r) => r.len(),
        Rows::Knowledge { rows, .. } => rows.len(),
    } as u64;
    let report = ImportReport {
        id: Uuid::now_v7(),
        kind,
        file_name: req.file_name.to_string(),
        status: ImportStatus::Previewed,
        dry_run: req.dry_run,
        validation: req.validation,
        mode: req.mode,
        format: parsed.format,
        mapping: vec![],
        rows_total: parsed.rows_total,
        rows_valid: valid,
        rows_rejected,
        problems_total: parsed.problems.len() as u64,
        problems: parsed.problems.into_iter().take(MAX_PROBLEMS).collect(),
        preview: vec![],
        records_preview: parsed.preview,
        stored: None,
        rejected_because: None,
        embedding: None,
        created_at: roost_db::now_millis(),
    };
    let mut report = match before_write(state, ctx, report).await? {
        Before::Write(report) => report,
        Before::Finished(done) => return done,
    };
    report.status = ImportStatus::Committed;
    let replace = req.mode == roost_api::imports::ImportMode::Replace;
    match parsed.rows {
        Rows::Clients(rows) => {
            state
                .db
                .apply_client_import(ctx, rows, replace, &mut report)
                .await?;
        }
        Rows::Knowledge {
            rows,
            replace_scope,
        } => {
            // `mode=replace` on a knowledge file replaces the items of its kind.
            let kind_scope = match kind {
                ImportKind::Employees => "employee:",
                ImportKind::MarketIntelligence => "market:",
                ImportKind::AgentResources => "resource:",
                _ => "",
            };
            let scope = replace_scope.or_else(|| replace.then(|| kind_scope.to_string()));
            state
                .db
                .apply_knowledge_import(ctx, rows, scope.as_deref(), &mut report)
                .await?;
        }
    }
    state.embed_signal.wake();
    Ok(report)
}
