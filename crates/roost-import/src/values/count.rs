//! Bedroom and bathroom counts.

use serde::Serialize;

/// Bedrooms: `3`, `3 BR`, `3 beds`, `3 BHK`, `Studio` (0). In `3+1` the `+1` is a
/// maid's room or study, which listings do not count as a bedroom, so it reads 3.
pub fn parse_bedrooms(text: &str) -> Result<u16, String> {
    let t = strip_words(text, &["br", "bed", "beds", "bedroom", "bedrooms", "bhk"]);
    if matches!(t.as_str(), "studio" | "st" | "studio apartment") {
        return Ok(0);
    }
    let first = t.split('+').next().unwrap_or("");
    whole(first.trim()).ok_or_else(|| "not a bedroom count".into())
}

/// Full and half bathrooms. US listings write a powder room as a half bath: `2.5`
/// and `2+1` both mean two full bathrooms and one half bathroom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bathrooms {
    pub full: u16,
    pub half: u16,
}

pub fn parse_bathrooms(text: &str) -> Result<Bathrooms, String> {
    let t = strip_words(text, &["ba", "bath", "baths", "bathroom", "bathrooms"]);
    let bad = || "not a bathroom count".to_string();
    if let Some((full, half)) = t.split_once('+') {
        let full = whole(full.trim()).ok_or_else(bad)?;
        let half = whole(half.trim()).ok_or_else(bad)?;
        return Ok(Bathrooms { full, half });
    }
    if let Some(full) = t.strip_suffix(".5") {
        let full = whole(full).ok_or_else(bad)?;
        return Ok(Bathrooms { full, half: 1 });
    }
    let full = whole(&t).ok_or_else(bad)?;
    Ok(Bathrooms { full, half: 0 })
}

/// `3`, or `3.0` as exported by spreadsheets.
fn whole(text: &str) -> Option<u16> {
    let digits = text.strip_suffix(".0").unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn strip_words(text: &str, words: &[&str]) -> String {
    let lower = text.trim().to_lowercase();
    for w in words.iter().copied() {
        if let Some(rest) = lower.strip_suffix(w)
            && rest.ends_with(|c: char| c.is_ascii_digit() || c == ' ')
        {
            return rest.trim().to_string();
        }
    }
    lower
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bedrooms() {
        let cases = [
            ("3", Ok(3)),
            (" 3 ", Ok(3)),
            ("3 BR", Ok(3)),
            ("3BR", Ok(3)),
            ("4 Bedrooms", Ok(4)),
            ("2 BHK", Ok(2)),
            ("Studio", Ok(0)),
            ("3+1", Ok(3)),
            ("3 + maid", Ok(3)),
            ("3.0", Ok(3)),
            ("3.5", Err(())),
            ("-1", Err(())),
            ("three", Err(())),
            ("70000", Err(())),
            ("BR", Err(())),
        ];
        for (input, want) in cases {
            assert_eq!(parse_bedrooms(input).map_err(|_| ()), want, "{input:?}");
        }
    }

    #[test]
    fn bathrooms() {
        let b = |full, half| Ok(Bathrooms { full, half });
        let cases = [
            ("2", b(2, 0)),
            ("2.0", b(2, 0)),
            ("2.5", b(2, 1)),
            ("2+1", b(2, 1)),
            ("3 baths", b(3, 0)),
            ("2.5 BA", b(2, 1)),
            ("2.25", Err(())),
            ("2.", Err(())),
            (".5", Err(())),
            ("x", Err(())),
        ];
        for (input, want) in cases {
            assert_eq!(parse_bathrooms(input).map_err(|_| ()), want, "{input:?}");
        }
    }
}
