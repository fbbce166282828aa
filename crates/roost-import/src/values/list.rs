//! Lists in one cell: `English, Arabic`, `Marina; JLT`, `Downtown | Business Bay`.

/// Separators of list cells.
pub const LIST_SEPARATORS: &[char] = &[',', ';', '|', '/', '\n'];

/// Splits on `,` `;` `|` `/` and line breaks, trims, drops empty and
/// placeholder items and repeats (ignoring case), keeping the first spelling.
pub fn parse_list(text: &str) -> Vec<String> {
    split_list(text, LIST_SEPARATORS)
}

/// Like [`parse_list`] with the caller's separators, for free text where `/`
/// and `,` carry meaning (`3/4 bed`, `sale/rent`).
pub fn split_list(text: &str, separators: &[char]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // `/` second, so that a placeholder `N/A` is seen whole and dropped.
    let first: Vec<char> = separators.iter().copied().filter(|c| *c != '/').collect();
    let slash = separators.contains(&'/');
    for part in text.split(first.as_slice()) {
        if super::is_absent(part) {
            continue;
        }
        let items: Vec<&str> = if slash {
            part.split('/').collect()
        } else {
            vec![part]
        };
        for item in items {
            let item = item.split_whitespace().collect::<Vec<_>>().join(" ");
            if super::is_absent(&item) {
                continue;
            }
            if !out.iter().any(|o| o.to_lowercase() == item.to_lowercase()) {
                out.push(item);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        assert_eq!(
            parse_list("English, Arabic;Hindi | Urdu/French"),
            ["English", "Arabic", "Hindi", "Urdu", "French"]
        );
        assert_eq!(
            parse_list(" Dubai  Marina ,, N/A, dubai marina "),
            ["Dubai Marina"]
        );
        assert!(parse_list(" ; , ").is_empty());
        assert_eq!(split_list("3/4 bed; garden", &[';']), ["3/4 bed", "garden"]);
    }
}
