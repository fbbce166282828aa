/// Photo URLs in one cell, separated by `|`, `;` or whitespace. Commas are left
/// alone because they are legal inside URLs.
pub fn parse_photos(text: &str) -> Result<Vec<String>, String> {
    let urls: Vec<String> = text
        .split(|c: char| c == '|' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = urls.iter().find(|u| !is_http_url(u)) {
        return Err(format!("{bad:?} is not an http(s) URL"));
    }
    Ok(urls)
}

fn is_http_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| r.split('/').next().is_some_and(|host| !host.is_empty()))
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
}
