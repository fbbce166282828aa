//! Matching source headers to canonical fields. Generic over the entity so that
//! clients and employees can reuse it with their own field lists.

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;

use serde::{Serialize, Serializer};

use crate::error::FileErrorKind;
use crate::options::ColumnMapping;
use crate::source::Row;
use crate::values::{Currency, is_absent};

/// A canonical field of an importable entity.
pub trait Field: Copy + Eq + Debug + 'static {
    const ALL: &'static [Self];

    fn name(self) -> &'static str;

    /// Header spellings in normalised form (see [`normalise_header`]).
    fn synonyms(self) -> &'static [&'static str];

    /// Whether a sample value looks like this field. Only used to settle headers
    /// that are synonyms of several fields, such as `area`.
    fn fits(self, _value: &str) -> bool {
        true
    }

    fn from_name(name: &str) -> Option<Self> {
        let key = normalise_header(name);
        Self::ALL
            .iter()
            .copied()
            .find(|f| normalise_header(f.name()) == key)
    }
}

/// Where a source column goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<F> {
    Field(F),
    /// Kept verbatim as a `(header, value)` attribute.
    Attribute,
}

impl<F: Field> Serialize for Target<F> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Target::Field(f) => s.serialize_str(f.name()),
            Target::Attribute => s.serialize_str("attribute"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(bound(serialize = ""))]
pub struct ColumnBinding<F: Field> {
    /// Header as shown to the user; blank headers become `Column N`.
    pub column: String,
    #[serde(skip)]
    pub index: usize,
    pub target: Target<F>,
}

/// Lowercases and drops spaces, `_`, `-` and `.` so `Listing_ID`, `listing id` and
/// `Listing-Id` compare equal.
pub fn normalise_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '_' | '-' | '.')))
        .flat_map(char::to_lowercase)
        .collect()
}

/// `Price (AED)` → `price`, `Size [m2]` → `size`.
fn without_hint(normalised: &str) -> Option<&str> {
    let open = match normalised.chars().last()? {
        ')' => '(',
        ']' => '[',
        _ => return None,
    };
    let base = &normalised[..normalised.rfind(open)?];
    (!base.is_empty()).then_some(base)
}

fn candidates<F: Field>(header: &str) -> Vec<F> {
    let key = normalise_header(header);
    let matching = |k: &str| -> Vec<F> {
        F::ALL
            .iter()
            .copied()
            .filter(|f| f.synonyms().contains(&k))
            .collect()
    };
    let found = matching(&key);
    match without_hint(&key) {
        Some(base) if found.is_empty() => matching(base),
        _ => found,
    }
}

/// Resolves every column: explicit mapping first, then synonyms. Two columns
/// claiming one field is an error rather than a silent pick.
pub fn resolve<F: Field>(
    headers: &[String],
    rows: &[Row],
    mapping: Option<&ColumnMapping>,
) -> Result<Vec<ColumnBinding<F>>, FileErrorKind> {
    let names = display_names(headers);
    let mut targets: Vec<Option<Target<F>>> = vec![None; names.len()];

    if let Some(mapping) = mapping {
        for (source, target) in &mapping.columns {
            let index = find_column(headers, source).ok_or_else(|| {
                FileErrorKind::Mapping(format!("column {source:?} is not in the file"))
            })?;
            targets[index] = Some(parse_target::<F>(source, target)?);
        }
    }
    let explicit: Vec<F> = targets
        .iter()
        .filter_map(|t| match t {
            Some(Target::Field(f)) => Some(*f),
            _ => None,
        })
        .collect();

    // Unambiguous synonyms first, so an ambiguous header can take what is left.
    let mut pending = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        if targets[i].is_some() {
            continue;
        }
        let found: Vec<F> = candidates::<F>(header)
            .into_iter()
            .filter(|f| !explicit.contains(f))
            .collect();
        match found.len() {
            0 => targets[i] = Some(Target::Attribute),
            1 => targets[i] = Some(Target::Field(found[0])),
            _ => pending.push((i, found)),
        }
    }
    for (i, found) in pending {
        let taken = |f: &F| targets.contains(&Some(Target::Field(*f)));
        let free: Vec<F> = found.into_iter().filter(|f| !taken(f)).collect();
        let pick = free
            .iter()
            .copied()
            .find(|f| mostly_fits(*f, rows, i))
            .or_else(|| free.first().copied());
        targets[i] = Some(pick.map_or(Target::Attribute, Target::Field));
    }

    let bindings: Vec<ColumnBinding<F>> = names
        .into_iter()
        .zip(targets)
        .enumerate()
        .map(|(index, (column, target))| ColumnBinding {
            column,
            index,
            target: target.unwrap_or(Target::Attribute),
        })
        .collect();
    check_unique(&bindings)?;
    Ok(bindings)
}

