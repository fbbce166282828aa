//! Pure value parsers. Each takes the raw cell text and returns a typed value or a
//! short reason that ends up in a `RowError`.

mod boolean;
mod contact;
mod count;
mod date;
mod geo;
mod list;
mod money;
mod number;
mod period;
mod photos;
mod size;

pub use boolean::parse_bool;
pub use contact::{Phone, parse_email, parse_phone};
pub use count::{Bathrooms, parse_bathrooms, parse_bedrooms};
pub use date::{Date, DateOrder, parse_date};
pub use geo::{parse_latitude, parse_longitude};
pub use list::{LIST_SEPARATORS, parse_list, split_list};
pub use money::{Currency, ParsedPrice, Price, parse_price};
pub use number::{Decimal, DecimalMark, NumberError, parse_decimal};
pub use period::{Period, parse_period};
pub use photos::parse_photos;
pub use size::{Size, SizeUnit, parse_size};

/// Whether a cell means "no value". Spreadsheets are full of placeholders; treating
/// `N/A` as a title or `-` as zero would be silent corruption.
pub fn is_absent(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.chars().all(|c| matches!(c, '-' | '–' | '—')) {
        return true;
    }
    let lower = t.to_lowercase();
    matches!(
        lower.as_str(),
        "n/a" | "na" | "n.a." | "n.a" | "#n/a" | "none" | "null" | "nil" | "?" | "tbc" | "tba"
    )
}

/// Splits `text` into the part before the first ASCII digit, the numeric run that
/// follows (digits and separators), and the rest.
pub(crate) fn split_number(text: &str) -> Option<(&str, &str, &str)> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let tail = &text[start..];
    let len = tail
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || number::is_separator(c)))
        .map_or(tail.len(), |(i, _)| i);
    let (core, rest) = tail.split_at(len);
    Some((&text[..start], core.trim_end(), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinels_are_absent() {
        for s in [
            "", "  ", "N/A", "NA", "n/a", "none", "NULL", "-", "--", "?", "#N/A", "—", "nil",
        ] {
            assert!(is_absent(s), "{s:?} should be absent");
        }
        for s in ["0", "no", "Nadia", "NAS", "n", "-1", "1-2"] {
            assert!(!is_absent(s), "{s:?} should be a value");
        }
    }

    #[test]
    fn split_number_finds_the_numeric_run() {
        assert_eq!(split_number("AED 1.2M"), Some(("AED ", "1.2", "M")));
        assert_eq!(split_number("116 m2"), Some(("", "116", "m2")));
        assert_eq!(split_number("1 250 sq ft"), Some(("", "1 250", "sq ft")));
        assert_eq!(split_number("studio"), None);
    }
}
