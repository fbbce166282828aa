//! Format detection by content: file names lie (an `.xlsx` renamed `.csv` is common).

use crate::error::FileErrorKind;

pub enum Kind {
    Xlsx,
    Xls,
    Text,
}

const ZIP: &[u8] = b"PK\x03\x04";
const OLE: &[u8] = b"\xD0\xCF\x11\xE0";

/// Other formats people upload by mistake, named so the error can say so.
const KNOWN_BINARIES: &[(&[u8], &str)] = &[
    (b"%PDF-", "a PDF document"),
    (b"\x1F\x8B", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xFF\xD8\xFF", "a JPEG image"),
    (b"PK\x05\x06", "an empty zip archive"),
];

pub fn sniff(bytes: &[u8]) -> Result<Kind, FileErrorKind> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileErrorKind::Empty);
    }
    if bytes.starts_with(ZIP) {
        return Ok(Kind::Xlsx);
    }
    if bytes.starts_with(OLE) {
        return Ok(Kind::Xls);
    }
    if let Some((_, what)) = KNOWN_BINARIES.iter().find(|(m, _)| bytes.starts_with(m)) {
        return Err(FileErrorKind::Binary(format!("it is {what}")));
    }
    Ok(Kind::Text)
}
