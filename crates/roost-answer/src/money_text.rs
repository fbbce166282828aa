//! Reading figures and money amounts out of text: "AED 2,450,000", "AED 2.45M", "$1.2
//! million", "850K AED", and bare numbers.

use std::collections::BTreeSet;

/// Currencies read as money without any price in the data naming them.
const CODES: &[&str] = &[
    "AED", "AUD", "BHD", "CAD", "CHF", "CNY", "EGP", "EUR", "GBP", "HKD", "INR", "JOD", "JPY",
    "KWD", "MAD", "NZD", "OMR", "PKR", "QAR", "RUB", "SAR", "SGD", "TRY", "USD", "ZAR",
];

/// A number found in text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figure {
    /// Byte range in the text, currency included.
    pub start: usize,
    pub end: usize,
    pub currency: Option<String>,
    /// In whole currency units (or plain units).
    pub value: f64,
    /// The value of the last digit written: 1 for "2,450,000", 10,000 for "2.45M". Amounts
    /// within half a step are the same figure written with less precision.
    pub step: f64,
}

impl Figure {
    /// Whether this figure, as written, can be `value` (in `currency`, when both say).
    pub fn matches(&self, value: f64, currency: Option<&str>) -> bool {
        if let (Some(a), Some(b)) = (self.currency.as_deref(), currency)
            && a != b
        {
            return false;
        }
        (self.value - value).abs() <= self.step / 2.0 + value.abs() * 1e-12
    }
}

/// Every number in `text`, with its currency when one is written next to it. `codes` adds
/// currency codes beyond the common ones.
pub(crate) fn figures(text: &str, codes: &BTreeSet<String>) -> Vec<Figure> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let before = currency_before(text, i, codes);
        let glued = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let (int_end, frac_end) = number_end(b, i);
        let mut end = frac_end;
        if glued && before.is_none() {
            // Part of a word such as "Q3" or "A12".
            i = end.max(i + 1);
            continue;
        }
        let int: String = text[i..int_end].chars().filter(|c| *c != ',').collect();
        let frac = text[int_end..frac_end].trim_start_matches('.');
        let Ok(mantissa) =
            format!("{int}.{}", if frac.is_empty() { "0" } else { frac }).parse::<f64>()
        else {
            i = end;
            continue;
        };
        let (mult, suffix_end) = suffix(text, end);
        end = suffix_end;
        let mut start = i;
        let mut currency = None;
        if let Some((code, code_start)) = before {
            currency = Some(code);
            start = code_start;
        } else if let Some((code, code_end)) = currency_after(text, end, codes) {
            currency = Some(code);
            end = code_end;
        }
        out.push(Figure {
            start,
            end,
            currency,
            value: mantissa * mult,
            step: 10f64.powi(-(frac.len() as i32)) * mult,
        });
        i = end.max(i + 1);
    }
    out
}

/// Only the figures that name a currency.
pub(crate) fn amounts(text: &str, codes: &BTreeSet<String>) -> Vec<Figure> {
    figures(text, codes)
        .into_iter()
        .filter(|f| f.currency.is_some())
        .collect()
}

/// End of the integer part (digits, with "," thousands groups) and of the fraction.
fn number_end(b: &[u8], start: usize) -> (usize, usize) {
    let mut j = start;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j - start <= 3 {
        // "1,250,000": groups of exactly three digits.
        while b.get(j) == Some(&b',')
            && b.get(j + 1..j + 4)
                .is_some_and(|g| g.iter().all(u8::is_ascii_digit))
            && !b.get(j + 4).is_some_and(u8::is_ascii_digit)
        {
            j += 4;
        }
    }
    let int_end = j;
    if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
    }
    (int_end, j)
}

/// A multiplier written after the number: "2.45M", "850k", "1.2 million", "3bn".
fn suffix(text: &str, at: usize) -> (f64, usize) {
    let rest = &text[at..];
    let word_end = |s: &str| {
        s.chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != '²')
    };
    for (word, mult) in [
        ("bn", 1e9),
        ("mn", 1e6),
        ("mln", 1e6),
        ("B", 1e9),
        ("M", 1e6),
        ("m", 1e6),
        ("K", 1e3),
        ("k", 1e3),
    ] {
        if let Some(after) = rest.strip_prefix(word)
            && word_end(after)
        {
            return (mult, at + word.len());
        }
    }
    let spaced = rest.strip_prefix(' ').unwrap_or("");
    for (word, mult) in [
        ("billion", 1e9),
        ("million", 1e6),
        ("thousand", 1e3),
        ("bn", 1e9),
        ("mn", 1e6),
    ] {
        if let Some(after) = spaced.strip_prefix(word)
            && word_end(after)
        {
            return (mult, at + 1 + word.len());
        }
    }
    (1.0, at)
}

