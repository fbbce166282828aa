//! Coordinates in decimal degrees.

pub fn parse_latitude(text: &str) -> Result<f64, String> {
    degrees(text, 90.0, "latitude")
}

pub fn parse_longitude(text: &str) -> Result<f64, String> {
    degrees(text, 180.0, "longitude")
}

fn degrees(text: &str, limit: f64, what: &str) -> Result<f64, String> {
    // Coordinates are never grouped, so a lone comma can only be a decimal comma.
    let t = text.trim().replace(',', ".");
    let plain = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'));
    let value: f64 = match t.parse() {
        Ok(v) if plain => v,
        _ => return Err(format!("{what} is not a decimal number")),
    };
    if !value.is_finite() || value.abs() > limit {
        return Err(format!("{what} out of range -{limit}..{limit}"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(parse_latitude("25.1972"), Ok(25.1972));
        assert_eq!(parse_latitude(" -33.86 "), Ok(-33.86));
        assert_eq!(parse_latitude("25,1972"), Ok(25.1972));
        assert_eq!(parse_longitude("55.2744"), Ok(55.2744));
        assert_eq!(parse_longitude("-180"), Ok(-180.0));
        assert!(parse_latitude("91").unwrap_err().contains("out of range"));
        assert!(
            parse_longitude("180.5")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(parse_latitude("25°N").is_err());
        assert!(parse_latitude("NaN").is_err());
        assert!(parse_latitude("inf").is_err());
        assert!(parse_latitude("1e1").is_err());
    }
}
