//! JSON imports (market intelligence, agent resources): a document
//! `{ "<key>": [ … ] }` or a bare array, read item by item so that one bad item
//! is reported with its JSON path while the others still import.

mod de;
pub(crate) mod market;
pub(crate) mod resources;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use serde_path_to_error::{Path, Segment};

use crate::error::{FileError, FileErrorKind, ItemError};
use crate::options::ImportOptions;

/// The outcome of reading one JSON file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedItems<R> {
    pub records: Vec<R>,
    /// Sorted by item; an item appears here if and only if it is not in `records`.
    pub errors: Vec<ItemError>,
    /// Items in the array.
    pub items_read: usize,
}

/// The array and the other top-level keys of the document.
pub(crate) struct Envelope {
    /// `$.items` or `$` (bare array): where item paths start.
    pub prefix: String,
    pub items: Vec<Value>,
    pub settings: Map<String, Value>,
}

/// Reads the outer shape. `settings` names the top-level keys allowed beside
/// the array (document-wide defaults); any other key is an error.
pub(crate) fn envelope(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
    key: &str,
    settings: &[&str],
) -> Result<Envelope, FileError> {
    let fail = |kind| FileError {
        file: file_name.to_string(),
        kind,
    };
    if bytes.len() > opts.max_bytes {
        return Err(fail(FileErrorKind::TooLarge {
            size: bytes.len(),
            max: opts.max_bytes,
        }));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fail(FileErrorKind::Empty));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        fail(FileErrorKind::JsonSyntax {
            line: e.line(),
            column: e.column(),
            reason: syntax_reason(&e),
        })
    })?;
    let shape = |path: String, reason: String| fail(FileErrorKind::Json { path, reason });
    match value {
        Value::Array(items) => Ok(Envelope {
            prefix: "$".to_string(),
            items,
            settings: Map::new(),
        }),
        Value::Object(mut object) => {
            let items = match object.remove(key) {
                Some(Value::Array(items)) => items,
                Some(other) => {
                    return Err(shape(
                        format!("$.{key}"),
                        format!("expected an array, found {}", kind_of(&other)),
                    ));
                }
                None => {
                    return Err(shape(
                        "$".to_string(),
                        format!("missing field `{key}` (the array of {key})"),
                    ));
                }
            };
            if let Some(unknown) = object.keys().find(|k| !settings.contains(&k.as_str())) {
                let mut expected = vec![format!("`{key}`")];
                expected.extend(settings.iter().map(|s| format!("`{s}`")));
                return Err(shape(
                    member_path("$", unknown),
                    format!(
                        "unknown field `{unknown}`, expected {}",
                        expected.join(" or ")
                    ),
                ));
            }
            Ok(Envelope {
                prefix: format!("$.{key}"),
                items,
                settings: object,
            })
        }
        other => Err(shape(
            "$".to_string(),
            format!(
                "expected an object with `{key}` or an array, found {}",
                kind_of(&other)
            ),
        )),
    }
}

fn syntax_reason(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C", which the error already says.
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deserialises a value, naming the path of the first problem under `base`.
pub(crate) fn typed<T: DeserializeOwned>(value: Value, base: &str) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = join_path(base, e.path());
        (path, e.into_inner().to_string())
    })
}

/// `$.items[2]` + `gross_yield_pct` → `$.items[2].gross_yield_pct`.
fn join_path(base: &str, path: &Path) -> String {
    let mut out = base.to_string();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => out = member_path(&out, key),
            Segment::Enum { variant } => out = member_path(&out, variant),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// `.name` for plain keys, `["odd key"]` for the rest.
pub(crate) fn member_path(base: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        format!("{base}.{key}")
    } else {
        format!("{base}[{}]", Value::String(key.to_string()))
    }
}

/// Collects the problems of one item.
pub(crate) struct ItemProblems {
    pub index: usize,
    pub base: String,
    pub errors: Vec<ItemError>,
}

impl ItemProblems {
    pub fn new(prefix: &str, index: usize) -> ItemProblems {
        ItemProblems {
            index,
            base: format!("{prefix}[{index}]"),
            errors: Vec::new(),
        }
    }

    /// A problem at `member` of this item (`None` for the item itself).
    pub fn add(&mut self, member: Option<&str>, reason: impl Into<String>) {
        let path = member.map_or_else(|| self.base.clone(), |m| member_path(&self.base, m));
        self.errors.push(ItemError {
            index: self.index,
            path,
            reason: reason.into(),
        });
    }

    pub fn add_at(&mut self, path: String, reason: impl Into<String>) {
        self.errors.push(ItemError {
            index: self.index,
            path,
            reason: reason.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths() {
        assert_eq!(member_path("$", "items"), "$.items");
        assert_eq!(member_path("$", "odd key"), "$[\"odd key\"]");
        assert_eq!(member_path("$", "3d"), "$[\"3d\"]");
    }
}
