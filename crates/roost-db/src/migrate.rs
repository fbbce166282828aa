//! Forward-only migrations, the same files on both backends.

use sqlx::{Executor, Row};

use crate::pool::Backend;
use crate::{Db, Result, now_millis};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        sql: include_str!("../migrations/0001_core.sql"),
    },
    Migration {
        version: 2,
        name: "listings",
        sql: include_str!("../migrations/0002_listings.sql"),
    },
    Migration {
        version: 3,
        name: "embeddings",
        sql: include_str!("../migrations/0003_embeddings.sql"),
    },
    Migration {
        version: 4,
        name: "sync",
        sql: include_str!("../migrations/0004_sync.sql"),
    },
    Migration {
        version: 5,
        name: "knowledge",
        sql: include_str!("../migrations/0005_knowledge.sql"),
    },
    Migration {
        version: 6,
        name: "shared_knowledge",
        sql: include_str!("../migrations/0006_shared_knowledge.sql"),
    },
    Migration {
        version: 7,
        name: "media",
        sql: include_str!("../migrations/0007_media.sql"),
    },
    Migration {
        version: 8,
        name: "chat",
        sql: include_str!("../migrations/0008_chat.sql"),
    },
    Migration {
        version: 9,
        name: "actions",
        sql: include_str!("../migrations/0009_actions.sql"),
    },
    Migration {
        version: 10,
        name: "action_events",
        sql: include_str!("../migrations/0010_action_events.sql"),
    },
];

pub(crate) async fn run(db: &Db) -> Result<()> {
    let mut tx = db.write_tx().await?;
    if db.backend() == Backend::Postgres {
        // Replicas starting together must not migrate twice.
        tx.execute("SELECT pg_advisory_xact_lock(727366)").await?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        .fetch_one(&mut *tx)
        .await?
        .try_get("v")?;
    for m in MIGRATIONS.iter().filter(|m| m.version > applied) {
        tracing::info!(version = m.version, name = m.name, "applying migration");
        sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
