//! Money display shared by the device core (reading prices typed in a query) and the UI
//! (showing them): amounts travel as integer minor units plus an ISO 4217 code.

/// Digits after the decimal point of a currency's minor unit (ISO 4217).
pub fn minor_unit_exponent(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XOF" | "XAF" | "PYG" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "IQD" | "LYD" | "TND" => 3,
        _ => 2,
    }
}

/// `AED 1,150,000` — whole units, grouped by thousands; fractions only when present
/// (`USD 1,210.50`).
pub fn format_amount(amount_minor: i64, currency: &str) -> String {
    let exp = minor_unit_exponent(currency);
    let scale = 10i64.pow(exp);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    let whole = abs / scale as u64;
    let frac = abs % scale as u64;
    let mut out = format!("{currency} {sign}{}", group_thousands(whole));
    if frac != 0 {
        out.push_str(&format!(".{frac:0width$}", width = exp as usize));
    }
    out
}

/// `AED 1.15M`, `AED 850K`: short form for cards and chips.
pub fn format_amount_short(amount_minor: i64, currency: &str) -> String {
    let units = amount_minor as f64 / 10f64.powi(minor_unit_exponent(currency) as i32);
    let (value, suffix) = match units.abs() {
        u if u >= 1e9 => (units / 1e9, "B"),
        u if u >= 1e6 => (units / 1e6, "M"),
        u if u >= 1e3 => (units / 1e3, "K"),
        _ => (units, ""),
    };
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{currency} {text}{suffix}")
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_amounts_follow_the_currency_exponent() {
        assert_eq!(format_amount(115_000_000, "AED"), "AED 1,150,000");
        assert_eq!(format_amount(121_050, "USD"), "USD 1,210.50");
        assert_eq!(format_amount(5_000, "JPY"), "JPY 5,000");
        assert_eq!(format_amount(1_234_567, "KWD"), "KWD 1,234.567");
        assert_eq!(format_amount(-250, "EUR"), "EUR -2.50");
        assert_eq!(format_amount(0, "AED"), "AED 0");
    }

    #[test]
    fn short_amounts_drop_trailing_zeros() {
        assert_eq!(format_amount_short(115_000_000, "AED"), "AED 1.15M");
        assert_eq!(format_amount_short(85_000_000, "AED"), "AED 850K");
        assert_eq!(format_amount_short(200_000_000, "AED"), "AED 2M");
        assert_eq!(format_amount_short(12_500_000_000, "GBP"), "GBP 125M");
        assert_eq!(format_amount_short(99_900, "USD"), "USD 999");
        assert_eq!(format_amount_short(450_000_000_000, "AED"), "AED 4.5B");
    }

    #[test]
    fn groups() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000), "1,000");
        assert_eq!(group_thousands(12_345_678), "12,345,678");
    }
}
