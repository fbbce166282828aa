//! Cutting a document into chunks of about `chunk_min_chars`..`chunk_max_chars`
//! characters: at paragraph ends where possible, else at sentence ends, and
//! inside a sentence only at spaces. A new heading starts a new chunk so every
//! chunk sits under one heading.

use super::{Block, Chunk, DocumentOptions};

/// A run of text that is never split: a heading, a sentence, a line of a
/// list, or a piece of an over-long sentence. Offsets are in characters.
#[derive(Debug, Clone, Copy)]
struct Unit {
    start: usize,
    end: usize,
    /// First unit of a paragraph or heading: a preferred place to cut.
    para_start: bool,
    is_heading: bool,
    /// Index of the block of the heading in force here.
    heading: Option<usize>,
}

/// Assembles the text from the blocks and cuts it into chunks.
pub(super) fn chunk(blocks: &[Block], opts: &DocumentOptions) -> (String, Vec<Chunk>) {
    let max = opts.chunk_max_chars.max(40);
    let min = opts.chunk_min_chars.min(max);
    // A unit must leave room for the overlap before it.
    let overlap_max = opts.overlap_max_chars.min(max / 4);
    let unit_max = max - overlap_max;

    let mut text = String::new();
    let mut chars: Vec<char> = Vec::new();
    let mut units: Vec<Unit> = Vec::new();
    let mut heading = None;
    for (b, block) in blocks.iter().enumerate() {
        if !text.is_empty() {
            text.push_str("\n\n");
            chars.extend(['\n', '\n']);
        }
        let start = chars.len();
        text.push_str(&block.text);
        chars.extend(block.text.chars());
        if block.heading.is_some() {
            heading = Some(b);
        }
        let first = units.len();
        for (s, e) in sentences(&chars, start, chars.len()) {
            for (s, e) in pieces(&chars, s, e, unit_max) {
                units.push(Unit {
                    start: s,
                    end: e,
                    para_start: false,
                    is_heading: block.heading.is_some(),
                    heading,
                });
            }
        }
        if let Some(u) = units.get_mut(first) {
            u.para_start = true;
        }
    }

    let mut chunks = Vec::new();
    let mut i = 0;
    let mut overlap: Option<usize> = None;
    while i < units.len() {
        let start = overlap.map_or(units[i].start, |k| units[k].start);
        let mut has_body = !units[i].is_heading;
        let mut j = i + 1;
        while j < units.len() && units[j].end - start <= max {
            // A heading after some body text starts the next chunk.
            if units[j].is_heading && units[j].para_start && has_body {
                break;
            }
            has_body |= !units[j].is_heading;
            j += 1;
        }
        let mid_paragraph = j < units.len() && !units[j].para_start;
        if mid_paragraph
            && let Some(k) = (i + 1..j)
                .rev()
                .find(|&k| units[k].para_start && units[k - 1].end - start >= min)
        {
            j = k;
        }
        let end = units[j - 1].end;
        let heading = units[i..j]
            .iter()
            .find(|u| !u.is_heading)
            .unwrap_or(&units[i])
            .heading;
        chunks.push(Chunk {
            index: chunks.len(),
            heading: heading.map(|h| blocks[h].text.clone()),
            text: chars[start..end].iter().collect(),
            char_start: start,
            char_end: end,
        });

        // Repeat the last sentence when it is short, the chunk had more than
        // it, and the next chunk continues the same section.
        let last = j - 1;
        overlap = (j < units.len()
            && last > i
            && !units[j].is_heading
            && !units[last].is_heading
            && units[last].end - units[last].start <= overlap_max
            && units[j].end - units[last].start <= max)
            .then_some(last);
        i = j;
    }
    (text, chunks)
}

