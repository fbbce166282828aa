//! The shared shape of an import's write: compare the file's rows with what is stored (by a
//! stable key and a content hash), then insert, update, leave alone, or tombstone.

use std::collections::{HashMap, HashSet};

use roost_api::imports::StoreCounts;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use crate::{Result, TenantId};

pub(crate) struct Existing {
    pub id: String,
    pub hash: String,
    pub live: bool,
}

/// Stored rows of `table` by their key column. `table` and `key` are fixed names from this
/// crate, never input.
pub(crate) async fn existing(
    tx: &mut Transaction<'static, Any>,
    table: &'static str,
    key: &'static str,
    tenant: TenantId,
) -> Result<HashMap<String, Existing>> {
    let sql = format!(
        "SELECT id, {key} AS k, content_hash, deleted_at FROM {table} WHERE tenant_id = $1"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.s())
        .fetch_all(&mut **tx)
        .await?;
    let mut map = HashMap::with_capacity(rows.len());
    for row in rows {
        map.insert(
            row.try_get::<String, _>("k")?,
            Existing {
                id: row.try_get("id")?,
                hash: row.try_get("content_hash")?,
                live: row.try_get::<Option<i64>, _>("deleted_at")?.is_none(),
            },
        );
    }
    Ok(map)
}

/// What to do with each row of a file.
pub(crate) struct Plan<'a, T> {
    /// (row id, row, is-new-row)
    pub writes: Vec<(String, &'a T, bool)>,
    /// Ids of live rows to tombstone.
    pub removed: Vec<String>,
    pub counts: StoreCounts,
    /// Live rows before the import.
    pub live_now: u64,
}

impl<T> Plan<'_, T> {
    pub fn live_after(&self) -> u64 {
        self.live_now + self.counts.inserted - self.counts.deleted
    }

    /// Sequence numbers the plan needs.
    pub fn changes(&self) -> u64 {
        (self.writes.len() + self.removed.len()) as u64
    }
}

/// Plans an upsert of `rows` over `existing`. With `replace`, live stored rows the file lacks
/// are removed, of those whose key it accepts.
pub(crate) fn plan<'a, T>(
    existing: &HashMap<String, Existing>,
    rows: &'a [T],
    key: impl Fn(&T) -> &str,
    hash: impl Fn(&T) -> &str,
    replace: Option<&dyn Fn(&str) -> bool>,
) -> Plan<'a, T> {
    let mut counts = StoreCounts::default();
    let mut writes = Vec::new();
    for row in rows {
        match existing.get(key(row)) {
            None => {
                counts.inserted += 1;
                writes.push((Uuid::now_v7().to_string(), row, true));
            }
            Some(e) if e.live && e.hash == hash(row) => counts.unchanged += 1,
            Some(e) => {
                if e.live {
                    counts.updated += 1;
                } else {
                    counts.inserted += 1; // a removed row comes back
                }
                writes.push((e.id.clone(), row, false));
            }
        }
    }
    let removed: Vec<String> = match replace {
        Some(removable) => {
            let in_file: HashSet<&str> = rows.iter().map(&key).collect();
            existing
                .iter()
                .filter(|(k, e)| e.live && removable(k) && !in_file.contains(k.as_str()))
                .map(|(_, e)| e.id.clone())
                .collect()
        }
        None => Vec::new(),
    };
    counts.deleted = removed.len() as u64;
    let live_now = existing.values().filter(|e| e.live).count() as u64;
    Plan {
        writes,
        removed,
        counts,
        live_now,
    }
}

/// Tombstones `ids` of `table`, numbering the changes from `seq`; returns the next number.
pub(crate) async fn tombstone(
    tx: &mut Transaction<'static, Any>,
    table: &'static str,
    tenant: TenantId,
    ids: &[String],
    mut seq: i64,
    now: i64,
) -> Result<i64> {
    let sql = format!(
        "UPDATE {table} SET deleted_at = $3, updated_at = $3, seq = $4 WHERE tenant_id = $1 AND id = $2"
    );
    for id in ids {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(tenant.s())
            .bind(id)
            .bind(now)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        seq += 1;
    }
    Ok(seq)
}