/// Each group needs at least one of its fields mapped, e.g. `[[Id], [Price], [Title, Type]]`.
pub fn check_required<F: Field>(
    bindings: &[ColumnBinding<F>],
    groups: &[&[F]],
) -> Result<(), FileErrorKind> {
    let has = |f: &F| bindings.iter().any(|b| b.target == Target::Field(*f));
    let missing: Vec<String> = groups
        .iter()
        .filter(|group| !group.iter().any(has))
        .map(|group| {
            group
                .iter()
                .map(|f| describe(*f))
                .collect::<Vec<_>>()
                .join(" or ")
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(FileErrorKind::MissingColumns(missing))
    }
}

fn describe<F: Field>(field: F) -> String {
    let own = normalise_header(field.name());
    let examples: Vec<&str> = field
        .synonyms()
        .iter()
        .copied()
        .filter(|s| **s != own)
        .take(3)
        .collect();
    if examples.is_empty() {
        field.name().to_string()
    } else {
        format!("{} (e.g. {})", field.name(), examples.join(", "))
    }
}

fn mostly_fits<F: Field>(field: F, rows: &[Row], index: usize) -> bool {
    let sample: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.cells.get(index))
        .map(|c| c.text.as_str())
        .filter(|t| !is_absent(t))
        .take(20)
        .collect();
    let fitting = sample.iter().filter(|v| field.fits(v)).count();
    fitting * 2 >= sample.len()
}

fn find_column(headers: &[String], source: &str) -> Option<usize> {
    headers.iter().position(|h| h == source).or_else(|| {
        let key = normalise_header(source);
        headers.iter().position(|h| normalise_header(h) == key)
    })
}

fn parse_target<F: Field>(source: &str, target: &str) -> Result<Target<F>, FileErrorKind> {
    if normalise_header(target) == "attribute" {
        return Ok(Target::Attribute);
    }
    F::from_name(target).map(Target::Field).ok_or_else(|| {
        let names: Vec<&str> = F::ALL.iter().map(|f| f.name()).collect();
        FileErrorKind::Mapping(format!(
            "column {source:?} maps to unknown field {target:?}; expected attribute or one of: {}",
            names.join(", ")
        ))
    })
}

fn check_unique<F: Field>(bindings: &[ColumnBinding<F>]) -> Result<(), FileErrorKind> {
    for field in F::ALL {
        let columns: Vec<String> = bindings
            .iter()
            .filter(|b| b.target == Target::Field(*field))
            .map(|b| b.column.clone())
            .collect();
        if columns.len() > 1 {
            return Err(FileErrorKind::DuplicateColumns {
                field: field.name().to_string(),
                columns,
            });
        }
    }
    Ok(())
}

/// A currency named after the first word of a header: `Asking (AED)`,
/// `Price USD`, `Budget ($)`.
pub(crate) fn currency_in_header(header: &str) -> Option<Currency> {
    header
        .split(|c: char| c.is_whitespace() || "()[]_-/:".contains(c))
        .filter(|w| !w.is_empty())
        .skip(1)
        .find_map(Currency::parse)
}

/// Blank headers become `Column N` and repeated ones get ` (2)`, so attribute
/// names stay unique.
fn display_names(headers: &[String]) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    for (i, header) in headers.iter().enumerate() {
        let base = if header.is_empty() {
            format!("Column {}", i + 1)
        } else {
            header.clone()
        };
        let mut name = base.clone();
        let n = next_suffix.entry(base.clone()).or_insert(2);
        while seen.contains(&name) {
            name = format!("{base} ({n})");
            *n += 1;
        }
        seen.insert(name.clone());
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(normalise_header(" Listing_ID "), "listingid");
        assert_eq!(normalise_header("No. of Bedrooms"), "noofbedrooms");
        assert_eq!(normalise_header("Built-up Area"), "builtuparea");
        assert_eq!(without_hint("price(aed)"), Some("price"));
        assert_eq!(without_hint("size[m2]"), Some("size"));
        assert_eq!(without_hint("(x)"), None);
        assert_eq!(without_hint("price"), None);
    }

    #[test]
    fn currency_hints() {
        let c = |s| Currency::parse(s);
        assert_eq!(currency_in_header("Asking (AED)"), c("AED"));
        assert_eq!(currency_in_header("Price USD"), c("USD"));
        assert_eq!(currency_in_header("Price ($)"), c("USD"));
        assert_eq!(currency_in_header("Budget (AED)"), c("AED"));
        assert_eq!(currency_in_header("Price"), None);
        assert_eq!(currency_in_header("EUR"), None);
    }

    #[test]
    fn display_names_are_unique() {
        let headers = ["a", "", "a", "a"].map(String::from);
        assert_eq!(
            display_names(&headers),
            vec!["a", "Column 2", "a (2)", "a (3)"]
        );
    }
}
