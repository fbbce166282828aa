use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use roost_api::tenants::{ContactPerson, RegisterTenantRequest, Tier, slugify};
use roost_db::NewTenant;
use roost_server::settings::Settings;
use roost_server::tokens::hash_password_async;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "roost-server", version, about = "The Roost central API")]
struct Cli {
    /// TOML settings file (also `ROOST_CONFIG`); `ROOST_*` variables override it.
    #[arg(long, env = "ROOST_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start-up
enum Command {
    /// Run the API (the default).
    Serve {
        /// Create the demo company and users if missing, and print how to sign in.
        #[arg(long)]
        demo: bool,
    },
    /// Manage tenants from the command line.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Import a file into a tenant (same rules as `POST /api/v1/imports/{kind}`).
    Import {
        /// The company's slug.
        #[arg(long, required_unless_present = "shared")]
        tenant: Option<String>,
        /// Import into the operator's shared knowledge base instead of a company.
        #[arg(long, conflicts_with = "tenant")]
        shared: bool,
        #[arg(long, default_value = "properties")]
        kind: String,
        /// TOML column mapping.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Check and preview only; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Store the valid rows even when some are invalid.
        #[arg(long)]
        lenient: bool,
        /// Also remove listings absent from the file.
        #[arg(long)]
        replace: bool,
        file: PathBuf,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Register a company and its first admin.
    Create {
        #[arg(long)]
        company: String,
        #[arg(long, default_value = "professional")]
        tier: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_name: String,
        /// The admin's password; read from `ROOST_ADMIN_PASSWORD` when not given.
        #[arg(long, env = "ROOST_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: String,
        #[arg(long)]
        slug: Option<String>,
        #[arg(long, default_value = "real estate")]
        industry: String,
        #[arg(long, default_value = "unspecified")]
        region: String,
        #[arg(long, default_value_t = 1)]
        employees: u32,
        #[arg(long)]
        phone: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("ROOST_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .init();
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("reading settings")?;
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Tenant { command } => tenant(settings, command).await,
        Command::Import {
            tenant,
            shared,
            kind,
            mapping,
            dry_run,
            lenient,
            replace,
            file,
        } => {
            let target = if shared { None } else { tenant };
            let slug = target.as_deref();
            import(
                settings, slug, &kind, mapping, dry_run, lenient, replace, file,
            )
            .await
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&roost_server::openapi())?
            );
            Ok(())
        }
    }
}

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let bind = settings.bind;
    let backend = settings.database_url();
    let state = roost_server::build_state(settings).await?;
    if demo {
        roost_server::demo::seed(&state).await?;
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let addr = listener.local_addr()?;
    let scheme = backend.split(':').next().unwrap_or("?");
    println!("Roost API listening on http://{addr} (database: {scheme})");
    println!("  OpenAPI document: http://{addr}/api/v1/openapi.json");
    if demo {
        println!("  Demo company slug: {}", roost_server::demo::SLUG);
        for (email, _, roles, pw) in roost_server::demo::USERS {
            let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            println!("    {email} / {pw}  ({})", roles.join(", "));
        }
        println!(
            "  Try: curl -s http://{addr}/api/v1/auth/login -H 'content-type: application/json' \\\n      -d '{{\"tenant\":\"demo\",\"email\":\"agent@demo.roost.test\",\"password\":\"demo-agent-pass\",\"device_name\":\"curl\"}}'"
        );
    }
    roost_server::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn tenant(settings: Settings, command: TenantCommand) -> anyhow::Result<()> {
    let TenantCommand::Create {
        company,
        tier,
        admin_email,
        admin_name,
        admin_password,
        slug,
        industry,
        region,
        employees,
        phone,
    } = command;
    let tier = Tier::parse(&tier).with_context(|| {
        format!("unknown tier '{tier}': use starter, professional, enterprise or custom")
    })?;
    let req = RegisterTenantRequest {
        company_name: company,
        industry,
        region,
        employee_count: employees,
        contact_person: ContactPerson {
            name: admin_name,
            email: admin_email,
            phone,
        },
        tier,
        admin_password,
        slug,
    };
    req.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let slug = req
        .slug
        .clone()
        .unwrap_or_else(|| slugify(&req.company_name));
    let state = roost_server::build_state(settings).await?;
    let hash = hash_password_async(req.admin_password.clone()).await;
    let (tenant, admin) = state
        .db
        .create_tenant(
            NewTenant {
                slug: &slug,
                company_name: &req.company_name,
                industry: &req.industry,
                region: &req.region,
                employee_count: req.employee_count,
                contact: &req.contact_person,
                tier: req.tier,
                admin_password_hash: &hash,
            },
            None,
        )
        .await?;
    println!(
        "created tenant {} (slug {}), admin user {}",
        tenant.id.uuid(),
        tenant.slug,
        admin
    );
    state.db.close().await;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn import(
    settings: Settings,
    slug: Option<&str>,
    kind: &str,
    mapping: Option<PathBuf>,
    dry_run: bool,
    lenient: bool,
    replace: bool,
    file: PathBuf,
) -> anyhow::Result<()> {
    use roost_api::imports::{ImportKind, ImportMode, Validation};
    use roost_server::imports::{ImportError, ImportRequest};
    let kind = ImportKind::parse(kind).with_context(|| format!("cannot import '{kind}'"))?;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let mapping = match mapping {
        Some(p) => {
            Some(std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let state = roost_server::build_state(settings).await?;
    let tenant = match slug {
        Some(slug) => {
            state
                .db
                .tenant_by_slug(slug)
                .await?
                .with_context(|| format!("no company with the slug '{slug}'"))?
                .id
        }
        None => roost_db::SHARED_TENANT,
    };
    let ctx = roost_db::Ctx {
        tenant,
        actor: roost_db::Actor::default(),
    };
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let result = roost_server::imports::run(
        &state,
        &ctx,
        ImportRequest {
            kind,
            file_name,
            bytes,
            mapping,
            dry_run,
            validation: if lenient {
                Validation::Lenient
            } else {
                Validation::Strict
            },
            mode: if replace {
                ImportMode::Replace
            } else {
                ImportMode::Upsert
            },
        },
    )
    .await;
    state.db.close().await;
    let print_problems = |r: &roost_api::imports::ImportReport| {
        for p in r.problems.iter().take(50) {
            let col = p
                .column
                .as_deref()
                .map(|c| format!(", column '{c}'"))
                .unwrap_or_default();
            eprintln!("  row {}{col}: {}", p.row, p.reason);
        }
        if r.problems_total > 50 {
            eprintln!("  … and {} more", r.problems_total - 50);
        }
    };
    match result {
        Ok(r) => {
            println!(
                "{}: {} ({}), {} rows, {} valid, {} rejected",
                r.file_name,
                if r.dry_run {
                    "checked, nothing stored"
                } else {
                    "imported"
                },
                r.format,
                r.rows_total,
                r.rows_valid,
                r.rows_rejected
            );
            if let Some(s) = &r.stored {
                println!(
                    "  inserted {}, updated {}, unchanged {}, deleted {}",
                    s.inserted, s.updated, s.unchanged, s.deleted
                );
            }
            print_problems(&r);
            Ok(())
        }
        Err(ImportError::File(msg)) => anyhow::bail!("{msg}"),
        Err(ImportError::Rejected(r)) => {
            print_problems(&r);
            anyhow::bail!("{}", r.rejected_because.unwrap_or_default())
        }
        Err(ImportError::Internal(msg)) => anyhow::bail!("internal error: {msg}"),
    }
}
