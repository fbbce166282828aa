//! Decoding text files. Spreadsheet tools still write Windows-1252 by default in
//! many locales, so invalid UTF-8 falls back to it instead of failing.

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
use serde::Serialize;

use crate::error::FileErrorKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    /// Excel's "Unicode text" export.
    Utf16Le,
    Utf16Be,
    /// Also covers Latin-1 (ISO-8859-1), which it is a superset of for text.
    Windows1252,
}

pub fn decode(bytes: &[u8]) -> Result<(String, TextEncoding), FileErrorKind> {
    let (text, encoding) = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        (utf16(rest, UTF_16LE)?, TextEncoding::Utf16Le)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        (utf16(rest, UTF_16BE)?, TextEncoding::Utf16Be)
    } else {
        let (rest, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (rest, true),
            None => (bytes, false),
        };
        match (std::str::from_utf8(rest), bom) {
            (Ok(s), false) => (s.to_string(), TextEncoding::Utf8),
            (Ok(s), true) => (s.to_string(), TextEncoding::Utf8Bom),
            // Every byte means something in Windows-1252, so this cannot fail;
            // `check_textual` catches binary that slips through.
            (Err(_), _) => (
                WINDOWS_1252
                    .decode_without_bom_handling(rest)
                    .0
                    .into_owned(),
                TextEncoding::Windows1252,
            ),
        }
    };
    check_textual(&text)?;
    if text.trim().is_empty() {
        return Err(FileErrorKind::Empty);
    }
    Ok((text, encoding))
}

fn utf16(bytes: &[u8], encoding: &'static encoding_rs::Encoding) -> Result<String, FileErrorKind> {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(FileErrorKind::Binary("invalid UTF-16 text".into()));
    }
    Ok(text.into_owned())
}

/// Rejects content that decodes but is not text: NUL bytes, replacement
/// characters or control characters in more than a trace amount.
fn check_textual(text: &str) -> Result<(), FileErrorKind> {
    if text.contains('\0') {
        return Err(FileErrorKind::Binary("it contains NUL bytes".into()));
    }
    let mut total = 0usize;
    let mut odd = 0usize;
    for c in text.chars() {
        total += 1;
        let control = c.is_control() && !matches!(c, '\t' | '\r' | '\n');
        if control || c == char::REPLACEMENT_CHARACTER {
            odd += 1;
        }
    }
    if odd > 0 && odd * 100 >= total {
        return Err(FileErrorKind::Binary(format!(
            "{odd} of {total} characters are control or invalid characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(decode(b"a,b").unwrap(), ("a,b".into(), TextEncoding::Utf8));
        assert_eq!(
            decode(b"\xEF\xBB\xBFa,b").unwrap(),
            ("a,b".into(), TextEncoding::Utf8Bom)
        );
        assert_eq!(
            decode(b"Jos\xE9,M\xFCller").unwrap(),
            ("José,Müller".into(), TextEncoding::Windows1252)
        );
        assert_eq!(
            decode(b"\xFF\xFEa\0,\0b\0").unwrap(),
            ("a,b".into(), TextEncoding::Utf16Le)
        );
        assert_eq!(decode("€ 5".as_bytes()).unwrap().1, TextEncoding::Utf8);
    }

    #[test]
    fn binary_is_rejected() {
        assert!(matches!(decode(b"a,b\0c"), Err(FileErrorKind::Binary(_))));
        assert!(matches!(
            decode(b"\x01\x02\x03\x04abc"),
            Err(FileErrorKind::Binary(_))
        ));
        assert!(matches!(
            decode(b"\xEF\xBB\xBF \r\n"),
            Err(FileErrorKind::Empty)
        ));
    }
}
