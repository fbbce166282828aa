/// Yes/no cells. Furnishing columns often hold words rather than flags; part
/// furnished still means furniture is there, so it reads as `true`.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    let key: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect();
    match key.as_str() {
        "y" | "yes" | "true" | "t" | "1" | "furnished" | "semifurnished" | "partlyfurnished"
        | "partfurnished" => Ok(true),
        "n" | "no" | "false" | "f" | "0" | "unfurnished" | "notfurnished" => Ok(false),
        _ => Err("expected yes or no".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        for s in [
            "Y",
            "yes",
            "TRUE",
            "1",
            "Furnished",
            "semi-furnished",
            " t ",
        ] {
            assert_eq!(parse_bool(s), Ok(true), "{s:?}");
        }
        for s in ["N", "no", "False", "0", "Unfurnished", "f"] {
            assert_eq!(parse_bool(s), Ok(false), "{s:?}");
        }
        for s in ["maybe", "2", "yess"] {
            assert!(parse_bool(s).is_err(), "{s:?}");
        }
    }
}
