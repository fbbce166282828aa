//! Splitting a composed answer into pieces to stream, so the built-in answerer feels like
//! the LLM providers.

use crate::cite::marker_at;

/// Words per piece, at most.
const WORDS: usize = 3;
/// A piece this long (bytes) ends at the next word boundary even with fewer words.
const LONG: usize = 24;

/// Pieces to stream; concatenated they equal `text` exactly. Each is ~1–4 words: split only
/// where a word starts after whitespace, also after each line break (tables stream by row),
/// and never inside a citation marker such as `[1, 2]`.
pub fn stream_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut words = 0;
    let mut after_space = false;
    let mut line_ended = false;
    let mut marker_end = 0;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if !after_space && i > start {
                words += 1;
            }
            after_space = true;
            line_ended |= c == '\n';
            continue;
        }
        let inside_marker = i < marker_end;
        if c == '['
            && !inside_marker
            && let Some((len, _)) = marker_at(&text[i..])
        {
            marker_end = i + len;
        }
        if after_space && !inside_marker && (words >= WORDS || line_ended || i - start >= LONG) {
            pieces.push(&text[start..i]);
            start = i;
            words = 0;
            line_ended = false;
        }
        after_space = false;
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cited_numbers;

    const SAMPLES: &[&str] = &[
        "",
        " ",
        "one",
        "  leading and trailing  ",
        "Marina Gate [1] and Bay Central [2], both under budget [1, 2][3].",
        "3 listings match 3 bedrooms · Dubai Marina · under AED 2.5M; the best 3:\n\n| Listing | Community |\n|---|---|\n| Marina Gate [1] | Dubai Marina |\n",
        "الشقق في دبي مارينا [1] تسمح بالحيوانات الأليفة [2].",
        "Emoji 🏠🏡 family 👨‍👩‍👧 flags 🇦🇪 [3]\r\nwindows line\ttab",
        "> From *Policy* [4]:\n>\n> Off-plan commission is split 50/50.",
        "averyveryveryveryveryverylongwordwithoutanyspaceatallinit and more",
        "[1][2][3] [4, 5, 6] [7 , 8] [see above] [12]",
        "中文没有空格的句子。第二句 [1]",
    ];

    #[test]
    fn pieces_concatenate_to_the_text() {
        for text in SAMPLES {
            let pieces = stream_pieces(text);
            assert_eq!(pieces.concat(), *text, "{text:?}");
            assert!(pieces.iter().all(|p| !p.is_empty()), "{text:?}");
        }
    }

    #[test]
    fn pieces_are_a_few_words() {
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let pieces = stream_pieces(text);
        assert!(pieces.len() >= 3, "{pieces:?}");
        for p in &pieces {
            let words = p.split_whitespace().count();
            assert!((1..=4).contains(&words), "{p:?}");
        }
    }

    #[test]
    fn markers_are_never_split() {
        for text in SAMPLES {
            let all = cited_numbers(text, 100);
            let mut joined = Vec::new();
            for p in stream_pieces(text) {
                // Every marker sits whole in one piece: the pieces cite what the text cites.
                for n in cited_numbers(p, 100) {
                    if !joined.contains(&n) {
                        joined.push(n);
                    }
                }
            }
            assert_eq!(joined, all, "{text:?}");
        }
        let pieces = stream_pieces("a b c d e f g [4, 5, 6] h");
        assert!(pieces.iter().any(|p| p.contains("[4, 5, 6]")), "{pieces:?}");
    }

    #[test]
    fn lines_start_new_pieces() {
        let pieces = stream_pieces("a [1]\nb [2]\n");
        assert_eq!(pieces, ["a [1]\n", "b [2]\n"]);
    }
}
