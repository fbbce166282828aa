//! Agent resources: the company's own guidance (commission policy, scripts,
//! checklists), each shown to the roles it is meant for.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::de::{JsonDate, StringList};
use super::{ItemProblems, ParsedItems, envelope, member_path, typed};
use crate::employee::Role;
use crate::error::{FileError, ItemError};
use crate::options::ImportOptions;
use crate::values::Date;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceRecord {
    /// 0-based position in the file's array.
    pub index: usize,
    /// As given, or `res-` and 16 hex digits of the SHA-256 of the title
    /// (lowercased, spaces collapsed), so re-importing the same title updates
    /// the same resource.
    pub id: String,
    pub title: String,
    /// Markdown allowed; kept as written apart from trimming.
    pub body: String,
    pub tags: Vec<String>,
    /// Who may see it; all roles when the file does not say.
    pub audience: Vec<Role>,
    pub updated_at: Option<Date>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResource {
    id: Option<String>,
    title: String,
    #[serde(alias = "content")]
    body: String,
    #[serde(default)]
    tags: StringList,
    audience: Option<StringList>,
    updated_at: Option<JsonDate>,
}

pub(crate) fn parse(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedItems<ResourceRecord>, FileError> {
    let env = envelope(bytes, file_name, opts, "resources", &[])?;
    let items_read = env.items.len();
    let mut built: Vec<Option<ResourceRecord>> = Vec::with_capacity(items_read);
    let mut errors = Vec::new();
    for (index, value) in env.items.into_iter().enumerate() {
        let mut p = ItemProblems::new(&env.prefix, index);
        match typed::<RawResource>(value, &p.base) {
            Ok(raw) => match build(index, raw, &mut p) {
                Some(r) => built.push(Some(r)),
                None => {
                    errors.append(&mut p.errors);
                    built.push(None);
                }
            },
            Err((path, reason)) => {
                p.add_at(path, reason);
                errors.append(&mut p.errors);
                built.push(None);
            }
        }
    }
    errors.extend(duplicate_ids(&mut built, &env.prefix));
    errors.sort_by_key(|e| e.index);
    Ok(ParsedItems {
        records: built.into_iter().flatten().collect(),
        errors,
        items_read,
    })
}

fn build(index: usize, raw: RawResource, p: &mut ItemProblems) -> Option<ResourceRecord> {
    let title = raw.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let body = raw.body.trim().to_string();
    if title.is_empty() {
        p.add(Some("title"), "title is required");
    }
    if body.is_empty() {
        p.add(Some("body"), "body is required");
    }
    let id = match raw.id.as_deref().map(str::trim) {
        Some("") => {
            p.add(
                Some("id"),
                "id is empty; leave it out to derive one from the title",
            );
            String::new()
        }
        Some(id) => id.to_string(),
        None => derived_id(&title),
    };
    let mut audience = Vec::new();
    for (i, name) in raw
        .audience
        .map(|a| a.0)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let key = name.to_lowercase();
        if matches!(key.as_str(), "all" | "everyone" | "any") {
            audience.extend(Role::ALL);
            continue;
        }
        match Role::parse(name) {
            Some(role) => audience.push(role),
            None => p.add_at(
                format!("{}[{i}]", member_path(&p.base, "audience")),
                format!("unknown role {name:?}; expected agent, manager, admin or all"),
            ),
        }
    }
    if audience.is_empty() {
        audience.extend(Role::ALL);
    }
    audience.sort();
    audience.dedup();
    if !p.errors.is_empty() {
        return None;
    }
    Some(ResourceRecord {
        index,
        id,
        title,
        body,
        tags: raw.tags.0,
        audience,
        updated_at: raw.updated_at.map(|d| d.0),
    })
}

fn derived_id(title: &str) -> String {
    let key = title.to_lowercase();
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("res-{hex}")
}

/// Two resources with one id (given, or the same title) would overwrite each
/// other; neither is imported and each names the other.
fn duplicate_ids(built: &mut [Option<ResourceRecord>], prefix: &str) -> Vec<ItemError> {
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    for r in built.iter().flatten() {
        seen.entry(r.id.clone()).or_default().push(r.index);
    }
    let mut errors = Vec::new();
    for (id, indexes) in seen {
        if indexes.len() < 2 {
            continue;
        }
        for &i in &indexes {
            let others: Vec<String> = indexes
                .iter()
                .filter(|&&o| o != i)
                .map(|o| format!("{prefix}[{o}]"))
                .collect();
            errors.push(ItemError {
                index: i,
                path: member_path(&format!("{prefix}[{i}]"), "id"),
                reason: format!(
                    "duplicate id {id:?} (given, or derived from the same title), also at {}",
                    others.join(", ")
                ),
            });
            built[i] = None;
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable() {
        assert_eq!(
            derived_id("commission policy"),
            derived_id("commission policy")
        );
        assert_ne!(
            derived_id("commission policy"),
            derived_id("viewing checklist")
        );
        assert!(derived_id("x").starts_with("res-"));
        assert_eq!(derived_id("x").len(), 20);
    }
}
