//! Email addresses and phone numbers from contact lists.

use serde::Serialize;

/// A checked email address, lowercased so that it can be compared and used as a
/// key (`Sara@Agency.ae` and `sara@agency.ae` are one mailbox in practice).
/// Accepts `mailto:` links and `Name <address>`.
pub fn parse_email(text: &str) -> Result<String, String> {
    let t = text.trim();
    let t = match (t.rfind('<'), t.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => t,
    };
    let t = t.strip_prefix("mailto:").unwrap_or(t).trim();
    let bad = |why: &str| format!("not an email address ({why})");
    let (local, domain) = t.rsplit_once('@').ok_or_else(|| bad("no @"))?;
    if local.is_empty() || local.contains('@') {
        return Err(bad("one @ with a name before it expected"));
    }
    if t.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
    {
        return Err(bad("contains spaces or separators; one address per cell"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad("the domain after @ is not like agency.ae"));
    }
    Ok(t.to_lowercase())
}

/// A phone number as written and in a compact form.
///
/// `number` keeps only digits, with a leading `+` when the number is
/// international (`+971 50 123 4567` and `00971501234567` both become
/// `+971501234567`). A number written without a country code stays in its
/// national form (`0501234567`): we do not guess the country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phone {
    pub number: String,
    pub original: String,
}

impl Phone {
    pub fn is_international(&self) -> bool {
        self.number.starts_with('+')
    }
}

/// Digits with an optional leading `+` (or `00`), 6 to 15 digits, written with
/// any of spaces, dashes, dots, slashes and parentheses.
pub fn parse_phone(text: &str) -> Result<Phone, String> {
    let original = text.trim();
    // ASCII lowercasing keeps byte offsets, so `rest` can index `original`.
    let lower = original.to_ascii_lowercase();
    let t = ["tel:", "tel.", "tel", "ph:", "mob:", "m:", "t:"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .map_or(original, |rest| &original[original.len() - rest.len()..])
        .trim();
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in t.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            _ => {
                return Err(format!(
                    "not a phone number: unexpected {c:?}; one number per cell, digits with an optional +"
                ));
            }
        }
    }
    if !plus && let Some(rest) = digits.strip_prefix("00") {
        digits = rest.to_string();
        plus = true;
    }
    if !(6..=15).contains(&digits.len()) {
        return Err(format!(
            "not a phone number: {} digits, expected 6 to 15",
            digits.len()
        ));
    }
    Ok(Phone {
        number: if plus { format!("+{digits}") } else { digits },
        original: original.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let ok = [
            ("sara@agency.ae", "sara@agency.ae"),
            (" Sara.Ahmed@Agency.AE ", "sara.ahmed@agency.ae"),
            ("mailto:j@x.co.uk", "j@x.co.uk"),
            ("Sara Ahmed <sara@agency.ae>", "sara@agency.ae"),
            ("a+tag@münchen.de", "a+tag@münchen.de"),
        ];
        for (input, want) in ok {
            assert_eq!(parse_email(input).as_deref(), Ok(want), "{input:?}");
        }
        for bad in [
            "sara",
            "sara@",
            "@agency.ae",
            "sara@agency",
            "sara@@agency.ae",
            "sara @agency.ae",
            "a@b.ae, c@d.ae",
            "sara@agency..ae",
            "sara@-agency.ae",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phones() {
        let p = |n: &str| parse_phone(n).map(|p| p.number);
        assert_eq!(p("+971 50 123 4567").as_deref(), Ok("+971501234567"));
        assert_eq!(p("00971-50-123-4567").as_deref(), Ok("+971501234567"));
        assert_eq!(p("(050) 123.4567").as_deref(), Ok("0501234567"));
        assert_eq!(p("971501234567").as_deref(), Ok("971501234567"));
        assert_eq!(p("Tel: +44 20 7946 0958").as_deref(), Ok("+442079460958"));
        assert_eq!(
            parse_phone(" +971 50 123 4567 ").unwrap().original,
            "+971 50 123 4567"
        );
        for bad in [
            "12345",
            "+1234567890123456",
            "050 123 4567 ext 2",
            "n/a",
            "+",
            "5+5",
        ] {
            assert!(parse_phone(bad).is_err(), "{bad:?}");
        }
    }
}