/// Sentence ranges in `start..end`, without the spaces between them. A
/// sentence ends at a line break, or at `.` `!` `?` `…` (and any closing
/// quotes or brackets) followed by a space and a character that is not a
/// lowercase letter (so `e.g. this` stays whole).
fn sentences(chars: &[char], start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = start;
    let mut i = start;
    while i < end {
        let c = chars[i];
        let cut = if c == '\n' {
            Some(i)
        } else if matches!(c, '.' | '!' | '?' | '…') && !is_label(&chars[s..i]) {
            let mut k = i + 1;
            while k < end && matches!(chars[k], '"' | '\'' | '”' | '’' | ')' | ']') {
                k += 1;
            }
            let next = (k..end).find(|&n| !chars[n].is_whitespace());
            let spaced = k < end && chars[k].is_whitespace();
            match next {
                Some(n) if spaced && !chars[n].is_lowercase() => Some(k),
                _ => None,
            }
        } else {
            None
        };
        match cut {
            Some(k) => {
                push_trimmed(chars, s, k, &mut out);
                s = k;
                i = k.max(i + 1);
            }
            None => i += 1,
        }
    }
    push_trimmed(chars, s, end, &mut out);
    out
}

/// `1`, `a`, `Mr`: a list number or abbreviation before a dot, not a sentence.
fn is_label(before: &[char]) -> bool {
    let word: Vec<&char> = before.iter().skip_while(|c| c.is_whitespace()).collect();
    let digits = word.len() <= 3 && word.iter().all(|c| c.is_ascii_digit());
    (digits || word.len() <= 2) && !word.iter().any(|c| c.is_whitespace())
}

fn push_trimmed(chars: &[char], mut s: usize, mut e: usize, out: &mut Vec<(usize, usize)>) {
    while s < e && chars[s].is_whitespace() {
        s += 1;
    }
    while e > s && chars[e - 1].is_whitespace() {
        e -= 1;
    }
    if s < e {
        out.push((s, e));
    }
}

/// Splits a sentence longer than `max` at spaces. Only a single word longer
/// than `max` (a long URL, say) is cut inside the word.
fn pieces(chars: &[char], start: usize, end: usize, max: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = start;
    while end - s > max {
        let limit = s + max;
        // The last space within the limit; cut before it.
        let cut = (s + 1..=limit).rev().find(|&k| chars[k].is_whitespace());
        let (piece_end, next) = match cut {
            Some(k) => (k, k),
            None => (limit, limit),
        };
        push_trimmed(chars, s, piece_end, &mut out);
        s = next;
        while s < end && chars[s].is_whitespace() {
            s += 1;
        }
    }
    push_trimmed(chars, s, end, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        sentences(&chars, 0, chars.len())
            .into_iter()
            .map(|(s, e)| chars[s..e].iter().collect())
            .collect()
    }

    #[test]
    fn sentence_ends() {
        assert_eq!(
            split("One. Two! \"Three?\" Four e.g. five. 6 is next.\n- list"),
            [
                "One.",
                "Two!",
                "\"Three?\"",
                "Four e.g. five.",
                "6 is next.",
                "- list"
            ]
        );
        assert_eq!(split("3.5 baths. Done"), ["3.5 baths.", "Done"]);
        assert_eq!(
            split("1. Buyers pay. Mr. Smith signs."),
            ["1. Buyers pay.", "Mr. Smith signs."]
        );
        assert_eq!(split("  "), Vec::<String>::new());
    }

    #[test]
    fn long_sentences_split_at_spaces() {
        let text = "aaaa bbbb cccc dddd";
        let chars: Vec<char> = text.chars().collect();
        let got: Vec<String> = pieces(&chars, 0, chars.len(), 9)
            .into_iter()
            .map(|(s, e)| chars[s..e].iter().collect())
            .collect();
        assert_eq!(got, ["aaaa bbbb", "cccc dddd"]);
        let long: Vec<char> = "x".repeat(25).chars().collect();
        let got = pieces(&long, 0, long.len(), 10);
        assert_eq!(got, [(0, 10), (10, 20), (20, 25)]);
    }
}
