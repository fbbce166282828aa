//! Citation markers: `[1]`, `[1, 2]`, `[1][2]`, `[2-4]`.

use roost_api::chat::Citation;

use crate::Source;

/// Longest marker read, brackets included; anything longer is prose in brackets.
const MAX_MARKER: usize = 48;
/// Widest range `[a-b]` expanded; wider ones are not citations.
const MAX_RANGE: u64 = 20;

/// Numbers cited in `text` as `[n]`, `[n, m]`, `[n][m]` or `[a-b]`, in order of first
/// appearance, deduplicated, only those in `1..=sources`.
pub fn cited_numbers(text: &str, sources: usize) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    let mut from = 0;
    while let Some(off) = text[from..].find('[') {
        let at = from + off;
        match marker_at(&text[at..]) {
            Some((len, numbers)) => {
                for n in numbers {
                    let in_range = n >= 1 && n <= sources as u64;
                    if in_range && !out.contains(&(n as u32)) {
                        out.push(n as u32);
                    }
                }
                from = at + len;
            }
            None => from = at + 1,
        }
    }
    out
}

/// The citations of the sources `text` cites, in first-citation order.
pub fn citations(text: &str, sources: &[Source]) -> Vec<Citation> {
    cited_numbers(text, sources.len())
        .into_iter()
        .filter_map(|n| sources.iter().find(|s| s.n == n))
        .map(Source::citation)
        .collect()
}

/// When `s` starts with a citation marker: its length in bytes and the numbers it names
/// (unchecked against the sources; figures too long for u64 are skipped).
pub(crate) fn marker_at(s: &str) -> Option<(usize, Vec<u64>)> {
    let rest = s.strip_prefix('[')?;
    let close = rest.find(']')?;
    if close + 2 > MAX_MARKER {
        return None;
    }
    let inner = &rest[..close];
    let mut numbers = Vec::new();
    for item in inner.split([',', ';']) {
        let item = item.trim();
        let (a, b) = match item.split_once(['-', '–']) {
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (item, None),
        };
        let a = number(a)?;
        match b {
            None => numbers.extend(a),
            Some(b) => {
                let (a, b) = (a?, number(b)??);
                if b < a || b - a >= MAX_RANGE {
                    return None;
                }
                numbers.extend(a..=b);
            }
        }
    }
    Some((close + 2, numbers))
}

/// `Some(Some(n))` for digits, `Some(None)` for digits too long to matter, `None` otherwise.
fn number(s: &str) -> Option<Option<u64>> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, usize, &[u32])] = &[
            ("", 5, &[]),
            ("Marina Gate [1] and Bay Central [2].", 5, &[1, 2]),
            ("repeat [2] then [1] then [2]", 5, &[2, 1]),
            ("list [1,2] and [3, 4]", 5, &[1, 2, 3, 4]),
            ("adjacent [1][2][1]", 5, &[1, 2]),
            ("range [2-4] and en dash [5–6]", 9, &[2, 3, 4, 5, 6]),
            ("out of range [0] [6] [7, 2]", 5, &[2]),
            ("no sources [1]", 0, &[]),
            ("huge [99999999999999999999] [1]", 3, &[1]),
            ("prose [see above] [1a] [] [ ] [1,] [,1]", 5, &[]),
            ("reversed [4-2] wide [1-40]", 50, &[]),
            ("nested [[3]] and link [4](http://x)", 5, &[3, 4]),
            ("unclosed [1 and later [2]", 5, &[2]),
            ("spaces [ 3 ,  1 ]; semicolon [2; 5]", 5, &[3, 1, 2, 5]),
            ("Arabic نعم [2] emoji 🏠 [1]", 2, &[2, 1]),
        ];
        for (text, n, want) in cases {
            assert_eq!(&cited_numbers(text, *n), want, "{text:?}");
        }
    }

    #[test]
    fn markers_know_their_length() {
        assert_eq!(marker_at("[12] x"), Some((4, vec![12])));
        assert_eq!(marker_at("[1, 2]"), Some((6, vec![1, 2])));
        assert_eq!(marker_at("[x]"), None);
        assert_eq!(marker_at("12]"), None);
    }
}
