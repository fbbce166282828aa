/// Where Roost serves images a company uploaded (`POST /api/v1/media`); a photo may name
/// one as `/api/v1/media/<id>`.
const MEDIA_PREFIX: &str = "/api/v1/media/";

/// Photo references in one cell, separated by `|`, `;` or whitespace. Commas are left
/// alone because they are legal inside URLs. Each is an absolute http(s) URL (a company's
/// CDN) or a Roost media path `/api/v1/media/<id>` (stored with a lower-case id).
pub fn parse_photos(text: &str) -> Result<Vec<String>, String> {
    text.split(|c: char| c == '|' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(parse_photo)
        .collect()
}

fn parse_photo(text: &str) -> Result<String, String> {
    if is_http_url(text) {
        return Ok(text.to_string());
    }
    if let Some(id) = text.strip_prefix(MEDIA_PREFIX) {
        return if is_uuid(id) {
            Ok(format!("{MEDIA_PREFIX}{}", id.to_ascii_lowercase()))
        } else {
            Err(format!(
                "{text:?} is not a Roost media path: expected {MEDIA_PREFIX}<id> with the id \
                 POST /api/v1/media answered"
            ))
        };
    }
    if text.starts_with('/') {
        return Err(format!(
            "{text:?} is a relative path; a photo is an http(s) URL or a Roost media path \
             {MEDIA_PREFIX}<id>"
        ));
    }
    Err(format!("{text:?} is not an http(s) URL"))
}

fn is_http_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| r.split('/').next().is_some_and(|host| !host.is_empty()))
}

/// A hyphenated UUID (8-4-4-4-12 hex digits), the one form media paths use.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let two = vec![
            "https://a.example/1.jpg".to_string(),
            "http://b.example/2.jpg".to_string(),
        ];
        for input in [
            "https://a.example/1.jpg|http://b.example/2.jpg",
            "https://a.example/1.jpg; http://b.example/2.jpg",
            "https://a.example/1.jpg\nhttp://b.example/2.jpg",
            " https://a.example/1.jpg  http://b.example/2.jpg ",
        ] {
            assert_eq!(parse_photos(input).as_ref(), Ok(&two), "{input:?}");
        }
        assert_eq!(
            parse_photos("https://cdn.example/w=800,h=600/x.jpg"),
            Ok(vec!["https://cdn.example/w=800,h=600/x.jpg".to_string()])
        );
        assert!(
            parse_photos("photo1.jpg")
                .unwrap_err()
                .contains("photo1.jpg")
        );
        assert!(parse_photos("https://").is_err());
    }

    #[test]
    fn roost_media_paths_and_no_other_relative_path() {
        let id = "0190C2A4-1F0E-7C3A-9D2B-5E6F7A8B9C0D";
        assert_eq!(
            parse_photos(&format!("/api/v1/media/{id} | https://cdn.example/a.jpg")),
            Ok(vec![
                "/api/v1/media/0190c2a4-1f0e-7c3a-9d2b-5e6f7a8b9c0d".to_string(),
                "https://cdn.example/a.jpg".to_string(),
            ])
        );
        for (bad, says) in [
            ("/photos/1.jpg", "is a relative path"),
            ("/api/v1/media", "is a relative path"),
            ("/api/v1/media/", "is not a Roost media path"),
            ("/api/v1/media/123", "is not a Roost media path"),
            (
                "/api/v1/media/0190c2a41f0e7c3a9d2b5e6f7a8b9c0d",
                "is not a Roost media path",
            ),
            (
                "/api/v1/media/0190c2a4-1f0e-7c3a-9d2b-5e6f7a8b9c0d/../x",
                "is not a Roost media path",
            ),
            (
                "api/v1/media/0190c2a4-1f0e-7c3a-9d2b-5e6f7a8b9c0d",
                "is not an http(s) URL",
            ),
            ("./1.jpg", "is not an http(s) URL"),
        ] {
            let err = parse_photos(bad).unwrap_err();
            assert!(err.contains(says) && err.contains(bad), "{bad}: {err}");
        }
    }
}