fn is_code(s: &str, codes: &BTreeSet<String>) -> bool {
    s.len() == 3
        && s.bytes().all(|c| c.is_ascii_uppercase())
        && (CODES.contains(&s) || codes.contains(s))
}

/// A currency written just before byte `at`: its code and where it starts.
fn currency_before(text: &str, at: usize, codes: &BTreeSet<String>) -> Option<(String, usize)> {
    let head = &text[..at];
    let trimmed = head
        .strip_suffix(' ')
        .or_else(|| head.strip_suffix('\u{a0}'))
        .unwrap_or(head);
    for (symbol, code) in [('$', "USD"), ('€', "EUR"), ('£', "GBP")] {
        if let Some(rest) = trimmed.strip_suffix(symbol) {
            return Some((code.to_string(), rest.len()));
        }
    }
    let start = trimmed.len().checked_sub(3)?;
    let code = trimmed.get(start..)?;
    let bounded = !trimmed[..start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    (bounded && is_code(code, codes)).then(|| (code.to_string(), start))
}

/// A currency code written just after byte `at` ("850K AED"): the code and where it ends.
fn currency_after(text: &str, at: usize, codes: &BTreeSet<String>) -> Option<(String, usize)> {
    let rest = &text[at..];
    let (rest, skip) = match rest.strip_prefix(' ') {
        Some(r) => (r, 1),
        None => (rest, 0),
    };
    let code = rest.get(..3)?;
    let bounded = !rest[3..].chars().next().is_some_and(char::is_alphanumeric);
    (bounded && is_code(code, codes)).then(|| (code.to_string(), at + skip + 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(Option<String>, f64, f64)> {
        figures(text, &BTreeSet::from(["XTS".to_string()]))
            .into_iter()
            .map(|f| (f.currency, f.value, f.step))
            .collect()
    }

    fn aed(v: f64, step: f64) -> (Option<String>, f64, f64) {
        (Some("AED".into()), v, step)
    }

    #[test]
    fn table() {
        assert_eq!(read("AED 2,450,000"), [aed(2_450_000.0, 1.0)]);
        assert_eq!(read("AED 2.45M"), [aed(2_450_000.0, 10_000.0)]);
        assert_eq!(read("AED2.5M."), [aed(2_500_000.0, 100_000.0)]);
        assert_eq!(read("850K AED"), [aed(850_000.0, 1_000.0)]);
        assert_eq!(read("AED 1.2 million"), [aed(1_200_000.0, 100_000.0)]);
        assert_eq!(
            read("$1,210.50 and €3bn"),
            [
                (Some("USD".into()), 1210.5, 0.01),
                (Some("EUR".into()), 3e9, 1e9)
            ]
        );
        assert_eq!(read("XTS 12"), [(Some("XTS".into()), 12.0, 1.0)]);
        assert_eq!(
            read("1,650 sqft, 3 beds"),
            [(None, 1650.0, 1.0), (None, 3.0, 1.0)]
        );
        // Not money, not grouped: a word with digits, a code in a word, a bad group.
        assert_eq!(
            read("Q3 A12 JVC 2 XAED 5"),
            [(None, 2.0, 1.0), (None, 5.0, 1.0)]
        );
        assert_eq!(read("1,25"), [(None, 1.0, 1.0), (None, 25.0, 1.0)]);
        assert_eq!(read("Arabic ١٢٣ ok 5m²"), [(None, 5.0, 1.0)]);
    }

    #[test]
    fn matching_respects_precision_and_currency() {
        let f = &amounts("AED 2.45M", &BTreeSet::new())[0];
        assert!(f.matches(2_450_000.0, Some("AED")));
        assert!(f.matches(2_449_000.0, None));
        assert!(!f.matches(2_400_000.0, Some("AED")));
        assert!(!f.matches(2_450_000.0, Some("USD")));
        let exact = &amounts("AED 2,450,000", &BTreeSet::new())[0];
        assert!(!exact.matches(2_449_000.0, Some("AED")));
    }
}
